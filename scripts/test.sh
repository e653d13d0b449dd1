#!/usr/bin/env bash
# Builds ptxsmith with warnings as errors and runs every test through ctest. Under CI (CI=true)
# it builds and tests with g++ and with clang++, the two compilers the project supports.
set -euo pipefail
cd "$(dirname "$0")/.."

compilers=${PTXSMITH_COMPILERS:-g++}
if [ "${CI:-}" = true ]; then compilers=${PTXSMITH_COMPILERS:-"g++ clang++"}; fi
case " $compilers " in *" clang++ "*) export PTXSMITH_WITH_CLANG=1 ;; esac
bash scripts/install-deps.sh

jobs=$(nproc)
for cxx in $compilers; do
  dir=build-test-${cxx%++}
  echo "== build with $cxx =="
  cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPTXSMITH_WERROR=ON >/dev/null
  cmake --build "$dir" -j"$jobs"
  echo "== tests ($cxx) =="
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done
