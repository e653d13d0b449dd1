// Shared by the tokenizer tests: random text from a mix of scripts, and small vocabularies.
#pragma once

#include <fmt/format.h>

#include <time.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tokenizer/byte_level.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace tokenizer_test {

// CPU time of the calling thread: timing checks use it so that a busy machine (other builds,
// other tests) does not fail them.
inline double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A fresh seed per run; tests CAPTURE it so that a failure can be replayed.
inline uint32_t fresh_seed() { return std::random_device{}(); }

// Characters a random text draws from: ASCII letters, digits, punctuation and white space
// (including \r, \t, vertical tab, form feed), apostrophes and contraction letters, controls,
// Latin with diacritics, combining marks, Greek, Cyrillic, Arabic, Devanagari, CJK, Hangul,
// emoji with skin tones, ZWJ and variation selectors, non-ASCII spaces and numbers, U+2019.
inline const std::vector<char32_t>& text_alphabet() {
    static const std::vector<char32_t> chars = [] {
        std::vector<char32_t> v;
        for (char32_t c : std::u32string(U"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")) v.push_back(c);
        for (char32_t c : std::u32string(U" \t\n\r\v\f     '''sStTmMdDlLrReEvV!?.,;:-_()[]{}<>|/\\#$%^&*~`\"+=@")) v.push_back(c);
        for (char32_t c : std::u32string(U"éüßñçÀÆøĳſΑβγδЖжщЯاببتअआइ你好世界中文日本語한국어")) v.push_back(c);
        for (char32_t c : {0x0301u, 0x0308u, 0x093Fu, 0x200Du, 0xFE0Fu, 0x1F600u, 0x2764u, 0x1F44Du, 0x1F3FDu,
                           0x1F468u, 0x00B2u, 0x00BDu, 0x216Bu, 0x0663u, 0x0966u, 0x0000u, 0x0001u, 0x001Fu,
                           0x007Fu, 0x0085u, 0x00A0u, 0x00ADu, 0x2003u, 0x2028u, 0x3000u, 0xFEFFu, 0xFFFDu,
                           0x10FFFFu, 0xE000u, 0x2019u})
            v.push_back(static_cast<char32_t>(c));
        return v;
    }();
    return chars;
}

// Random UTF-8 text of up to max_chars characters from text_alphabet(); `except` is never drawn.
inline std::string random_text(std::mt19937& rng, size_t max_chars, char32_t except = 0xFFFFFFFF) {
    const auto& chars = text_alphabet();
    std::uniform_int_distribution<size_t> len(0, max_chars), pick(0, chars.size() - 1);
    std::string s;
    for (size_t n = len(rng), i = 0; i < n; ++i) {
        char32_t c = chars[pick(rng)];
        while (c == except) c = chars[pick(rng)];
        llm::unicode::append_utf8(s, c);
    }
    return s;
}

// Random bytes, well-formed or not.
inline std::string random_bytes(std::mt19937& rng, size_t max_len) {
    std::uniform_int_distribution<size_t> len(0, max_len);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string s(len(rng), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    return s;
}

// Byte-level tokens 0..255: id b is byte b's character in GPT-2's alphabet.
inline llm::VocabData byte_level_vocab(const std::string& pre) {
    llm::VocabData d;
    d.model = "gpt2";
    d.pre = pre;
    d.add_bos = false;
    for (int b = 0; b < 256; ++b) d.tokens.push_back(llm::byte_level_encode(std::string(1, static_cast<char>(b))));
    d.token_types.assign(256, 1);
    return d;
}

// Appends a merge "a b" and its result token (normal) to a gpt2 vocabulary; returns the new id.
inline int32_t add_merge(llm::VocabData& d, const std::string& a, const std::string& b) {
    d.merges.push_back(a + " " + b);
    d.tokens.push_back(a + b);
    d.token_types.push_back(1);
    return static_cast<int32_t>(d.tokens.size() - 1);
}

inline int32_t add_token(llm::VocabData& d, const std::string& text, llm::TokenType type, float score = 0) {
    d.tokens.push_back(text);
    d.token_types.push_back(static_cast<int32_t>(type));
    if (!d.scores.empty() || d.model == "llama") d.scores.push_back(score);
    return static_cast<int32_t>(d.tokens.size() - 1);
}

}  // namespace tokenizer_test
