#!/usr/bin/env python3
"""Cross-check of ptxsmith's GGUF reader and writer against llama.cpp's own `gguf` package.

(a) gguf.GGUFWriter writes files with every metadata value type (nested arrays, empty strings,
    non-ASCII text, raw bytes, extremes) and tensors of types f32, f16, q8_0, q4_k, q6_k (and
    bf16), and our reader, through `gguf_test_tool dump`, must see the same metadata and bytes.
(b) Our writer (`gguf_test_tool write`) writes random files, and gguf.GGUFReader must read the
    metadata and tensor bytes that the tool says it wrote.

Both sides meet in the JSON described at the top of gguf_test_tool.cpp. Values are random, from a
fresh seed printed first. Exit 77 (skipped) when this Python has no `gguf` package.

usage: gguf_oracle.py GGUF_TEST_TOOL WORK_DIR
"""
import json
import os
import random
import struct
import subprocess
import sys

try:
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
    from gguf.constants import GGML_QUANT_SIZES
except ImportError as e:
    print(f"skipped: this Python cannot import the gguf package ({e})")
    sys.exit(77)

NAMES = {0: "u8", 1: "i8", 2: "u16", 3: "i16", 4: "u32", 5: "i32", 6: "f32", 7: "bool", 8: "string", 9: "array",
         10: "u64", 11: "i64", 12: "f64"}
INTEGERS = {  # value type: (name, min, max)
    GGUFValueType.UINT8: ("u8", 0, 2**8 - 1), GGUFValueType.INT8: ("i8", -2**7, 2**7 - 1),
    GGUFValueType.UINT16: ("u16", 0, 2**16 - 1), GGUFValueType.INT16: ("i16", -2**15, 2**15 - 1),
    GGUFValueType.UINT32: ("u32", 0, 2**32 - 1), GGUFValueType.INT32: ("i32", -2**31, 2**31 - 1),
    GGUFValueType.UINT64: ("u64", 0, 2**64 - 1), GGUFValueType.INT64: ("i64", -2**63, 2**63 - 1),
}
TEXTS = ["", "llama", "na\u00efve \u65e5\u672c\u8a9e \U0001f999", "\u2581the", "tab\there\nnewline", "\"quoted\\\""]


def fail(message):
    print("MISMATCH: " + message)
    sys.exit(1)


# ---- values as (what the Python writer takes, the JSON our tool prints for it) ----

def integer(rng, vtype):
    name, lo, hi = INTEGERS[vtype]
    v = rng.choice([lo, hi, 0, 1, rng.randint(lo, hi)])
    return v, {"type": name, "value": v}


def f32(rng):
    x = rng.choice([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4028234663852886e38,
                    float(np.frombuffer(struct.pack("<I", rng.getrandbits(32) & 0x7f7fffff), np.float32)[0])])
    return x, {"type": "f32", "value": "%08x" % struct.unpack("<I", struct.pack("<f", x))[0]}


def f64(rng):
    x = rng.choice([0.0, -0.0, float("inf"), 5e-324, struct.unpack("<d", struct.pack("<Q", rng.getrandbits(62)))[0]])
    return x, {"type": "f64", "value": "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]}


def string(rng, raw=True):
    if raw and rng.random() < 0.2:
        b = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 12)))   # not UTF-8, with NULs
        return b, {"type": "string", "value": b.hex()}
    s = rng.choice(TEXTS)
    return s, {"type": "string", "value": s.encode("utf-8").hex()}


def scalar(rng, vtype):
    if vtype in INTEGERS:
        return integer(rng, vtype)
    if vtype == GGUFValueType.FLOAT32:
        return f32(rng)
    if vtype == GGUFValueType.FLOAT64:
        return f64(rng)
    if vtype == GGUFValueType.BOOL:
        b = rng.random() < 0.5
        return b, {"type": "bool", "value": b}
    return string(rng)


def array_json(element_type, items):
    return {"type": "array", "element_type": element_type, "items": items}


def python_file(path, rng, alignment):
    """Writes a file with gguf.GGUFWriter; returns what it holds, as our tool would print it."""
    w = GGUFWriter(path, arch="oracle")
    metadata = [("general.architecture", {"type": "string", "value": b"oracle".hex()})]
    if alignment != 32:
        w.add_custom_alignment(alignment)
        metadata.append(("general.alignment", {"type": "u32", "value": alignment}))

    def add(key, pyval, js, vtype, sub_type=None):
        w.add_key_value(key, pyval, vtype, sub_type=sub_type)
        metadata.append((key, js))

    scalars = list(INTEGERS) + [GGUFValueType.FLOAT32, GGUFValueType.FLOAT64, GGUFValueType.BOOL, GGUFValueType.STRING]
    for round_ in range(3):
        for vtype in scalars:
            pyval, js = scalar(rng, vtype)
            add(f"test.{vtype.name.lower()}.{round_}", pyval, js, vtype)
            pairs = [scalar(rng, vtype) for _ in range(rng.randint(1, 6))]
            add(f"test.{vtype.name.lower()}_array.{round_}", [p for p, _ in pairs],
                array_json(js["type"], [j for _, j in pairs]), GGUFValueType.ARRAY, sub_type=vtype)
    add("test.empty_string", "", {"type": "string", "value": ""}, GGUFValueType.STRING)
    add("test.unicode", TEXTS[2], {"type": "string", "value": TEXTS[2].encode().hex()}, GGUFValueType.STRING)
    tokens = ["<s>", "", "\u2581the", "\u65e5", ""]
    add("tokenizer.ggml.tokens", tokens,
        array_json("string", [{"type": "string", "value": t.encode().hex()} for t in tokens]),
        GGUFValueType.ARRAY, sub_type=GGUFValueType.STRING)
    # Nested arrays: the writer types inner lists from their first item (int -> i32, float -> f32).
    ints = [[1, -2, 3], [2**31 - 1]]
    add("test.nested_i32", ints, array_json("array", [array_json("i32", [{"type": "i32", "value": v} for v in inner])
                                                       for inner in ints]), GGUFValueType.ARRAY, sub_type=GGUFValueType.ARRAY)
    texts = [["a", ""], ["\u00e9"]]
    add("test.nested_strings", texts,
        array_json("array", [array_json("string", [{"type": "string", "value": s.encode().hex()} for s in inner])
                             for inner in texts]), GGUFValueType.ARRAY, sub_type=GGUFValueType.ARRAY)
    deep = [[[1.5], [2.5, -0.0]], [[3.25]]]
    add("test.nested3_f32", deep,
        array_json("array", [array_json("array", [array_json("f32", [f32_json(x) for x in inner]) for inner in mid])
                             for mid in deep]), GGUFValueType.ARRAY, sub_type=GGUFValueType.ARRAY)

    tensors = []
    kinds = [GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.Q8_0,
             GGMLQuantizationType.Q4_K, GGMLQuantizationType.Q6_K, GGMLQuantizationType.BF16]
    for i, kind in enumerate(kinds + [rng.choice(kinds) for _ in range(3)]):
        block, type_size = GGML_QUANT_SIZES[kind]
        ne = [block * rng.randint(1, 3)] + [rng.randint(1, 3) for _ in range(rng.randint(0, 3))]
        n_bytes = ne[0] // block * type_size * int(np.prod(ne[1:], dtype=np.int64))
        data = bytes(rng.getrandbits(8) for _ in range(n_bytes))
        name = f"blk.{i}.{kind.name.lower()}"
        byte_shape = tuple(reversed(ne[1:])) + (ne[0] // block * type_size,)
        if kind == GGMLQuantizationType.F32:
            w.add_tensor(name, np.frombuffer(data, np.float32).reshape(tuple(reversed(ne))))
        elif kind == GGMLQuantizationType.F16:
            w.add_tensor(name, np.frombuffer(data, np.float16).reshape(tuple(reversed(ne))))
        else:
            w.add_tensor(name, np.frombuffer(data, np.uint8).reshape(byte_shape), raw_dtype=kind)
        tensors.append({"name": name.encode().hex(), "ne": ne, "type": int(kind), "data": data.hex()})
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return [{"key": k.encode().hex(), "value": v} for k, v in metadata], tensors


def f32_json(x):
    return {"type": "f32", "value": "%08x" % struct.unpack("<I", struct.pack("<f", x))[0]}


# ---- what gguf.GGUFReader decoded, in the tool's JSON ----

def walk(parts, i, t):
    """One value from a ReaderField's parts (the reader's own split of the bytes), from index i."""
    name = NAMES[t]
    if t == 8:
        return {"type": name, "value": parts[i + 1].tobytes().hex()}, i + 2
    if t == 9:
        element, count = int(parts[i][0]), int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(count):
            v, i = walk(parts, i, element)
            items.append(v)
        return array_json(NAMES[element], items), i
    a = parts[i]
    if t == 6:
        v = "%08x" % int(a.view(np.uint32)[0])
    elif t == 12:
        v = "%016x" % int(a.view(np.uint64)[0])
    elif t == 7:
        v = bool(a[0])
    else:
        v = int(a[0])
    return {"type": name, "value": v}, i + 1


def oracle_view(path):
    r = GGUFReader(path)
    metadata = []
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue
        value, end = walk(field.parts, 3, int(field.parts[2][0]))
        if end != len(field.parts):
            fail(f"{path}: {name}: {len(field.parts) - end} parts left over")
        metadata.append({"key": field.parts[1].tobytes().hex(), "value": value})
    tensors = [{"name": t.name.encode().hex(), "ne": [int(d) for d in t.shape], "type": int(t.tensor_type),
                "offset": int(t.data_offset) - int(r.data_offset), "data": t.data.tobytes().hex()} for t in r.tensors]
    return r, metadata, tensors


def compare(what, ours, theirs):
    if len(ours) != len(theirs):
        fail(f"{what}: {len(ours)} entries against {len(theirs)}")
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            fail(f"{what}[{i}]:\n  ptxsmith: {json.dumps(a)[:600]}\n  gguf:     {json.dumps(b)[:600]}")


def run_tool(tool, *args):
    out = subprocess.run([tool, *args], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"{tool} {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    seed = int.from_bytes(os.urandom(8), "little")
    print(f"seed {seed}")
    rng = random.Random(seed)

    # (a) the Python writer, our reader.
    for n, alignment in enumerate([32, 64, 32, 256]):
        path = os.path.join(work, f"python-written-{n}.gguf")
        metadata, tensors = python_file(path, rng, alignment)
        ours = run_tool(tool, "dump", path)
        reader, _, oracle_tensors = oracle_view(path)
        if ours["version"] != 3 or ours["alignment"] != alignment:
            fail(f"{path}: version {ours['version']}, alignment {ours['alignment']}; expected 3, {alignment}")
        compare(f"{path} metadata", ours["metadata"], metadata)
        for t, o in zip(ours["tensors"], oracle_tensors):
            if t["offset"] != o["offset"]:
                fail(f"{path}: tensor offset {t['offset']} against gguf's {o['offset']}")
            del t["offset"]
        compare(f"{path} tensors", ours["tensors"], tensors)
        print(f"(a) {path}: {len(metadata)} keys, {len(tensors)} tensors agree")

    # (b) our writer, the Python reader.
    for n in range(4):
        path = os.path.join(work, f"ptxsmith-written-{n}.gguf")
        file_seed = rng.getrandbits(63) // 4 * 4 + n   # n picks the alignment in the tool
        written = run_tool(tool, "write", path, str(file_seed))
        reader, metadata, tensors = oracle_view(path)
        version = int(reader.fields["GGUF.version"].parts[0][0])
        if version != written["version"] or int(reader.alignment) != written["alignment"]:
            fail(f"{path}: gguf reads version {version}, alignment {reader.alignment}; "
                 f"written {written['version']}, {written['alignment']}")
        compare(f"{path} metadata", written["metadata"], metadata)
        for t in tensors:
            if t["offset"] % written["alignment"] != 0:
                fail(f"{path}: tensor at offset {t['offset']}, not a multiple of {written['alignment']}")
            t["offset"] = 0
        compare(f"{path} tensors", written["tensors"], tensors)
        print(f"(b) {path}: {len(metadata)} keys, {len(tensors)} tensors agree (version {version}, "
              f"alignment {written['alignment']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
