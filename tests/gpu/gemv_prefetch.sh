#!/usr/bin/env bash
# Sweep of the L2 prefetching knobs of the one-vector products at the shapes an 8B model's decode
# step runs (--l2fetch: the L2 fetch size of each weight load; --ahead: groups of steps whose
# weights each lane prefetches into L2 before loading them). Builds ptxgen first; prints one line
# per configuration (rotated median, % of copy) to stdout and $OUT/prefetch.txt.
# PREFETCH_FETCH and PREFETCH_AHEAD (space-separated) narrow the sweep.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=$out/cache
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=OFF >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build build-gpu --target ptxgen_cli -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen

bench() {  # prints: config, rotated median us, % of copy (the kernel's row, not its companion's)
  local r
  r=$("$ptxgen" bench "$@" --device cuda --repeats 3 2>&1)
  awk -v cfg="$*" '/^rotated \(/ && !done { printf "%-96s %9s us %7s\n", cfg, $(NF-5), $NF; done = 1 }' <<<"$r"
  grep -q '^rotated' <<<"$r" || echo "$* FAILED: $(tail -2 <<<"$r" | tr '\n' ' ')"
}
exec > >(tee "$out/prefetch.txt") 2>&1
shapes=(
  "q4k_gemv --n 14336 --k 4096 --epilogue swiglu --out q8_1"
  "q4k_gemv --n 4096 --k 14336 --epilogue residual"
  "q6k_gemv --n 4096 --k 14336 --epilogue residual"
  "q4k_gemv --n 4096 --k 4096 --epilogue residual"
  "q4k_gemv --n 6144 --k 4096"
  "q6k_gemv --n 1024 --k 4096"
  "q6k_gemv --n 128256 --k 4096"
)
for shape in "${shapes[@]}"; do
  for fetch in ${PREFETCH_FETCH:-0 128 256}; do
    for ahead in ${PREFETCH_AHEAD:-0 1 2 4}; do
      bench $shape --l2fetch "$fetch" --ahead "$ahead"
    done
  done
done
"$ptxgen" bench q4k_gemv --n 4096 --k 14336 --device cuda --repeats 3 | sed -n '/^copy/p'
