#!/usr/bin/env python3
"""Cross-checks the tokenizers against the reference libraries on fresh random text:

- the pre-tokenisers against the `regex` module running the patterns themselves;
- byte-level BPE against Hugging Face `tokenizers`, on BPE models it trains here for each
  pattern (with ignore_merges for llama-bpe, as Llama 3's tokenizer.json has it);
- SentencePiece-style tokenization against `sentencepiece`, on BPE models it trains here with
  byte fallback (and identity normalisation, as Llama's model has it).

usage: test_tokenizer_oracle.py TOOL WORK_DIR [SEED]
Exits 77 (skipped) when a library is missing, 1 on any difference.
"""
import io
import os
import random
import subprocess
import sys

try:
    import regex
    import sentencepiece as spm
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
except ImportError as e:
    print(f"skipped: {e} (pip install regex tokenizers sentencepiece)")
    sys.exit(77)

PATTERNS = {
    "default": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    "llama-bpe": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}

# Characters whose general category is the same in Unicode 14 (the C++ table) and in later
# versions (the libraries' tables): ASCII with every kind of white space and the contraction
# letters, Latin, Greek, Cyrillic, CJK, Hangul, Arabic, Devanagari, marks, emoji, numbers,
# controls, format characters.
POOL = list(" \t\n\r\x0b\x0c\u00a0\u2003\u3000\u0085\u2028'''\"sStTmMdDlLrReEvV\u017f!?.,;-_()[]{}<>|/\\#$%^&*~`0123456789")
POOL += list("abcxyzABCXYZéüßñçÀÆΑβγδЖжщЯ你好世界中文日本語한국어ابتअआइ")
POOL += ["\u0301", "\u0308", "\u093f", "\u200d", "\ufe0f", "\U0001F600", "\u2764", "\U0001F44D", "\U0001F3FD", "\u00b2",
         "\u00bd", "\u216b", "\u0663", "\u0966", "\x00", "\x01", "\x7f", "\u00ad", "\ufeff", "\u2019"]


def random_text(rng, n):
    return "".join(rng.choice(POOL) for _ in range(rng.randint(0, n)))


def run_tool(tool, *args):
    out = subprocess.run([tool, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{tool} failed: {out.stderr}")
    return out.stdout.split("\n")


def write_texts(path, texts):
    with open(path, "w") as f:
        for t in texts:
            f.write(t.encode().hex() + "\n")


def report(name, texts, want, got):
    bad = [(t, w, g) for t, w, g in zip(texts, want, got) if w != g]
    print(f"{name}: {len(texts)} texts, {len(bad)} differences")
    for t, w, g in bad[:5]:
        print(f"  {t!r}\n    reference {w}\n    ours      {g}")
    return len(bad)


def check_pretokenisers(tool, work, rng):
    texts = [random_text(rng, 30) for _ in range(4000)]
    path = os.path.join(work, "split.txt")
    write_texts(path, texts)
    bad = 0
    for name, pattern in PATTERNS.items():
        got = [[bytes.fromhex(h).decode() for h in line.split()] for line in run_tool(tool, "split", name, path)]
        want = [[m.group(0) for m in regex.finditer(pattern, t)] for t in texts]
        bad += report(f"pre-tokeniser {name}", texts, want, got)
    return bad


def check_bpe(tool, work, rng):
    words = [random_text(rng, 8) for _ in range(2000)]
    corpus = [" ".join(rng.choice(words) for _ in range(20)) + rng.choice(["\n", " ", "\n\n", ""]) for _ in range(1500)]
    texts = [random_text(rng, 40) for _ in range(1500)] + [rng.choice(corpus)[:200] for _ in range(300)]
    text_path = os.path.join(work, "bpe_texts.txt")
    write_texts(text_path, texts)
    bad = 0
    for name, pattern in PATTERNS.items():
        tok = Tokenizer(models.BPE(ignore_merges=(name == "llama-bpe")))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=2500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False)
        tok.train_from_iterator(corpus, trainer)
        model = __import__("json").loads(tok.to_str())["model"]
        vocab_path = os.path.join(work, f"bpe_{name}.txt")
        with open(vocab_path, "w") as f:
            f.write(f"gpt2\n{name}\n0\n")
            for text, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]):
                f.write(f"T {text.encode().hex()} 1 0\n")
            for m in model["merges"]:
                f.write(f"M {(' '.join(m) if isinstance(m, list) else m).encode().hex()}\n")
        got = [[int(x) for x in line.split()] for line in run_tool(tool, "encode", vocab_path, text_path)]
        want = [tok.encode(t).ids for t in texts]
        bad += report(f"byte-level BPE {name} ({len(model['vocab'])} tokens)", texts, want, got)
    return bad


def check_spm(tool, work, rng):
    pool_without_meta = [c for c in POOL if c != "\u2581"]
    words = ["".join(rng.choice(pool_without_meta) for _ in range(rng.randint(1, 8))) for _ in range(2000)]
    corpus = [" ".join(rng.choice(words) for _ in range(20)) for _ in range(2000)]
    texts = [random_text(rng, 40) for _ in range(1500)] + [rng.choice(corpus)[:200] for _ in range(300)]
    text_path = os.path.join(work, "spm_texts.txt")
    write_texts(text_path, texts)
    bad = 0
    for split_by_whitespace in (True, False):
        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=proto, vocab_size=1200, model_type="bpe",
            byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
            add_dummy_prefix=True, allow_whitespace_only_pieces=True, split_by_whitespace=split_by_whitespace,
            character_coverage=0.98, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_proto=proto.getvalue())
        vocab_path = os.path.join(work, "spm.txt")
        with open(vocab_path, "w") as f:
            f.write("llama\n\n1\n")
            for i in range(sp.get_piece_size()):
                kind = 2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 5 if sp.is_unused(i) else 1
                f.write(f"T {sp.id_to_piece(i).encode().hex()} {kind} {sp.get_score(i)!r}\n")
                if kind == 2:
                    f.write(f"U {i}\n")
        got = [[int(x) for x in line.split()] for line in run_tool(tool, "encode", vocab_path, text_path)]
        want = [sp.encode(t) for t in texts]
        bad += report(f"SentencePiece BPE (split_by_whitespace={split_by_whitespace})", texts, want, got)
    return bad


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tool, work = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else random.SystemRandom().randint(0, 1 << 31)
    print(f"seed {seed}")
    os.makedirs(work, exist_ok=True)
    rng = random.Random(seed)
    bad = check_pretokenisers(tool, work, rng) + check_bpe(tool, work, rng) + check_spm(tool, work, rng)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
