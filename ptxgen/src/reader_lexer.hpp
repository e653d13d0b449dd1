// The PTX reader's tokens. Private to the reader (ptxgen/src/reader*.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ptxgen::ptx_reader {

enum class Tok : uint8_t {
    word,     // mnemonics, directives, names: ld.global.nc.L1::evict_last.f32, .reg, $L_for_0, param_x
    reg,      // %r12, %tid.x, %rd (in .reg declarations)
    number,   // 42, 0xff, 0f3F800000, 0d4000000000000000, 8.3 (in .version)
    string,   // "nounroll", without the quotes
    punct,    // one of , ; : ( ) [ ] { } < > + - @ ! |
    comment,  // the text of // ... or /* ... */, without the delimiters
    end,
};

struct Token {
    Tok kind = Tok::end;
    std::string_view text;  // a view into the text being read
    uint32_t line = 1;
    uint32_t col = 1;       // 1-based, in bytes

    bool is(char c) const { return kind == Tok::punct && text.size() == 1 && text[0] == c; }
    bool is(std::string_view w) const { return kind == Tok::word && text == w; }
};

// Throws ptxsmith::Error "source:line:col: message".
[[noreturn]] void fail_at(std::string_view source, uint32_t line, uint32_t col, const std::string& message);
[[noreturn]] inline void fail_at(std::string_view source, const Token& at, const std::string& message) {
    fail_at(source, at.line, at.col, message);
}

// The whole text as tokens, comments included, ending with one Tok::end.
std::vector<Token> lex(std::string_view text, std::string_view source);

// The value of a decimal or 0x-hex integer token; false when it is not one or exceeds 64 bits.
bool parse_integer(std::string_view digits, uint64_t& value);

// How a token is named in messages: `add.u32`, `%r1`, end of text.
std::string describe(const Token& t);

}  // namespace ptxgen::ptx_reader
