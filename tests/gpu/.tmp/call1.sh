#!/usr/bin/env bash
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${OUT:-/tmp/o}; mkdir -p "$out"
export PTXSMITH_CACHE_DIR=/tmp/cache
t0=$(date +%s)
el() { echo $(( $(date +%s) - t0 )); }
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=ON >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-gpu --target ptxgen_cli gpu_kernel_tests -j16 >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
echo "built at $(el) s"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
p=build-gpu/ptxgen/cli/ptxgen
timeout 40 stdbuf -oL build-gpu/tests/gpu_kernel_tests decode_attention rope_kv_scatter >"$out/t_att.txt" 2>&1; echo "attention gpu tests rc $? at $(el) s"
grep -E '^FAIL' "$out/t_att.txt" | head -5; tail -1 "$out/t_att.txt"
while read -r line; do timeout 12 $p bench $line --device cuda --repeats 2 2>&1 | grep -E '^(rotated|copy)' | head -2 | sed "s|^|$line: |"; done < tests/gpu/.tmp/dec.txt
echo "decode at $(el) s"
for t in 1 512; do timeout 10 $p bench rope_kv_scatter --head-dim 128 --q-heads 32 --kv-heads 8 --tokens $t --max-seq 4096 --vs-empty --device cuda 2>&1 | grep -E '^(rotated|empty)' | sed "s/^/scatter $t: /"; done
timeout 90 stdbuf -oL build-gpu/tests/gpu_kernel_tests q6k_gemv q4k_gemv >"$out/t_gemv.txt" 2>&1; echo "gemv gpu tests rc $? at $(el) s"
grep -E '^FAIL' "$out/t_gemv.txt" | head -5; tail -1 "$out/t_gemv.txt"
echo "all done at $(el) s"
