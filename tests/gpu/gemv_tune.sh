#!/usr/bin/env bash
# Tuning sweep for the GEMV plans on a GPU: times the 4096 x 14336 product (the issue's target
# shape) over the plan overrides (--unit, --unroll, --warps, --rows), and dumps the SASS and
# register use of the default plan. Builds ptxgen first. Logs to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=$out/cache
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=OFF >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build build-gpu --target ptxgen_cli -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen
cuda=/usr/local/cuda/bin

for f in q4k_gemv q6k_gemv; do
  "$ptxgen" emit $f --n 4096 --k 14336 -o "$out/$f.ptx" >/dev/null
  $cuda/ptxas -arch=sm_90 -v "$out/$f.ptx" -o "$out/$f.cubin" 2>&1 | grep -E 'registers'
  $cuda/cuobjdump --dump-sass "$out/$f.cubin" >"$out/$f.sass" 2>&1
done

bench() {  # prints: config, rotated median us, % of copy (the kernel's row, not its companion's)
  local r
  r=$("$ptxgen" bench "$@" --device cuda --repeats 3 2>&1)
  awk -v cfg="$*" '/^rotated \(/ && !done { printf "%-80s %9s us %7s\n", cfg, $(NF-5), $NF; done = 1 }' <<<"$r"
  grep -q '^rotated' <<<"$r" || echo "$* FAILED: $(tail -2 <<<"$r" | tr '\n' ' ')"
}
exec > >(tee "$out/tune.txt") 2>&1
shape="--n 4096 --k 14336"
for f in q4k_gemv q6k_gemv; do
  for rows in 2 3 4; do for unit in 32 64; do for warps in 2 4 8; do for ks in 1 2; do
    bench $f $shape --batch 1 --rows $rows --unit $unit --unroll 1 --warps $((warps * ks)) --ksplit $ks
  done; done; done; done
  for rows in 4 8; do for unit in 32 64; do for warps in 1 2 4; do
    bench $f $shape --batch 8 --strategy dp4a --rows $rows --unit $unit --unroll 1 --warps $warps
  done; done; done
done
for rows in 2 4; do for ks in 1 2 4; do bench q8_0_gemv $shape --batch 1 --rows $rows --warps $((2 * ks)) --ksplit $ks; done; done
for rows in 4 8; do for warps in 1 2 4; do bench q8_0_gemv $shape --batch 8 --rows $rows --warps $warps; done; done
"$ptxgen" bench q4k_gemv $shape --device cuda --repeats 3 | sed -n '/^copy/p'
