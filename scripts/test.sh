#!/usr/bin/env bash
# Builds ptxsmith with warnings as errors and runs every test through ctest. Under CI (CI=true)
# it builds and tests with g++ and with clang++, the two compilers the project supports.
set -euo pipefail
cd "$(dirname "$0")/.."

compilers=${PTXSMITH_COMPILERS:-g++}
if [ "${CI:-}" = true ]; then compilers=${PTXSMITH_COMPILERS:-"g++ clang++"}; fi
case " $compilers " in *" clang++ "*) export PTXSMITH_WITH_CLANG=1 ;; esac
export PTXSMITH_ORACLES=1
bash scripts/install-deps.sh

jobs=$(nproc)
summary=""
passed=0; failed=0; skipped=0
for cxx in $compilers; do
  dir=build-test-${cxx%++}
  echo "== build with $cxx =="
  cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPTXSMITH_WERROR=ON >/dev/null
  cmake --build "$dir" -j"$jobs"
  echo "== tests ($cxx) =="
  status=0
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" | tee "$dir/ctest.out" || status=$?
  # What each test executable counted (doctest cases and assertions, ptxas pairs).
  summary+="$cxx:"$'\n'"$(grep -h -E '^\[doctest\] (test cases|assertions)|validated .* pairs' "$dir/Testing/Temporary/LastTest.log" || true)"$'\n'
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$dir/ctest.out" || true)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  skip=$(grep -c -E '\*\*\*Skipped|Not Run' "$dir/ctest.out" || true)
  passed=$((passed + ${total:-0} - ${bad:-0} - skip)); failed=$((failed + ${bad:-0})); skipped=$((skipped + skip))
  # ctest failing without a failed-test count (a crash, a configuration error) still fails the run.
  if [ "$status" != 0 ] && [ "${bad:-0}" = 0 ]; then failed=$((failed + 1)); fi
done

echo "== summary =="
printf '%s' "$summary"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
