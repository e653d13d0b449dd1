// Byte-level BPE ("gpt2") on hand-made vocabularies.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "test_tokenizer_support.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace llm;
using tokenizer_test::add_merge;
using tokenizer_test::add_token;

namespace {

const std::string G = "\xC4\xA0";  // 'Ġ', the alphabet's space

// Ids 0..255 are the bytes (id == byte value), then the merges, by rank:
//   0 l+l=ll (256)        1 e+ll=ell (257)     2 h+ell=hell (258)   3 hell+o=hello (259)
//   4 h+e=he (260)        5 Ġ+t=Ġt (261)       6 Ġt+he=Ġthe (262)   7 Ġ+w=Ġw (263)
//   8 o+r=or (264)        9 Ġw+or=Ġwor (265)
// then <|endoftext|> (266, control), <|im_start|> (267, control), <tool> (268, user-defined)
// and Ġworld (269), a token no merge produces.
VocabData small_vocab(const std::string& pre) {
    VocabData d = tokenizer_test::byte_level_vocab(pre);
    add_merge(d, "l", "l");
    add_merge(d, "e", "ll");
    add_merge(d, "h", "ell");
    add_merge(d, "hell", "o");
    add_merge(d, "h", "e");
    add_merge(d, G, "t");
    add_merge(d, G + "t", "he");
    add_merge(d, G, "w");
    add_merge(d, "o", "r");
    add_merge(d, G + "w", "or");
    add_token(d, "<|endoftext|>", TokenType::control);
    add_token(d, "<|im_start|>", TokenType::control);
    add_token(d, "<tool>", TokenType::user_defined);
    add_token(d, G + "world", TokenType::normal);
    return d;
}

using V = std::vector<int32_t>;

// The reference: per pre-tokenised piece, keep merging the adjacent pair with the lowest rank
// (the leftmost on ties), one merge per pass over all pairs.
V reference_encode(const VocabData& d, const Tokenizer& t, std::string_view text) {
    std::map<std::pair<std::string, std::string>, size_t> rank;
    for (size_t r = 0; r < d.merges.size(); ++r) {
        const size_t sp = d.merges[r].find(' ');
        rank.try_emplace({d.merges[r].substr(0, sp), d.merges[r].substr(sp + 1)}, r);
    }
    const PreTokenizer pre = *pre_tokenizer_from_name(d.pre);
    V out;
    for (const std::string_view piece : pre_tokenize(pre, text)) {
        if (pre == PreTokenizer::llama3 && piece.size() > 1 && t.find_token(byte_level_encode(piece)) >= 0) {
            out.push_back(t.find_token(byte_level_encode(piece)));  // ignore_merges
            continue;
        }
        std::vector<std::string> sym;
        for (char c : piece) sym.push_back(byte_level_encode(std::string(1, c)));
        for (;;) {
            size_t best = sym.size(), best_rank = 0;
            for (size_t i = 0; i + 1 < sym.size(); ++i) {
                const auto it = rank.find({sym[i], sym[i + 1]});
                if (it != rank.end() && (best == sym.size() || it->second < best_rank)) best = i, best_rank = it->second;
            }
            if (best == sym.size()) break;
            sym[best] += sym[best + 1];
            sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
        }
        for (const auto& s : sym) out.push_back(t.find_token(s));
    }
    return out;
}

}  // namespace

TEST_CASE("bpe: merges by rank, step by step") {
    const auto t = Tokenizer::create(small_vocab("default"));
    // "hello": pairs h+e (4), l+l (0). l+l first: h e ll o; then e+ll (1): h ell o; h+ell (2):
    // hell o; hell+o (3): hello. The queued h+e is stale by then.
    CHECK(t->encode("hello") == V{259});
    // "hell": the same steps stop at hell.
    CHECK(t->encode("hell") == V{258});
    // "the" (no space): t+h is no merge, h+e (4): t he.
    CHECK(t->encode("the") == V{'t', 260});
    // " the": Ġ+t (5) and h+e (4): he first (rank 4 < 5), then Ġt, then Ġt+he (6): Ġthe.
    CHECK(t->encode(" the") == V{262});
    // " world": Ġ+w (7) and o+r (8): Ġw o r l d, then Ġw or l d, then Ġw+or (9): Ġwor l d.
    CHECK(t->encode(" world") == V{265, 'l', 'd'});
    // Pre-tokenised into "hello", " the", " world".
    CHECK(t->encode("hello the world") == V{259, 262, 265, 'l', 'd'});
    // "lll": two pairs l+l of equal rank; the leftmost merges: ll l.
    CHECK(t->encode("lll") == V{256, 'l'});
    // Pieces never merge across the pre-tokeniser's boundaries: "I'm" is "I", "'m".
    CHECK(t->encode("I'm") == V{'I', '\'', 'm'});
    CHECK(t->decode(t->encode("hello the world")) == "hello the world");
    CHECK(t->token_bytes(262) == " the");
}

TEST_CASE("bpe: llama-bpe ignores merges for a piece that is a token; qwen2 does not") {
    // " world" is the token Ġworld (269) although no merge reaches it.
    const auto llama3 = Tokenizer::create(small_vocab("llama-bpe"));
    CHECK(llama3->encode("hello the world") == V{259, 262, 269});
    const auto qwen2 = Tokenizer::create(small_vocab("qwen2"));
    CHECK(qwen2->encode("hello the world") == V{259, 262, 265, 'l', 'd'});
    // The pre-tokenisers' own splits show through: llama-bpe digits by three, qwen2 by one.
    CHECK(llama3->encode("12345") == V{'1', '2', '3', '4', '5'});  // "123" "45": bytes, no merges
    CHECK(qwen2->encode("DON'T") == V{'D', 'O', 'N', '\'', 'T'});
}

TEST_CASE("bpe: special tokens, BOS and EOS") {
    VocabData d = small_vocab("llama-bpe");
    {
        const auto t = Tokenizer::create(d);
        CHECK(t->encode("<|im_start|>hello<|endoftext|>") == V{267, 259, 266});
        // Not parsed: the same text as plain bytes, which decodes back.
        const V plain = t->encode("<|im_start|>hello<|endoftext|>", true, false);
        CHECK(std::find(plain.begin(), plain.end(), 266) == plain.end());
        CHECK(std::find(plain.begin(), plain.end(), 267) == plain.end());
        CHECK(t->decode(plain) == "<|im_start|>hello<|endoftext|>");
        // User-defined tokens always match; the leftmost-longest match wins.
        CHECK(t->encode("hello<tool> the", true, false) == V{259, 268, 262});
        CHECK(t->decode(V{267, 259, 266}) == "hello");
        CHECK(t->decode(V{267, 259, 266}, true) == "<|im_start|>hello<|endoftext|>");
    }
    d.add_bos = true;
    d.bos = 266;
    d.add_eos = true;
    d.eos = 266;
    d.eot = 267;
    const auto t = Tokenizer::create(d);
    CHECK(t->encode("hello") == V{266, 259, 266});
    CHECK(t->encode("hello", false) == V{259});
    CHECK(t->is_end(266));
    CHECK(t->is_end(267));
    CHECK_FALSE(t->is_end(259));
}

TEST_CASE("bpe: overlapping special tokens match leftmost-longest") {
    VocabData d = tokenizer_test::byte_level_vocab("default");
    const int32_t ab = add_token(d, "<ab>", TokenType::control);
    const int32_t abc = add_token(d, "<ab><c>", TokenType::control);
    const int32_t c = add_token(d, "<c>", TokenType::control);
    const auto t = Tokenizer::create(d);
    CHECK(t->encode("<ab><c>") == V{abc});
    CHECK(t->encode("<ab>x<c>") == V{ab, 'x', c});
    CHECK(t->encode("<<ab>") == V{'<', ab});
}

TEST_CASE("bpe: invalid vocabularies are refused with a reason") {
    VocabData d = small_vocab("deepseek-llm");
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("'deepseek-llm'"), TokenizerError);
    d = small_vocab("default");
    d.merges.push_back("q z");  // "qz" is no token
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("'qz'"), TokenizerError);
    d = small_vocab("default");
    d.merges.push_back("qz");
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("merge 10"), TokenizerError);
    // Without the byte tokens a byte cannot be encoded.
    d = small_vocab("default");
    d.tokens[0xFF] = "unused-byte";
    const auto t = Tokenizer::create(d);
    CHECK_THROWS_WITH_AS(t->encode("\xFF"), doctest::Contains("0xFF"), TokenizerError);
}

namespace {

// Merges learnt from a random corpus the classic way: repeatedly merge the most frequent
// adjacent pair within pre-tokenised pieces (ties: the smallest pair), `count` times.
VocabData trained_vocab(std::mt19937& rng, const std::string& pre, int count) {
    VocabData d = tokenizer_test::byte_level_vocab(pre);
    std::string corpus;
    // Repeat a few random words so that some pairs are frequent.
    std::vector<std::string> words;
    for (int i = 0; i < 30; ++i) words.push_back(tokenizer_test::random_text(rng, 6));
    std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
    for (int i = 0; i < 400; ++i) corpus += words[pick(rng)] + (i % 7 == 0 ? "\n" : " ");
    std::vector<std::vector<std::string>> pieces;
    for (const std::string_view p : pre_tokenize(*pre_tokenizer_from_name(pre), corpus)) {
        std::vector<std::string> sym;
        for (char c : p) sym.push_back(byte_level_encode(std::string(1, c)));
        pieces.push_back(sym);
    }
    std::set<std::string> vocab(d.tokens.begin(), d.tokens.end());
    for (int m = 0; m < count; ++m) {
        std::map<std::pair<std::string, std::string>, int> freq;
        for (const auto& sym : pieces) {
            for (size_t i = 0; i + 1 < sym.size(); ++i) ++freq[{sym[i], sym[i + 1]}];
        }
        if (freq.empty()) break;
        const auto best = std::max_element(freq.begin(), freq.end(),
                                           [](const auto& a, const auto& b) { return a.second < b.second; });
        const auto [a, b] = best->first;
        if (vocab.insert(a + b).second) {
            add_merge(d, a, b);
        } else {
            d.merges.push_back(a + " " + b);  // a second way to spell an existing token
        }
        for (auto& sym : pieces) {
            for (size_t i = 0; i + 1 < sym.size(); ++i) {
                if (sym[i] == a && sym[i + 1] == b) {
                    sym[i] += sym[i + 1];
                    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(i) + 1);
                }
            }
        }
    }
    return d;
}

}  // namespace

TEST_CASE("bpe: matches the reference merge loop and round-trips random text and bytes") {
    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    for (const std::string pre : {"default", "llama-bpe", "qwen2"}) {
        CAPTURE(pre);
        const VocabData d = trained_vocab(rng, pre, 150);
        const auto t = Tokenizer::create(d);
        for (int i = 0; i < 300; ++i) {
            const std::string text = i % 4 == 3 ? tokenizer_test::random_bytes(rng, 30) : tokenizer_test::random_text(rng, 30);
            CAPTURE(text);
            const V got = t->encode(text, false, false);
            CHECK(got == reference_encode(d, *t, text));
            CHECK(t->decode(got) == text);
        }
    }
}

TEST_CASE("bpe: a megabyte encodes in well under a second") {
    std::mt19937 rng(4321);
    VocabData d = trained_vocab(rng, "llama-bpe", 300);
    add_merge(d, "a", "a");
    add_merge(d, "aa", "aa");
    add_merge(d, G, G);
    const auto t = Tokenizer::create(d);
    std::string text;
    while (text.size() < (1u << 20)) text += tokenizer_test::random_text(rng, 200);
    // One piece of a million letters, and one of a million spaces: no quadratic merge loops.
    const std::string letters(1u << 20, 'a'), spaces(1u << 20, ' ');
    for (const std::string* s : std::initializer_list<const std::string*>{&text, &letters, &spaces}) {
        // Thread CPU time, the best of two runs: a busy machine should not fail the check.
        double seconds = 1e9;
        V out;
        for (int run = 0; run < 2 && seconds >= 0.5; ++run) {
            const double start = tokenizer_test::thread_cpu_seconds();
            out = t->encode(*s);
            seconds = std::min(seconds, tokenizer_test::thread_cpu_seconds() - start);
        }
        MESSAGE("bpe: " << s->size() << " bytes -> " << out.size() << " tokens in " << seconds << " s");
        CHECK(seconds < 1.0);
        CHECK(t->decode(out) == *s);
    }
}
