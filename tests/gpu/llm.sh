#!/usr/bin/env bash
# One call on the GPU machine for the model runner (issue 8): builds ptxsmith-llm and
# forward_check (Release), makes the tiny, 1b and 8b models with the model maker, compares the
# kernel forward with the CPU reference on the GPU (layer by layer, then greedy tokens) on tiny and
# 1b, runs one decode step of tiny under compute-sanitizer, and benchmarks generation and prompt
# processing. A summary goes to stdout and $OUT/summary.txt; every log to $OUT/logs.tgz.
#   bash tests/gpu/llm.sh [STAGES]   STAGES: any of build,models,check,sanitize,generate,bench
#                                    (default all); models stay in /tmp/ptxsmith-models
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
logs=/tmp/ptxsmith-llm-logs
mkdir -p "$out" "$logs"
export PTXSMITH_CACHE_DIR=/tmp/ptxsmith-llm-cache
models=/tmp/ptxsmith-models
mkdir -p "$models"
stages=${1:-build,models,check,sanitize,generate,bench}
has() { case ",$stages," in *",$1,"*) return 0 ;; esac; return 1; }
exec > >(tee "$out/summary.txt") 2>&1
trap 'tar czf "$out/logs.tgz" -C "$logs" . 2>/dev/null' EXIT
llm=build-gpu/examples/llm/ptxsmith-llm
check=build-gpu/tests/llm/forward_check
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /'
date -u

if has build || [ ! -x "$llm" ]; then
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=ON >"$logs/configure.log" 2>&1 || { cat "$logs/configure.log"; exit 1; }
  cmake --build build-gpu --target ptxsmith_llm_cli forward_check -j"$(nproc)" >"$logs/build.log" 2>&1 || { tail -50 "$logs/build.log"; exit 1; }
  echo "built"
fi

if has models; then
  for p in tiny 1b 8b; do
    [ -f "$models/$p.gguf" ] || { /usr/bin/time -f "make-model $p: %e s, %M KB peak" "$llm" make-model --preset "$p" -o "$models/$p.gguf" >"$logs/make_$p.log" 2>&1; tail -1 "$logs/make_$p.log"; }
  done
fi

if has check; then
  echo "== forward_check on the GPU =="
  for p in tiny 1b; do
    timeout 200 "$check" "$models/$p.gguf" --device cuda >"$logs/check_$p.txt" 2>&1 || status=1
    echo "$p: $(tail -1 "$logs/check_$p.txt")"; grep -E '^  |greedy|differs|chose' "$logs/check_$p.txt" | head -20 | sed 's/^/  /'
  done
fi

if has sanitize; then
  echo "== compute-sanitizer on one decode step of tiny (no graph) =="
  for tool in memcheck racecheck; do
    timeout 200 "$sanitizer" --tool $tool --error-exitcode 9 "$check" "$models/tiny.gguf" --device cuda --steps 1 --prompts 1 --tokens 1 --no-graph \
      >"$logs/sanitizer_$tool.txt" 2>&1
    rc=$?; echo "$tool: exit $rc, $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/sanitizer_$tool.txt" | tail -1)"; [ $rc = 0 ] || status=1
  done
fi

if has generate; then
  echo "== ptxsmith-llm generate (tiny, cuda, greedy) =="
  "$llm" generate -m "$models/tiny.gguf" -p "Once upon a time" -n 32 --temp 0 --device cuda 2>"$logs/generate_tiny.err" | head -c 300; echo
  grep -E 'device|prompt:|generated:' "$logs/generate_tiny.err"
fi

if has bench; then
  echo "== benchmarks =="
  for p in tiny 1b 8b; do
    echo "-- $p: ptxsmith-llm bench -m $p.gguf -p 16 -n 128 --device cuda --profile"
    timeout 240 "$llm" bench -m "$models/$p.gguf" -p 16 -n 128 --device cuda --profile 2>"$logs/bench_${p}_tg.err" || { status=1; tail -5 "$logs/bench_${p}_tg.err"; }
    echo "-- $p: ptxsmith-llm bench -m $p.gguf -p 512 -n 0 --device cuda --no-jit"
    timeout 120 "$llm" bench -m "$models/$p.gguf" -p 512 -n 0 --device cuda --no-jit 2>"$logs/bench_${p}_pp.err" | grep -E '^(pp|ttft)' || { status=1; tail -5 "$logs/bench_${p}_pp.err"; }
  done
fi
exit $status
