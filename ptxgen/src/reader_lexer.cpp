#include "reader_lexer.hpp"

#include <fmt/format.h>

#include "ptxgen/error.hpp"

namespace ptxgen::ptx_reader {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '$'; }

class Lexer {
public:
    Lexer(std::string_view text, std::string_view source) : s_(text), source_(source) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        out.reserve(s_.size() / 4);
        for (;;) {
            skip_space();
            if (i_ >= s_.size()) break;
            out.push_back(token());
        }
        out.push_back(Token{Tok::end, {}, line_, col()});
        return out;
    }

private:
    std::string_view s_;
    std::string_view source_;
    size_t i_ = 0;
    size_t line_start_ = 0;
    uint32_t line_ = 1;

    uint32_t col() const { return static_cast<uint32_t>(i_ - line_start_ + 1); }
    char at(size_t k) const { return k < s_.size() ? s_[k] : '\0'; }

    void newline() {
        ++line_;
        line_start_ = i_ + 1;
    }

    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) {
            if (s_[i_] == '\n') newline();
            ++i_;
        }
    }

    Token make(Tok kind, size_t from, size_t to, uint32_t line, uint32_t col) const {
        return Token{kind, s_.substr(from, to - from), line, col};
    }

    Token token() {
        const size_t start = i_;
        const uint32_t line = line_, c0 = col();
        const char c = s_[i_];
        if (c == '/' && at(i_ + 1) == '/') {
            i_ += 2;
            while (i_ < s_.size() && s_[i_] != '\n') ++i_;
            return make(Tok::comment, start + 2, i_, line, c0);
        }
        if (c == '/' && at(i_ + 1) == '*') {
            i_ += 2;
            while (i_ < s_.size() && !(s_[i_] == '*' && at(i_ + 1) == '/')) {
                if (s_[i_] == '\n') newline();
                ++i_;
            }
            if (i_ >= s_.size()) fail_at(source_, line, c0, "this /* comment never ends");
            i_ += 2;
            return make(Tok::comment, start + 2, i_ - 2, line, c0);
        }
        if (c == '"') {
            ++i_;
            while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\n') ++i_;
            if (at(i_) != '"') fail_at(source_, line, c0, "this string never ends on its line");
            ++i_;
            return make(Tok::string, start + 1, i_ - 1, line, c0);
        }
        if (c == '%') {
            ++i_;
            while (is_name_char(at(i_)) || at(i_) == '.') ++i_;
            if (i_ == start + 1) fail_at(source_, line, c0, "'%' must start a register name");
            return make(Tok::reg, start, i_, line, c0);
        }
        if (is_digit(c)) {
            // One token for 42, 0xff, 0f3F800000 and 8.3; the parser reads it as its slot requires.
            while (is_name_char(at(i_)) || at(i_) == '.') ++i_;
            return make(Tok::number, start, i_, line, c0);
        }
        if (is_alpha(c) || c == '_' || c == '$' || c == '.') {
            // Mnemonics keep their dots and the '::' of L1::evict_last; a single ':' ends a label.
            ++i_;
            for (;;) {
                if (is_name_char(at(i_)) || at(i_) == '.') {
                    ++i_;
                } else if (at(i_) == ':' && at(i_ + 1) == ':') {
                    i_ += 2;
                } else {
                    break;
                }
            }
            return make(Tok::word, start, i_, line, c0);
        }
        if (std::string_view(",;:()[]{}<>+-@!|").find(c) != std::string_view::npos) {
            ++i_;
            return make(Tok::punct, start, i_, line, c0);
        }
        fail_at(source_, line, c0, fmt::format("unexpected character '{}'", c));
    }
};

}  // namespace

void fail_at(std::string_view source, uint32_t line, uint32_t col, const std::string& message) {
    throw ptxsmith::Error(fmt::format("{}:{}:{}: {}", source, line, col, message));
}

std::vector<Token> lex(std::string_view text, std::string_view source) { return Lexer(text, source).run(); }

bool parse_integer(std::string_view s, uint64_t& value) {
    const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex) s.remove_prefix(2);
    if (s.empty()) return false;
    const uint64_t base = hex ? 16 : 10;
    value = 0;
    for (char c : s) {
        uint64_t d;
        if (is_digit(c)) d = static_cast<uint64_t>(c - '0');
        else if (hex && c >= 'a' && c <= 'f') d = static_cast<uint64_t>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F') d = static_cast<uint64_t>(c - 'A' + 10);
        else return false;
        if (value > (UINT64_MAX - d) / base) return false;
        value = value * base + d;
    }
    return true;
}

std::string describe(const Token& t) {
    switch (t.kind) {
    case Tok::end: return "the end of the text";
    case Tok::string: return fmt::format("\"{}\"", t.text);
    default: return fmt::format("'{}'", t.text);
    }
}

}  // namespace ptxgen::ptx_reader
