// The Unicode facts the tokenizers need: general categories (from a table generated out of
// Python's unicodedata, see scripts/gen_unicode_tables.py), the White_Space property, and
// UTF-8 decoding that never throws: ill-formed input is reported per maximal subpart, so that
// callers can keep the original bytes (the byte-level tokenizers do) or replace them with U+FFFD
// (the stream decoder does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llm::unicode {

// The general categories, in the order the generated table uses.
enum class Category : uint8_t {
    Lu, Ll, Lt, Lm, Lo,          // letters
    Mn, Mc, Me,                  // marks
    Nd, Nl, No,                  // numbers
    Pc, Pd, Ps, Pe, Pi, Pf, Po,  // punctuation
    Sm, Sc, Sk, So,              // symbols
    Zs, Zl, Zp,                  // separators
    Cc, Cf, Cs, Co, Cn,          // other (Cn: unassigned)
};

Category category(char32_t cp);
const char* category_name(Category c);  // "Lu", "Nd", ...
// The Unicode version the category table was generated from, e.g. "14.0.0".
const char* data_version();

bool is_letter(char32_t cp);       // \p{L}
bool is_number(char32_t cp);       // \p{N}
bool is_mark(char32_t cp);         // \p{M}
bool is_punctuation(char32_t cp);  // \p{P}
bool is_symbol(char32_t cp);       // \p{S}
// The White_Space property, which is what \s means in the regex engines the pre-tokeniser
// patterns were written for: U+0009..U+000D, U+0085 and the Zs, Zl and Zp categories.
bool is_whitespace(char32_t cp);

// One step of UTF-8 decoding at a byte offset.
struct Decoded {
    enum class Status : uint8_t {
        ok,         // a well-formed character of `length` bytes
        invalid,    // `length` bytes (at least 1) form a maximal ill-formed subpart
        truncated,  // `length` bytes are a well-formed prefix cut off by the end of the input
    };
    char32_t cp = 0;      // the character when ok, else U+FFFD
    uint32_t length = 0;  // bytes consumed, 1..4
    Status status = Status::ok;
};
// Decodes the character starting at s[pos] (pos < s.size()). Overlong forms, surrogates and
// values above U+10FFFF are invalid; an invalid unit is the longest prefix that could still have
// begun a well-formed sequence (at least one byte), as Unicode's "maximal subpart" practice says.
Decoded decode_utf8(std::string_view s, size_t pos);

void append_utf8(std::string& out, char32_t cp);
// `s` with every ill-formed or truncated unit replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);

namespace detail {
struct CategoryRun {
    char32_t first;
    char32_t last;
    Category category;
};
extern const char unicode_data_version[];
extern const CategoryRun category_runs[];  // ascending, disjoint; unassigned code points absent
extern const size_t category_run_count;
}  // namespace detail

}  // namespace llm::unicode
