#!/usr/bin/env bash
# The main job: build ptxsmith, then show what it generates. Until the model runner exists this
# lists the devices and the kernel registry, inspects one kernel, runs every kernel against its
# CPU reference, and validates every kernel with ptxas for every supported architecture
# (skipped with a message when ptxas is absent). Kernels run on the GPU when there is one.
# Last, it makes the tiny synthetic model (build/models/tiny.gguf) when absent and generates text
# with it on the CPU reference forward pass.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPTXSMITH_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
ptxgen=build/ptxgen/cli/ptxgen

echo "== devices =="
"$ptxgen" devices
echo
echo "== kernels =="
"$ptxgen" list
echo
echo "== rmsnorm, inspected =="
"$ptxgen" inspect rmsnorm --k 4096
echo
echo "== every kernel against its CPU reference (on the GPU when there is one) =="
for kernel in $("$ptxgen" list --names); do
  "$ptxgen" run "$kernel" --seed "$RANDOM" | grep -E '^(kernel|ran|max rel|PASS|FAIL)'
done
echo
echo "== ptxas validation of every kernel =="
status=0
"$ptxgen" validate --all || status=$?
if [ "$status" = 3 ]; then
  echo "(ptxas not found: install the CUDA toolkit or set PTXAS to validate the PTX)"
  status=0
fi

echo
echo "== the tiny model on the generated kernels (the GPU when there is one, else the interpreter) =="
llm=build/examples/llm/ptxsmith-llm
mkdir -p build/models
[ -f build/models/tiny.gguf ] || "$llm" make-model --preset tiny -o build/models/tiny.gguf
"$llm" generate -m build/models/tiny.gguf -p "Once upon a time" -n 32 --seed 1 --temp 0 --device auto
echo
echo "== the same prompt on the CPU reference forward pass (greedy: the same text, up to near ties) =="
"$llm" generate -m build/models/tiny.gguf -p "Once upon a time" -n 32 --seed 1 --temp 0 --device cpu
exit "$status"
