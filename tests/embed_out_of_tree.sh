#!/usr/bin/env bash
# Installs this build to a fresh prefix, builds examples/embed against it as a project of its own
# (find_package(ptxsmith) and nothing from the source tree) and runs it: exit 0 when the kernel's
# results match. Without a GPU the program runs on the interpreter.
#   embed_out_of_tree.sh BUILD_DIR SOURCE_DIR CXX_COMPILER [CONFIG]
set -euo pipefail
build=$1 src=$2 cxx=$3 config=${4:-}

work=$build/embed_out_of_tree  # kept after a run, for a look when it fails
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

echo "== install $build to $prefix =="
cmake --install "$build" --prefix "$prefix" ${config:+--config "$config"} >"$work/install.log"

echo "== configure examples/embed with $cxx =="
cmake -S "$src/examples/embed" -B "$work/build" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_PREFIX_PATH="$prefix" ${config:+-DCMAKE_BUILD_TYPE="$config"}
# The package must come from the prefix just installed, not from anywhere else on the machine.
found=$(sed -n 's/^ptxsmith_DIR:PATH=//p' "$work/build/CMakeCache.txt")
case $found in
  "$prefix"/*) ;;
  *) echo "ptxsmith was found in '$found', not under $prefix" >&2; exit 1 ;;
esac

echo "== build =="
cmake --build "$work/build" -j2 ${config:+--config "$config"}

echo "== run =="
exe=$work/build/embed
if [ ! -x "$exe" ] && [ -n "$config" ]; then exe=$work/build/$config/embed; fi  # multi-config generators
"$exe"
