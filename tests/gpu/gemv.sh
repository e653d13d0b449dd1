#!/usr/bin/env bash
# One call on the GPU machine for the matrix-vector products: builds ptxgen and the GPU kernel
# tests (Release), checks every registered kernel (the GEMV families at their full-size GPU shapes
# too) against the CPU reference, then runs the benchmark list (bench/gpu_bench.sh). Logs go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=$out/cache

cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=ON >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build build-gpu --target ptxgen_cli gpu_kernel_tests -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen
"$ptxgen" devices

status=0
echo "== every registered kernel on the GPU: defaults, test shapes, full-size GPU shapes =="
build-gpu/tests/gpu_kernel_tests >"$out/gpu_kernel_tests.txt" 2>&1 || status=1
grep -E '^FAIL' "$out/gpu_kernel_tests.txt"; tail -1 "$out/gpu_kernel_tests.txt"

echo "== benchmarks =="
bash bench/gpu_bench.sh "$ptxgen" "$out" | sed -n '/== summary/,$p'
exit $status
