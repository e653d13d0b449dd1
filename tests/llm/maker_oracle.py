#!/usr/bin/env python3
"""Cross-check of the model maker against llama.cpp's own `gguf` package.

For each quantisation mix, `ptxsmith-llm make-model --preset tiny` writes a model with a fresh
seed, and gguf.GGUFReader reads it. The check:
  - the metadata holds the llama keys with the types llama.cpp expects (u32 counts, f32 epsilon
    and rope base) and the tokenizer keys;
  - the tensors are exactly those this script derives from the metadata on its own (names, order,
    shapes, and types by the mix's rule, with llama.cpp's Q4_K_M layer choice written out here
    independently);
  - names, types, shapes, offsets and bytes agree with what our reader sees (gguf_test_tool dump);
  - gguf's own dequantisers (Q4_K, Q6_K, Q8_0, F16) give the distribution the maker promises:
    norms near 1, matrices centred on 0 with std 1/sqrt(ne0), times 1/sqrt(2 * layers) for
    attn_output and ffn_down.
Exit 77 (skipped) when this Python has no `gguf` package.

usage: maker_oracle.py PTXSMITH_LLM GGUF_TEST_TOOL WORK_DIR
"""
import json
import math
import os
import subprocess
import sys

try:
    import numpy as np
    from gguf import GGMLQuantizationType as T, GGUFReader, GGUFValueType
    from gguf.quants import dequantize
except ImportError as e:
    print(f"skipped: this Python cannot import the gguf package ({e})")
    sys.exit(77)

MIXES = ["q4_k_m", "q4_k", "q6_k", "q8_0", "f16"]
UNIFORM = {"q4_k": T.Q4_K, "q6_k": T.Q6_K, "q8_0": T.Q8_0, "f16": T.F16}
LAYER_ROLES = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]


def fail(message):
    print("MISMATCH: " + message)
    sys.exit(1)


def field(reader, key, vtype):
    f = reader.fields.get(key)
    if f is None:
        fail(f"key {key} is missing")
    if f.types[0] != vtype:
        fail(f"key {key} has type {f.types[0].name}, expected {vtype.name}")
    if vtype == GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode()
    if vtype == GGUFValueType.ARRAY:
        return [f.parts[i] for i in f.data]
    return f.parts[f.data[0]][0]


def more_bits(layer, n_layer):
    # llama.cpp's use_more_bits(): the first and last eighth, and every third layer between.
    return layer < n_layer // 8 or layer >= 7 * n_layer // 8 or (layer - n_layer // 8) % 3 == 2


def expected_tensors(reader, mix):
    n_embd = int(field(reader, "llama.embedding_length", GGUFValueType.UINT32))
    n_layer = int(field(reader, "llama.block_count", GGUFValueType.UINT32))
    n_ff = int(field(reader, "llama.feed_forward_length", GGUFValueType.UINT32))
    n_head = int(field(reader, "llama.attention.head_count", GGUFValueType.UINT32))
    n_kv = int(field(reader, "llama.attention.head_count_kv", GGUFValueType.UINT32))
    n_vocab = len(field(reader, "tokenizer.ggml.tokens", GGUFValueType.ARRAY))
    hd = n_embd // n_head
    if int(field(reader, "llama.rope.dimension_count", GGUFValueType.UINT32)) != hd:
        fail("rope.dimension_count is not the head width")
    tied = not any(t.name == "output.weight" for t in reader.tensors)

    def kind(role, layer):
        if role.endswith("_norm"):
            return T.F32
        if mix != "q4_k_m":
            return UNIFORM[mix]
        if role == "output" or (role == "token_embd" and tied):
            return T.Q6_K
        if role in ("attn_v", "ffn_down") and more_bits(layer, n_layer):
            return T.Q6_K
        return T.Q4_K

    residual = 1 / math.sqrt(2 * n_layer)
    shapes = {"attn_norm": ([n_embd], None), "attn_q": ([n_embd, n_head * hd], 1.0), "attn_k": ([n_embd, n_kv * hd], 1.0),
              "attn_v": ([n_embd, n_kv * hd], 1.0), "attn_output": ([n_head * hd, n_embd], residual),
              "ffn_norm": ([n_embd], None), "ffn_gate": ([n_embd, n_ff], 1.0), "ffn_up": ([n_embd, n_ff], 1.0),
              "ffn_down": ([n_ff, n_embd], residual)}
    out = [("token_embd.weight", [n_embd, n_vocab], kind("token_embd", 0), 1.0)]
    for layer in range(n_layer):
        for role in LAYER_ROLES:
            ne, gain = shapes[role]
            out.append((f"blk.{layer}.{role}.weight", ne, kind(role, layer), gain))
    out.append(("output_norm.weight", [n_embd], T.F32, None))
    if not tied:
        out.append(("output.weight", [n_embd, n_vocab], kind("output", 0), 1.0))
    return out


def check_file(exe, tool, path, mix, seed):
    run = subprocess.run([exe, "make-model", "--preset", "tiny", "--quant", mix, "--seed", str(seed), "-o", path],
                         capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"make-model --quant {mix} failed: {run.stderr.strip()}")
    reader = GGUFReader(path)
    if field(reader, "general.architecture", GGUFValueType.STRING) != "llama":
        fail("general.architecture is not llama")
    field(reader, "general.file_type", GGUFValueType.UINT32)
    field(reader, "llama.context_length", GGUFValueType.UINT32)
    eps = field(reader, "llama.attention.layer_norm_rms_epsilon", GGUFValueType.FLOAT32)
    if abs(float(eps) - 1e-5) > 1e-12:
        fail(f"epsilon {eps}")
    field(reader, "llama.rope.freq_base", GGUFValueType.FLOAT32)
    if field(reader, "tokenizer.ggml.model", GGUFValueType.STRING) != "gpt2":
        fail("tokenizer.ggml.model is not gpt2")
    if field(reader, "tokenizer.ggml.pre", GGUFValueType.STRING) != "llama-bpe":
        fail("tokenizer.ggml.pre is not llama-bpe")
    tokens = [bytes(p).decode() for p in field(reader, "tokenizer.ggml.tokens", GGUFValueType.ARRAY)]
    bos = int(field(reader, "tokenizer.ggml.bos_token_id", GGUFValueType.UINT32))
    eos = int(field(reader, "tokenizer.ggml.eos_token_id", GGUFValueType.UINT32))
    if tokens[bos] != "<|begin_of_text|>" or tokens[eos] != "<|end_of_text|>":
        fail(f"bos {bos} is {tokens[bos]!r}, eos {eos} is {tokens[eos]!r}")
    if len(set(tokens)) != len(tokens):
        fail("token strings repeat")
    known = set(tokens)
    for m in field(reader, "tokenizer.ggml.merges", GGUFValueType.ARRAY):
        left, right = bytes(m).decode().split(" ")
        if left not in known or right not in known or left + right not in known:
            fail(f"merge {left!r} {right!r} names a string that is not a token")

    expected = expected_tensors(reader, mix)
    if [t.name for t in reader.tensors] != [e[0] for e in expected]:
        fail(f"{mix}: tensor names {[t.name for t in reader.tensors]} against {[e[0] for e in expected]}")
    ours = {bytes.fromhex(t["name"]).decode(): t for t in json.loads(
        subprocess.run([tool, "dump", path], capture_output=True, text=True, check=True).stdout)["tensors"]}
    n_params = 0
    for t, (name, ne, ttype, gain) in zip(reader.tensors, expected):
        shape = [int(d) for d in t.shape]
        if shape != ne or t.tensor_type != ttype:
            fail(f"{mix} {name}: {shape} {t.tensor_type.name}, expected {ne} {ttype.name}")
        o = ours[name]
        data = t.data.tobytes()
        if o["ne"] != shape or o["type"] != int(t.tensor_type) or o["offset"] != int(t.data_offset) - int(reader.data_offset) \
                or o["data"] != data.hex():
            fail(f"{mix} {name}: our reader and gguf disagree on its shape, type, offset or bytes")
        values = dequantize(t.data, t.tensor_type).astype(np.float64).reshape(-1)
        n_params += values.size
        if not np.all(np.isfinite(values)):
            fail(f"{mix} {name}: non-finite values")
        mean, sd = values.mean(), values.std()
        if gain is None:   # a norm: 1 + 0.02 z
            if abs(mean - 1) > 0.01 or not 0.01 < sd < 0.03:
                fail(f"{mix} {name}: mean {mean}, sd {sd}; expected about 1 and 0.02")
        else:
            want = gain / math.sqrt(ne[0])
            if abs(mean) > 0.05 * want or abs(sd / want - 1) > 0.06:
                fail(f"{mix} {name}: mean {mean}, sd {sd}; expected 0 and {want}")
    print(f"{mix}: {len(expected)} tensors, {n_params} parameters agree")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    exe, tool, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    seed = int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed}")
    for mix in MIXES:
        check_file(exe, tool, os.path.join(work, f"tiny-{mix}.gguf"), mix, seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
