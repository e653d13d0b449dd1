#!/usr/bin/env bash
# One call on the GPU machine for the tensor-core (mma) matrix-vector strategy: checks q4k_gemv and
# q6k_gemv at every registered shape (their full-size GPU shapes included) against the CPU
# reference, then times mma against dp4a at Llama-3-8B's shapes over rows per warp and K splits.
# Knobs (environment): MMA_FAMILIES, MMA_SHAPES (comma-separated), MMA_BATCHES, MMA_ROWS,
# MMA_KSPLITS, GPU_TEST_FAMILIES. Logs go to $OUT (tests.txt, sweep.txt).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=$out/cache
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=ON >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build build-gpu --target ptxgen_cli gpu_kernel_tests -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen
status=0
stdbuf -oL build-gpu/tests/gpu_kernel_tests ${GPU_TEST_FAMILIES:-q4k_gemv q6k_gemv} >"$out/tests.txt" 2>&1 || status=1
grep -E '^FAIL' "$out/tests.txt"; tail -1 "$out/tests.txt"

bench() {  # prints: config, rotated median us, % of copy (the kernel's row, not its companion's)
  local r
  r=$("$ptxgen" bench "$@" --device cuda --repeats 3 2>&1)
  awk -v cfg="$*" '/^rotated \(/ && !done { printf "%-90s %9s us %7s\n", cfg, $(NF-5), $NF; done = 1 }' <<<"$r"
  grep -q '^rotated' <<<"$r" || echo "$* FAILED: $(tail -2 <<<"$r" | tr '\n' ' ')"
}
IFS=, read -r -a shapes <<<"${MMA_SHAPES:---n 4096 --k 14336,--n 14336 --k 4096 --epilogue swiglu --out q8_1,--n 4096 --k 4096,--n 1024 --k 4096}"
{
  for family in ${MMA_FAMILIES:-q4k_gemv q6k_gemv}; do
    for shape in "${shapes[@]}"; do
      for batch in ${MMA_BATCHES:-8 4 2}; do
        # $shape is split into its words on purpose.
        # shellcheck disable=SC2086
        [ "$batch" -le 8 ] && bench $family $shape --batch $batch --strategy dp4a
        rows_list=${MMA_ROWS:-16 32}
        [ "$family" = q6k_gemv ] && rows_list=16  # Q6_K takes one m16 tile per warp
        for rows in $rows_list; do for ks in ${MMA_KSPLITS:-1 2 4 8}; do
          warps=$ks; [[ $shape == *q8_1* ]] && warps=$((32 / rows * ks))
          # shellcheck disable=SC2086
          bench $family $shape --batch $batch --strategy mma --rows $rows --ksplit $ks --warps $warps
        done; done
      done
    done
  done
} | tee "$out/sweep.txt"
exit $status
