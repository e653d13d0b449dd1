"""Compares ptxsmith's host quantisation formats with gguf's Python implementation, bit for bit.

Usage: check_quants.py DIR, where DIR holds quant_oracle_dump's output (see its manifest format).
Exit status: 0 when every case agrees, 1 when one does not, 77 when gguf cannot be imported.

Dequantisation: gguf.quants.dequantize() of the same bytes must give the same f32 bit patterns as
ours (NaN-free on both sides: the blocks carry finite scales). Quantisation (q8_0, q4_0, f16, bf16):
gguf.quants.quantize() of the same floats must give the same bytes.
"""

import os
import sys

try:
    import numpy as np
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
    from gguf import quants
except ImportError as e:  # the test is skipped, not failed, without the oracle
    print(f"skipped: cannot import gguf ({e})")
    sys.exit(77)


def show_first(bad, ours, theirs, per_block, limit=5):
    for i in bad[:limit]:
        print(f"    element {i} (block {i // per_block}): ours {ours[i]!r} ({ours.view(np.uint32)[i]:#010x}), "
              f"gguf {theirs[i]!r} ({theirs.view(np.uint32)[i]:#010x})")


def check_dequant(directory, name, qtype, n):
    data = np.fromfile(os.path.join(directory, name + ".bytes"), dtype=np.uint8)
    ours = np.fromfile(os.path.join(directory, name + ".ours"), dtype=np.float32)
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    assert ours.size == n and data.size == n // block_size * type_size, name
    theirs = np.asarray(quants.dequantize(data.reshape(-1, type_size), qtype), dtype=np.float32).reshape(-1)
    if np.isnan(ours).any() or np.isnan(theirs).any():
        print(f"  {name}: NaN in the results (ours {np.isnan(ours).sum()}, gguf {np.isnan(theirs).sum()})")
        return False
    bad = np.flatnonzero(ours.view(np.uint32) != theirs.view(np.uint32))
    print(f"  {name}: {n} elements, {bad.size} differ")
    show_first(bad, ours, theirs, block_size)
    return bad.size == 0


def check_quant(directory, name, qtype, n):
    src = np.fromfile(os.path.join(directory, name + ".src"), dtype=np.float32)
    ours = np.fromfile(os.path.join(directory, name + ".ours"), dtype=np.uint8)
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    assert src.size == n, name
    with np.errstate(over="ignore"):  # f32 -> f16 overflows to infinity on purpose
        theirs = np.asarray(quants.quantize(src.reshape(-1, block_size), qtype)).view(np.uint8).reshape(-1)
    ours_blocks = ours.reshape(-1, type_size)
    theirs_blocks = theirs.reshape(-1, type_size)
    bad = np.flatnonzero((ours_blocks != theirs_blocks).any(axis=1))
    print(f"  {name}: {n // block_size} blocks, {bad.size} differ")
    for b in bad[:5]:
        print(f"    block {b}: inputs {src[b * block_size:(b + 1) * block_size].tolist()}")
        print(f"      ours {ours_blocks[b].tobytes().hex()}")
        print(f"      gguf {theirs_blocks[b].tobytes().hex()}")
    return bad.size == 0


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    directory = sys.argv[1]
    ok = True
    cases = 0
    with open(os.path.join(directory, "manifest.txt")) as manifest:
        for line in manifest:
            kind, name, type_id, n = line.split()
            qtype = GGMLQuantizationType(int(type_id))
            check = check_dequant if kind == "dequant" else check_quant
            ok = check(directory, name, qtype, int(n)) and ok
            cases += 1
    print(f"{cases} cases, {'all agree with gguf' if ok else 'SOME DIFFER from gguf'}")
    return 0 if ok and cases > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
