#!/usr/bin/env bash
# Nsight Compute profile of the GEMV products at the issue's target shape (one launch each),
# for finding what limits them. Builds ptxgen first. Reports go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=OFF >"$out/configure.log" 2>&1 || exit 1
cmake --build build-gpu --target ptxgen_cli -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
ptxgen=build-gpu/ptxgen/cli/ptxgen
ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
for cfg in "q4k_gemv --n 4096 --k 14336" "q6k_gemv --n 4096 --k 14336" "q8_0_gemv --n 4096 --k 14336" "q4k_gemv --n 4096 --k 14336 --batch 8 --strategy dp4a"; do
  name=$(echo $cfg | tr ' ' '_' | tr -d '-')
  # shellcheck disable=SC2086
  "$ncu" --clock-control none -k regex:gemv --launch-count 1 --section SpeedOfLight --section Occupancy \
    --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis \
    "$ptxgen" run $cfg --device cuda >"$out/ncu_$name.txt" 2>&1
  echo "== $cfg"; grep -E "Duration|Memory Throughput|DRAM Throughput|Compute \(SM\)|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Issued Warp Per|No Eligible|Block Limit|Stall|L1/TEX Hit|L2 Hit" "$out/ncu_$name.txt" | head -30
done
