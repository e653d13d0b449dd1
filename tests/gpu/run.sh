#!/usr/bin/env bash
# One call on the GPU machine: build with all cores, list the devices, run every kernel on the GPU
# against its CPU reference, then the whole test suite (the GPU tests no longer skip there).
# Full logs go to $OUT when it is set.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=$out/cache

cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=ON >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build build-gpu -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen

status=0
echo "== devices =="; "$ptxgen" devices 2>&1 | tee "$out/devices.txt"
echo "== every kernel on the GPU (cold JIT) =="
build-gpu/tests/gpu_kernel_tests 2>&1 | tee "$out/gpu_kernels_cold.txt" || status=1
echo "== again, warm from the disk cache =="
build-gpu/tests/gpu_kernel_tests 2>&1 | tail -1 | tee "$out/gpu_kernels_warm.txt" || status=1
"$ptxgen" cache stats 2>&1 | tee "$out/cache_stats.txt"
echo "== runtime: graphs, NVRTC, JIT timing, launch overhead =="
build-gpu/tests/gpu_runtime_tests 2>&1 | tee "$out/gpu_runtime.txt" || status=1
echo "== ptxgen run --device cuda =="
for k in $("$ptxgen" list --names); do "$ptxgen" run "$k" --device cuda --seed "$RANDOM" | grep -E '^(kernel|ran|max rel|PASS|FAIL)' || status=1; done
echo "== ptxgen inspect --jit =="
"$ptxgen" inspect rmsnorm --jit 2>&1 | tail -8 || status=1
echo "== whole test suite =="
ctest --test-dir build-gpu -j8 --output-on-failure 2>&1 | tee "$out/ctest.txt" | tail -15 || status=1
exit $status
