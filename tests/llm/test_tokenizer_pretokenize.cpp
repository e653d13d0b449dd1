// The pre-tokenisers' splits. Each expected split follows the regex by hand (the first
// alternative that matches at a position wins; quantifiers are greedy and back off); the
// patterns are written out in examples/llm/tokenizer/pretokenize.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_tokenizer_support.hpp"
#include "tokenizer/pretokenize.hpp"

using namespace llm;

namespace {

std::vector<std::string> split(PreTokenizer k, std::string_view text) {
    std::vector<std::string> out;
    for (const std::string_view p : pre_tokenize(k, text)) out.emplace_back(p);
    return out;
}

using V = std::vector<std::string>;
constexpr auto gpt2 = PreTokenizer::gpt2;
constexpr auto llama3 = PreTokenizer::llama3;
constexpr auto qwen2 = PreTokenizer::qwen2;

}  // namespace

TEST_CASE("pre-tokeniser names") {
    CHECK(pre_tokenizer_from_name("") == gpt2);
    CHECK(pre_tokenizer_from_name("default") == gpt2);
    CHECK(pre_tokenizer_from_name("gpt-2") == gpt2);
    CHECK(pre_tokenizer_from_name("llama-bpe") == llama3);
    CHECK(pre_tokenizer_from_name("llama3") == llama3);
    CHECK(pre_tokenizer_from_name("qwen2") == qwen2);
    CHECK_FALSE(pre_tokenizer_from_name("deepseek-llm").has_value());
}

TEST_CASE("pre-tokenise: contractions") {
    // "I'm": 'I' is a letter run; "'m" is a contraction in all three.
    for (auto k : {gpt2, llama3, qwen2}) CHECK(split(k, "I'm") == V{"I", "'m"});
    // GPT-2's contractions are lower case only: "'T" is not one, so ' is an "other" run of one
    // (T, a letter, ends it) and T is a letter run. Llama 3 and Qwen2 match them case-blind.
    CHECK(split(gpt2, "DON'T") == V{"DON", "'", "T"});
    CHECK(split(llama3, "DON'T") == V{"DON", "'T"});
    CHECK(split(qwen2, "DON'T") == V{"DON", "'T"});
    CHECK(split(llama3, "they'RE we'Ll") == V{"they", "'RE", " we", "'Ll"});
    // Under Unicode case folding U+017F (long s) folds to s, so (?i:'s) matches "'ſ".
    CHECK(split(llama3, "it'\u017F") == V{"it", "'\u017F"});
    CHECK(split(gpt2, "it'\u017F") == V{"it", "'", "\u017F"});
    // A contraction is tried only where the apostrophe is: "'''s" starts with an other run that
    // swallows all three apostrophes, leaving s alone.
    for (auto k : {gpt2, llama3, qwen2}) CHECK(split(k, "'''s") == V{"'''", "s"});
    // "'sam": the contraction alternative comes first and takes "'s".
    CHECK(split(llama3, "'sam") == V{"'s", "am"});
}

TEST_CASE("pre-tokenise: digits") {
    CHECK(split(gpt2, "12345") == V{"12345"});               //  ?\p{N}+
    CHECK(split(llama3, "12345") == V{"123", "45"});         // \p{N}{1,3}
    CHECK(split(qwen2, "12345") == V{"1", "2", "3", "4", "5"});  // \p{N}: Qwen2 splits every digit
    CHECK(split(llama3, "x4567") == V{"x", "456", "7"});
    // " 123": GPT-2 takes the space with the digits; Llama 3 has no " ?" before \p{N}, so the
    // space is a lone \s+ (\s+(?!\S) fails on a run of one before a non-space).
    CHECK(split(gpt2, " 123") == V{" 123"});
    CHECK(split(llama3, " 123") == V{" ", "123"});
    // Other numbers: superscript two (No), Arabic-Indic digits (Nd).
    CHECK(split(llama3, "x\u00B2") == V{"x", "\u00B2"});
    CHECK(split(llama3, "\u0661\u0662\u0663\u0664") == V{"\u0661\u0662\u0663", "\u0664"});
}

TEST_CASE("pre-tokenise: white space") {
    // "a   b": \s+(?!\S) backs off one space so that " b" keeps its space.
    for (auto k : {gpt2, llama3, qwen2}) CHECK(split(k, "a   b") == V{"a", "  ", " b"});
    // At the end of the text the whole run matches.
    for (auto k : {gpt2, llama3, qwen2}) CHECK(split(k, "hi   ") == V{"hi", "   "});
    // "a\n\nb": GPT-2 backs off one newline, then the last newline is a lone \s+. Llama 3's
    // \s*[\r\n]+ takes the run through its last line break.
    CHECK(split(gpt2, "a\n\nb") == V{"a", "\n", "\n", "b"});
    CHECK(split(llama3, "a\n\nb") == V{"a", "\n\n", "b"});
    CHECK(split(gpt2, "a\r\nb") == V{"a", "\r", "\n", "b"});
    CHECK(split(llama3, "a\r\nb") == V{"a", "\r\n", "b"});
    // "x  \n  y": Llama 3 ends \s*[\r\n]+ at the newline, then \s+(?!\S) backs off from "  " to
    // " ", leaving " y". GPT-2 takes all but the last white-space character.
    CHECK(split(llama3, "x  \n  y") == V{"x", "  \n", " ", " y"});
    CHECK(split(gpt2, "x  \n  y") == V{"x", "  \n ", " y"});
    // A tab before a word: GPT-2's optional prefix is a space only; Llama 3's is any character
    // that is not \r, \n, a letter or a number.
    CHECK(split(gpt2, "a\tb") == V{"a", "\t", "b"});
    CHECK(split(llama3, "a\tb") == V{"a", "\tb"});
    // Non-ASCII white space: ideographic space and no-break space.
    CHECK(split(llama3, "a\u3000\u00A0b") == V{"a", "\u3000", "\u00A0b"});
    CHECK(split(gpt2, "a\u3000\u00A0b") == V{"a", "\u3000", "\u00A0", "b"});
}

TEST_CASE("pre-tokenise: punctuation, emoji, CJK and combining marks") {
    // Llama 3: punctuation before letters joins them; trailing line breaks join punctuation.
    CHECK(split(llama3, "(hello)") == V{"(hello", ")"});
    CHECK(split(gpt2, "(hello)") == V{"(", "hello", ")"});
    CHECK(split(llama3, "Hi!\n\nok") == V{"Hi", "!\n\n", "ok"});
    CHECK(split(gpt2, "Hi!\n\nok") == V{"Hi", "!", "\n", "\n", "ok"});
    // Emoji and the variation selector U+FE0F (a mark) are "other": " ?[^\s\p{L}\p{N}]+".
    for (auto k : {gpt2, llama3, qwen2}) {
        CHECK(split(k, "I \u2764\uFE0F you \U0001F600!") == V{"I", " \u2764\uFE0F", " you", " \U0001F600!"});
    }
    // A family emoji joined by ZWJ (U+200D, Cf) is one other run.
    CHECK(split(llama3, "\U0001F468\u200D\U0001F469!") == V{"\U0001F468\u200D\U0001F469!"});
    // CJK ideographs are letters (Lo).
    for (auto k : {gpt2, llama3, qwen2}) CHECK(split(k, "\u6211\u67093\u4E2A") == V{"\u6211\u6709", "3", "\u4E2A"});
    // Combining marks are not letters: the mark in "Cafe\u0301" is a piece of its own; in
    // "na\u0308ive" Llama 3 takes it as the optional character in front of "ive".
    for (auto k : {gpt2, llama3}) CHECK(split(k, "Cafe\u0301 ok") == V{"Cafe", "\u0301", " ok"});
    CHECK(split(gpt2, "na\u0308ive") == V{"na", "\u0308", "ive"});
    CHECK(split(llama3, "na\u0308ive") == V{"na", "\u0308ive"});
}

TEST_CASE("pre-tokenise: ill-formed UTF-8 is an other character") {
    CHECK(split(gpt2, "a\xFF" "b") == V{"a", "\xFF", "b"});
    CHECK(split(llama3, "a\xFF" "b") == V{"a", "\xFF" "b"});
    CHECK(split(gpt2, "x \xE2\x82") == V{"x", " \xE2\x82"});
}

TEST_CASE("pre-tokenise: pieces cover random text exactly") {
    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    for (int i = 0; i < 300; ++i) {
        const std::string text = i % 3 == 2 ? tokenizer_test::random_bytes(rng, 40) : tokenizer_test::random_text(rng, 40);
        for (auto k : {gpt2, llama3, qwen2}) {
            std::string joined;
            for (const std::string_view p : pre_tokenize(k, text)) {
                CHECK_FALSE(p.empty());
                joined += p;
            }
            CHECK(joined == text);
        }
    }
}
