// SentencePiece-style ("llama") tokenization on hand-made vocabularies.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "test_tokenizer_support.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace llm;
using tokenizer_test::add_token;

namespace {

const std::string sp = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// <unk>, <s>, </s>, optionally the 256 byte tokens <0x00>..<0xFF>, then pieces with scores:
//   ▁ -1.0   a -2   b -2   c -2   ▁a -1.5   ab -0.5   bc -0.2   abc -0.1   ▁ab -3.0   aa -1.0
// and the user-defined token <|user|>.
VocabData small_vocab(bool with_bytes = true, bool with_unk = true) {
    VocabData d;
    d.model = "llama";
    if (with_unk) d.unk = add_token(d, "<unk>", TokenType::unknown);
    d.bos = add_token(d, "<s>", TokenType::control);
    d.eos = add_token(d, "</s>", TokenType::control);
    if (with_bytes) {
        for (int b = 0; b < 256; ++b) add_token(d, fmt::format("<0x{:02X}>", b), TokenType::byte);
    }
    const std::pair<std::string, float> pieces[] = {
        {sp, -1.0f}, {"a", -2}, {"b", -2}, {"c", -2}, {sp + "a", -1.5f}, {"ab", -0.5f},
        {"bc", -0.2f}, {"abc", -0.1f}, {sp + "ab", -3.0f}, {"aa", -1.0f},
    };
    for (const auto& [text, score] : pieces) add_token(d, text, TokenType::normal, score);
    add_token(d, "<|user|>", TokenType::user_defined);
    return d;
}

std::vector<int32_t> ids(const Tokenizer& t, const std::vector<std::string>& texts) {
    std::vector<int32_t> out;
    for (const auto& s : texts) {
        const int32_t id = t.find_token(s);
        REQUIRE_MESSAGE(id >= 0, "no token " << s);
        out.push_back(id);
    }
    return out;
}

// The reference: keep merging the adjacent pair whose concatenation is a normal piece with the
// highest score (the leftmost such pair on ties), one merge per pass over all pairs; then map
// pieces to ids and other characters to byte tokens.
std::vector<int32_t> reference_encode(const VocabData& d, const Tokenizer& t, std::string_view text) {
    std::map<std::string, std::pair<float, int32_t>> pieces;
    for (size_t i = 0; i < d.tokens.size(); ++i) {
        if (d.token_types[i] == 1) pieces.try_emplace(d.tokens[i], d.scores[i], static_cast<int32_t>(i));
    }
    if (text.empty()) return {};  // no stretch of text, so no prefix either
    std::string s = d.add_space_prefix ? sp : "";
    for (char c : text) s += c == ' ' ? sp : std::string(1, c);
    std::vector<std::string> sym;
    for (size_t pos = 0; pos < s.size();) {
        const uint32_t n = unicode::decode_utf8(s, pos).length;
        sym.push_back(s.substr(pos, n));
        pos += n;
    }
    for (;;) {
        size_t best = sym.size();
        float best_score = 0;
        for (size_t i = 0; i + 1 < sym.size(); ++i) {
            const auto it = pieces.find(sym[i] + sym[i + 1]);
            if (it != pieces.end() && (best == sym.size() || it->second.first > best_score)) {
                best = i;
                best_score = it->second.first;
            }
        }
        if (best == sym.size()) break;
        sym[best] += sym[best + 1];
        sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    std::vector<int32_t> out;
    for (const auto& x : sym) {
        if (const auto it = pieces.find(x); it != pieces.end()) {
            out.push_back(it->second.second);
        } else {
            for (unsigned char c : x) out.push_back(t.find_token(fmt::format("<0x{:02X}>", c)));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("spm: score-driven merging, step by step") {
    const auto t = Tokenizer::create(small_vocab());
    // "abc" -> "▁abc" -> symbols ▁ a b c; candidate pairs ▁a (-1.5), ab (-0.5), bc (-0.2).
    // bc scores highest: ▁ a bc; the new pair a+bc = abc (-0.1) now scores highest: ▁ abc.
    // "▁abc" is not a piece, and the queued ▁a and ab are stale. So ▁ abc, after BOS.
    CHECK(t->encode("abc") == ids(*t, {"<s>", sp, "abc"}));
    // "ab" -> ▁ a b: ab (-0.5) beats ▁a (-1.5): ▁ ab; then ▁+ab = ▁ab (-3.0), a piece: ▁ab.
    CHECK(t->encode("ab", false) == ids(*t, {sp + "ab"}));
    // "aaa" -> ▁ a a a: pairs ▁a (-1.5), aa at 1 (-1.0), aa at 2 (-1.0). The tie goes to the
    // leftmost: ▁ aa a; "▁aa" and "aaa" are not pieces.
    CHECK(t->encode("aaa", false) == ids(*t, {sp, "aa", "a"}));
    // Spaces become ▁: "a b" -> ▁ a ▁ b: only ▁a is a piece (a▁ and ▁b are not): ▁a ▁ b.
    CHECK(t->encode("a b", false) == ids(*t, {sp + "a", sp, "b"}));
    // A leading space gives two ▁: ▁ ▁ a -> ▁ ▁a.
    CHECK(t->encode(" a", false) == ids(*t, {sp, sp + "a"}));
}

TEST_CASE("spm: without the space prefix") {
    VocabData d = small_vocab();
    d.add_space_prefix = false;
    const auto t = Tokenizer::create(d);
    // "aaa": a a a, two equal pairs aa: the leftmost merges first: aa a.
    CHECK(t->encode("aaa", false) == ids(*t, {"aa", "a"}));
    // "abc": bc first, then abc.
    CHECK(t->encode("abc", false) == ids(*t, {"abc"}));
    CHECK(t->decode(t->encode(" ab c")) == " ab c");
}

TEST_CASE("spm: byte fallback and the unknown token") {
    // "a☃": ▁ a ☃; ▁a merges; ☃ (E2 98 83) is not a piece: its three byte tokens.
    const auto t = Tokenizer::create(small_vocab());
    CHECK(t->encode("a\u2603", false) == ids(*t, {sp + "a", "<0xE2>", "<0x98>", "<0x83>"}));
    // "d" is not a piece either: <0x64>.
    CHECK(t->encode("d", false) == ids(*t, {sp, "<0x64>"}));
    // Ill-formed input survives as bytes.
    CHECK(t->encode("\xFF", false) == ids(*t, {sp, "<0xFF>"}));
    CHECK(t->decode(t->encode("a\u2603\xFF" "d")) == "a\u2603\xFF" "d");

    // Without byte tokens the character becomes <unk>.
    const auto u = Tokenizer::create(small_vocab(false));
    CHECK(u->encode("a\u2603b", false) == ids(*u, {sp + "a", "<unk>", "b"}));
    // With neither, it cannot be encoded.
    const auto none = Tokenizer::create(small_vocab(false, false));
    CHECK_THROWS_AS(none->encode("\u2603"), TokenizerError);
}

TEST_CASE("spm: BOS, EOS and special tokens") {
    VocabData d = small_vocab();
    {
        const auto t = Tokenizer::create(d);
        CHECK(t->encode("") == ids(*t, {"<s>"}));
        CHECK(t->encode("", false).empty());
        // "<s>a</s>" with special tokens parsed: BOS, then <s>, then "a" (a new stretch after a
        // special token, so it gets the ▁ prefix: ▁a), then </s>.
        CHECK(t->encode("<s>a</s>") == ids(*t, {"<s>", "<s>", sp + "a", "</s>"}));
        // Not parsed: the text is plain characters; none of < s > / is a piece, so each is a
        // byte token; a is a piece.
        CHECK(t->encode("<s>a</s>", false, false) ==
              ids(*t, {sp, "<0x3C>", "<0x73>", "<0x3E>", "a", "<0x3C>", "<0x2F>", "<0x73>", "<0x3E>"}));
        // User-defined tokens are matched even when special tokens are not parsed; the text
        // after one starts a new stretch: "a" -> ▁a, <|user|>, "ab" -> ▁ab.
        CHECK(t->encode("a<|user|>ab", false, false) == ids(*t, {sp + "a", "<|user|>", sp + "ab"}));
        CHECK(t->decode(t->encode("a<|user|>ab")) == "a<|user|>ab");
        CHECK(t->bos() == t->find_token("<s>"));
        CHECK(t->is_end(t->find_token("</s>")));
        CHECK_FALSE(t->is_end(t->find_token("<s>")));
        CHECK(t->is_control(t->bos()));
        CHECK_FALSE(t->is_control(t->find_token("<|user|>")));
    }
    d.add_bos = false;
    d.add_eos = true;
    const auto t = Tokenizer::create(d);
    CHECK(t->encode("a") == ids(*t, {sp + "a", "</s>"}));
}

TEST_CASE("spm: decoding") {
    const auto t = Tokenizer::create(small_vocab());
    // ▁ reads back as a space and the space the prefix added is dropped.
    CHECK(t->decode(ids(*t, {"<s>", sp + "a", sp, "b"})) == "a b");
    CHECK(t->decode(ids(*t, {"<s>", sp + "a", sp, "b"}), true) == "<s>a b");
    CHECK(t->decode(ids(*t, {sp, sp + "a"})) == " a");
    CHECK(t->token_bytes(t->find_token("<0xE2>")) == "\xE2");
    CHECK(t->token_bytes(t->find_token(sp + "ab")) == " ab");
    CHECK(t->token_text(t->find_token(sp + "ab")) == sp + "ab");
    // The documented loss: U+2581 in the input is read as a space.
    CHECK(t->decode(t->encode("x\u2581y")) == "x y");
    const std::vector<int32_t> bad = {5, 100000};
    CHECK_THROWS_AS(t->decode(bad), TokenizerError);
}

TEST_CASE("spm: invalid vocabularies are refused with a reason") {
    VocabData d = small_vocab();
    d.scores.pop_back();
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("scores"), TokenizerError);
    d = small_vocab();
    d.bos = 5000;
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("BOS token id 5000"), TokenizerError);
    d = small_vocab();
    d.token_types[7] = 9;
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("type 9"), TokenizerError);
    d = small_vocab();
    d.model = "bert";
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("'bert'"), TokenizerError);
    d = small_vocab();
    d.bos = -1;
    CHECK_THROWS_WITH_AS(Tokenizer::create(d), doctest::Contains("add_bos"), TokenizerError);
}

namespace {

// A vocabulary for random text: the byte tokens, and as pieces random stretches of random text
// (escaped, so some start with ▁) with random scores.
VocabData random_vocab(std::mt19937& rng, bool add_space_prefix) {
    VocabData d = small_vocab();
    d.add_space_prefix = add_space_prefix;
    std::uniform_real_distribution<float> score(-10, 0);
    std::set<std::string> seen(d.tokens.begin(), d.tokens.end());
    for (int i = 0; i < 400; ++i) {
        std::string s;
        for (char c : tokenizer_test::random_text(rng, 4, 0x2581)) s += c == ' ' ? sp : std::string(1, c);
        if (s.empty() || !seen.insert(s).second) continue;
        add_token(d, s, TokenType::normal, score(rng));
    }
    return d;
}

}  // namespace

TEST_CASE("spm: matches the reference merge loop and round-trips random text") {
    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    for (bool prefix : {true, false}) {
        CAPTURE(prefix);
        const VocabData d = random_vocab(rng, prefix);
        const auto t = Tokenizer::create(d);
        for (int i = 0; i < 300; ++i) {
            const std::string text = tokenizer_test::random_text(rng, 30, 0x2581);
            CAPTURE(text);
            const std::vector<int32_t> got = t->encode(text, false, false);
            CHECK(got == reference_encode(d, *t, text));
            CHECK(t->decode(got) == text);
            CHECK(t->decode(t->encode(text, true, false)) == text);  // with BOS
        }
    }
}

TEST_CASE("spm: a megabyte encodes in well under a second") {
    std::mt19937 rng(1234);
    const VocabData d = random_vocab(rng, true);
    const auto t = Tokenizer::create(d);
    std::string text;
    while (text.size() < (1u << 20)) text += tokenizer_test::random_text(rng, 200, 0x2581);
    // One long run of a single repeated piece too: no quadratic behaviour on long words.
    const std::string same(1u << 20, 'a');
    for (const std::string* s : std::initializer_list<const std::string*>{&text, &same}) {
        // Thread CPU time, the best of two runs: a busy machine should not fail the check.
        double seconds = 1e9;
        std::vector<int32_t> out;
        for (int run = 0; run < 2 && seconds >= 0.5; ++run) {
            const double start = tokenizer_test::thread_cpu_seconds();
            out = t->encode(*s);
            seconds = std::min(seconds, tokenizer_test::thread_cpu_seconds() - start);
        }
        MESSAGE("spm: " << s->size() << " bytes -> " << out.size() << " tokens in " << seconds << " s");
        CHECK(seconds < 1.0);
        CHECK(t->decode(out) == *s);
    }
}
