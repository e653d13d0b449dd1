#!/usr/bin/env bash
# The GEMV benchmark list, on a GPU: each GEMV family that `ptxgen list --names` knows, at the
# matrix shapes of an 8B Llama-3-class model's decode step (n outputs, k inputs; 128256 is the
# vocabulary), batch 1 and 8, dp4a and fma strategies, each through `ptxgen bench --device cuda`.
#
#   bench/gpu_bench.sh PATH/TO/ptxgen [LOG_DIR]
#
# Prints every result as `ptxgen bench` prints it, then one summary line per run. The whole
# output also goes to LOG_DIR/gpu_bench.txt (LOG_DIR defaults to $OUT when that is set).
# A combination a family rejects as a usage error (exit 2: say a strategy it does not have) is
# listed as skipped; exit status 1 when any run failed or there is no GPU.
set -uo pipefail

ptxgen=${1:?usage: bench/gpu_bench.sh PATH/TO/ptxgen [LOG_DIR]}
log_dir=${2:-${OUT:-}}
if [[ ! -x $ptxgen ]]; then
    echo "gpu_bench.sh: $ptxgen is not an executable ptxgen" >&2
    exit 1
fi
if [[ -n $log_dir ]]; then
    mkdir -p "$log_dir" || exit 1
    exec > >(tee "$log_dir/gpu_bench.txt") 2>&1
fi

families=(q4k_gemv q6k_gemv q8_0_gemv f16_gemv)
shapes=("--n 4096 --k 4096" "--n 1024 --k 4096" "--n 14336 --k 4096" "--n 4096 --k 14336" "--n 128256 --k 4096")
batches=(1 8)
strategies=(dp4a fma)

devices=$("$ptxgen" devices 2>&1)
echo "$devices"
if grep -q '^cuda: not available' <<<"$devices"; then
    echo "gpu_bench.sh: no CUDA GPU here; these benchmarks need one" >&2
    exit 1
fi
known=$("$ptxgen" list --names) || exit 1

status=0
summary=()
for family in "${families[@]}"; do
    if ! grep -qx "$family" <<<"$known"; then
        echo "== $family: not registered in this ptxgen, skipped"
        summary+=("$(printf '%-10s not registered, skipped' "$family")")
        continue
    fi
    for shape in "${shapes[@]}"; do
        for batch in "${batches[@]}"; do
            for strategy in "${strategies[@]}"; do
                # $shape is split into its words on purpose.
                # shellcheck disable=SC2206
                cmd=("$ptxgen" bench "$family" $shape --batch "$batch" --strategy "$strategy" --device cuda)
                echo
                echo "== ${cmd[*]}"
                result=$("${cmd[@]}" 2>&1)
                rc=$?
                echo "$result"
                what=$(printf '%-10s %-20s batch %-2s %-5s' "$family" "$shape" "$batch" "$strategy")
                if [[ $rc -eq 2 ]]; then
                    summary+=("$what skipped: $(tail -1 <<<"$result")")
                    continue
                fi
                if [[ $rc -ne 0 ]]; then
                    status=1
                    summary+=("$what FAILED (exit $rc)")
                    continue
                fi
                # The table's rows end in: median us, min us, max us, launches, GB/s, % of copy.
                figures=$(awk '
                    /^rotated \(/   { r = sprintf("rotated %9s us %8s GB/s %6s", $(NF-5), $(NF-1), $NF) }
                    /^L2-resident / { l = sprintf("L2-resident %9s us %6s", $(NF-5), $NF) }
                    /^copy /        { c = sprintf("copy %s GB/s", $2) }
                    /^companion /   { exit }
                    END { print r " | " l " | " c }' <<<"$result")
                summary+=("$what $figures")
            done
        done
    done
done

echo
echo "== summary (median time per launch; % of the copy bandwidth measured in the same run) =="
printf '%s\n' "${summary[@]}"
exit $status
