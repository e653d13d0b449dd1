#!/usr/bin/env bash
# Times a list of `ptxgen bench` configurations on the GPU in one call: builds ptxgen (Release),
# then for every non-empty, non-comment line of each LIST file runs
#   ptxgen bench <line> --device cuda --repeats 3
# and prints one row per line: the configuration, the kernel's rotated median (us), its fraction
# of the copy bandwidth and its L2-resident median, with the registers ptxas gives the kernel for
# sm_90 when ptxas is on the machine. Full outputs go to $OUT/sweep.log, the table to
# $OUT/sweep.txt. A line that fails prints FAILED with the error's last line.
#
#   bash tests/gpu/sweep.sh tests/gpu/sweeps/gemv_b1.txt [MORE_LISTS...]
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: tests/gpu/sweep.sh LIST [LIST...]" >&2; exit 2; }
out=${OUT:-/tmp/ptxsmith-gpu}
mkdir -p "$out"
export PTXSMITH_CACHE_DIR=/tmp/ptxsmith-sweep-cache  # not under $OUT: the cubins need not come back
if [ ! -x build-gpu/ptxgen/cli/ptxgen ] || [ "${SWEEP_REBUILD:-1}" = 1 ]; then
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=OFF >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
  cmake --build build-gpu --target ptxgen_cli -j"$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
fi
ptxgen=build-gpu/ptxgen/cli/ptxgen
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)

registers() {  # registers of the kernel a configuration builds, for sm_90 ("?" without ptxas)
  [ -x "$ptxas" ] || { echo "?"; return; }
  "$ptxgen" emit "$@" --target sm_90 -o "$out/sweep.ptx" >/dev/null 2>&1 || { echo "?"; return; }
  "$ptxas" -arch=sm_90 -v "$out/sweep.ptx" -o /dev/null 2>&1 | sed -n 's/.*Used \([0-9]*\) registers.*/\1/p' | head -1
}

exec 3>"$out/sweep.log"
{
  "$ptxgen" devices 2>&1 | head -3
  printf '%-100s %10s %8s %10s %5s\n' "configuration" "rotated us" "% copy" "L2 us" "regs"
  for list in "$@"; do
    while IFS= read -r line; do
      case "$line" in ''|'#'*) continue ;; esac
      # $line is split into its words on purpose.
      # shellcheck disable=SC2086
      r=$("$ptxgen" bench $line --device cuda --repeats 3 2>&1)
      printf '== %s\n%s\n' "$line" "$r" >&3
      # shellcheck disable=SC2086
      regs=$(registers $line)
      awk -v cfg="$line" -v regs="${regs:-?}" '
        /^rotated \(/ && !rot { rot = $(NF-5); pct = $NF }
        /^L2-resident/ && !l2 { l2 = $(NF-5) }
        END { if (rot != "") printf "%-100s %10s %8s %10s %5s\n", cfg, rot, pct, l2, regs }' <<<"$r"
      grep -q '^rotated' <<<"$r" || echo "$line FAILED: $(tail -1 <<<"$r")"
    done <"$list"
  done
  "$ptxgen" bench q4k_gemv --n 4096 --k 14336 --device cuda --repeats 3 | sed -n '/^copy/p'
} 2>&1 | tee "$out/sweep.txt"
