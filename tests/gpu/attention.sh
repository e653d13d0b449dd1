#!/usr/bin/env bash
# One call on the GPU machine for the attention kernels (rope_kv_scatter, decode_attention,
# flash_attention): builds ptxgen and the GPU kernel tests (Release), checks every registered kernel
# against its CPU reference, runs compute-sanitizer memcheck and racecheck on one launch of each
# attention family, and benchmarks the issue's shapes. Logs go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=$out/cache
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build build-gpu --target ptxgen_cli gpu_kernel_tests -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
status=0

echo "== every registered kernel on the GPU =="
build-gpu/tests/gpu_kernel_tests >"$out/gpu_kernel_tests.txt" 2>&1 || status=1
grep -E '^FAIL' "$out/gpu_kernel_tests.txt"; tail -1 "$out/gpu_kernel_tests.txt"

families=$("$ptxgen" list --names | grep -E '^(rope_kv_scatter|decode_attention|flash_attention)$')
echo "== compute-sanitizer (memcheck, racecheck) =="
for f in $families; do
  for tool in memcheck racecheck; do
    "$sanitizer" --tool "$tool" --error-exitcode 9 "$ptxgen" run "$f" --device cuda >"$out/sanitizer_${f}_$tool.txt" 2>&1
    rc=$?
    echo "$f $tool: exit $rc, $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/sanitizer_${f}_$tool.txt" | tail -1)"
    [ $rc = 0 ] || status=1
  done
done

echo "== benchmarks =="
bench() { "$ptxgen" bench "$@" --device cuda 2>&1 | grep -E '^(kernel|rotated|L2-resident|copy)' | sed "s|^|  |"; }
for f in $families; do
  case $f in
    decode_attention)
      for len in 4096 8192 16384; do echo "decode_attention len $len"; bench decode_attention --head-dim 128 --q-heads 32 --kv-heads 8 --len $len --max-seq 16384; done ;;
    flash_attention)
      for len in 2048 4096; do echo "flash_attention len $len"; bench flash_attention --head-dim 128 --q-heads 32 --kv-heads 8 --len $len --pos 0 --max-seq 4096; done ;;
    rope_kv_scatter)
      for t in 1 512; do echo "rope_kv_scatter tokens $t"; bench rope_kv_scatter --head-dim 128 --q-heads 32 --kv-heads 8 --tokens $t --max-seq 4096; done ;;
  esac
done
exit $status
