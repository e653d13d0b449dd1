#!/usr/bin/env bash
# What ptxas makes of a generated kernel, without a GPU: emits the kernel's PTX, compiles it with
# ptxas for a target (sm_90 unless PTXSMITH_SASS_ARCH says otherwise), prints ptxas's register and
# spill line, and for every loop (a backward branch) of the SASS its instruction count and the
# count of each opcode. With --dump, the whole SASS follows.
#
#   scripts/sass.sh [--dump] FAMILY [--param value ...]
#   scripts/sass.sh q6k_gemv --n 4096 --k 14336
#
# Needs ptxas (CUDA toolkit, /usr/local/cuda/bin) and cuobjdump with nvdisasm. Where they are not
# installed the script takes them from NVIDIA's `nvidia-cuda-cuobjdump` and `nvidia-cuda-nvdisasm`
# wheels on PyPI, unpacked once into .sass-tools/ (developer tools: nothing in the build, the
# tests or CI uses them).
# PTXGEN names the ptxgen binary (default build/ptxgen/cli/ptxgen).
set -euo pipefail
cd "$(dirname "$0")/.."
dump=0
if [ "${1:-}" = --dump ]; then dump=1; shift; fi
[ $# -ge 1 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ptxgen=${PTXGEN:-build/ptxgen/cli/ptxgen}
arch=${PTXSMITH_SASS_ARCH:-sm_90}
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
[ -x "$ptxgen" ] || { echo "sass.sh: no ptxgen at $ptxgen (build first, or set PTXGEN)" >&2; exit 1; }
[ -x "$ptxas" ] || { echo "sass.sh: no ptxas on PATH or in /usr/local/cuda/bin" >&2; exit 1; }

tools=.sass-tools
cuobjdump=$(command -v cuobjdump || true)
if [ -z "$cuobjdump" ] || ! command -v nvdisasm >/dev/null; then
  if [ ! -x "$tools/bin/cuobjdump" ] || [ ! -x "$tools/bin/nvdisasm" ]; then
    echo "sass.sh: fetching cuobjdump and nvdisasm (pip download) into $tools" >&2
    mkdir -p "$tools/bin"
    python3 -m pip download -q --no-deps nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm -d "$tools" >&2
    for wheel in "$tools"/nvidia_cuda_*.whl; do python3 -m zipfile -e "$wheel" "$tools/unpacked"; done
    for tool in cuobjdump nvdisasm; do
      cp "$(find "$tools/unpacked" -name "$tool" -type f | head -1)" "$tools/bin/$tool"
      chmod +x "$tools/bin/$tool"
    done
  fi
  export PATH="$PWD/$tools/bin:$PATH"
  cuobjdump=$tools/bin/cuobjdump
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ptxgen" emit "$@" --target "$arch" -o "$work/k.ptx" >/dev/null
"$ptxas" -arch="$arch" -v "$work/k.ptx" -o "$work/k.cubin" 2>&1 | grep -E 'Used|spill' | sed 's/^ptxas info *: //'
"$cuobjdump" -sass "$work/k.cubin" >"$work/k.sass"
python3 - "$work/k.sass" <<'PY'
import collections, re, sys
# SASS lines look like "        /*0960*/   @!P0 IMAD.SHL.U32 R26, R19, 0x8, RZ ;".
code = []
for line in open(sys.argv[1]):
    m = re.match(r'\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;', line)
    if m:
        code.append((int(m.group(1), 16), re.sub(r'^@!?U?P[0-9T]+\s+', '', m.group(2))))
for at, text in code:
    branch = re.search(r'BRA (0x[0-9a-f]+)', text)
    if branch and int(branch.group(1), 16) < at:
        start = int(branch.group(1), 16)
        body = [t for a, t in code if start <= a <= at]
        ops = collections.Counter(t.split()[0].split('.')[0] for t in body)
        print(f"loop {start:#06x}..{at:#06x}: {len(body)} instructions: " + ' '.join(f'{k} {v}' for k, v in ops.most_common()))
PY
if [ $dump = 1 ]; then cat "$work/k.sass"; fi
