#include "tokenizer/pretokenize.hpp"

#include <cstdint>

#include "tokenizer/unicode.hpp"

// How the matchers follow a regex. A regex split takes, at the current position, the first
// alternative (left to right) that matches there, each quantifier greedy with backtracking, and
// continues after the match. Every pattern below ends in alternatives that together match any
// character, so the pieces cover the text. The character classes:
//   \p{L}  letters (general category L*)        \p{N}  numbers (N*)
//   \s     White_Space                           \S     anything else
//   [^\s\p{L}\p{N}]  "other": neither of the three (punctuation, symbols, marks, controls
//                    that are not white space, unassigned and ill-formed units)

namespace llm {

namespace {

enum class Kind : uint8_t { letter, number, space, other };

struct Char {
    size_t offset;  // byte offset of the character in the text
    char32_t cp;
    Kind kind;
};

class Text {
public:
    explicit Text(std::string_view s) : bytes_(s) {
        chars_.reserve(s.size());
        for (size_t pos = 0; pos < s.size();) {
            const unicode::Decoded d = unicode::decode_utf8(s, pos);
            Kind kind = Kind::other;
            if (d.status == unicode::Decoded::Status::ok) {
                if (unicode::is_letter(d.cp)) kind = Kind::letter;
                else if (unicode::is_number(d.cp)) kind = Kind::number;
                else if (unicode::is_whitespace(d.cp)) kind = Kind::space;
            }
            chars_.push_back({pos, d.cp, kind});
            pos += d.length;
        }
    }

    size_t size() const { return chars_.size(); }
    size_t offset(size_t i) const { return i < chars_.size() ? chars_[i].offset : bytes_.size(); }
    // The predicates are false past the end, which is how "end of text" reads in each rule.
    bool letter(size_t i) const { return i < size() && chars_[i].kind == Kind::letter; }
    bool number(size_t i) const { return i < size() && chars_[i].kind == Kind::number; }
    bool space(size_t i) const { return i < size() && chars_[i].kind == Kind::space; }
    bool other(size_t i) const { return i < size() && chars_[i].kind == Kind::other; }
    bool is(size_t i, char32_t cp) const { return i < size() && chars_[i].cp == cp; }
    bool newline(size_t i) const { return is(i, U'\r') || is(i, U'\n'); }
    char32_t cp(size_t i) const { return i < size() ? chars_[i].cp : 0; }

    template <class Pred> size_t run(size_t i, Pred pred) const {
        while (i < size() && pred(i)) ++i;
        return i;
    }
    size_t letters(size_t i) const { return run(i, [&](size_t k) { return letter(k); }); }
    size_t numbers(size_t i) const { return run(i, [&](size_t k) { return number(k); }); }
    size_t spaces(size_t i) const { return run(i, [&](size_t k) { return space(k); }); }
    size_t others(size_t i) const { return run(i, [&](size_t k) { return other(k); }); }
    size_t newlines(size_t i) const { return run(i, [&](size_t k) { return newline(k); }); }

private:
    std::string_view bytes_;
    std::vector<Char> chars_;
};

constexpr size_t no_match = 0;  // matchers return the end of the match, always > the start

// 's|'t|'re|'ve|'m|'ll|'d, case-sensitive (GPT-2) or inside (?i:...) (Llama 3, Qwen2). Under
// Unicode case folding the only character outside ASCII that folds to one of these letters is
// U+017F LATIN SMALL LETTER LONG S, which folds to s.
size_t contraction(const Text& t, size_t i, bool ignore_case) {
    if (!t.is(i, U'\'')) return no_match;
    const auto at = [&](size_t k, char32_t lower) {
        const char32_t c = t.cp(k);
        if (c == lower) return true;
        if (!ignore_case) return false;
        return c == lower - U'a' + U'A' || (lower == U's' && c == U'\u017F');
    };
    if (at(i + 1, U's') || at(i + 1, U't') || at(i + 1, U'm') || at(i + 1, U'd')) return i + 2;
    if ((at(i + 1, U'r') || at(i + 1, U'v')) && at(i + 2, U'e')) return i + 3;
    if (at(i + 1, U'l') && at(i + 2, U'l')) return i + 3;
    return no_match;
}

// \s+(?!\S): the greedy run backs off until the next character is not \S, that is until it is
// white space or the end. At the end of the text the whole run matches; before a non-space it
// keeps all but the last white-space character, and a run of one fails.
size_t spaces_not_before_nonspace(const Text& t, size_t i) {
    if (!t.space(i)) return no_match;
    const size_t end = t.spaces(i);
    if (end == t.size()) return end;
    return end - i >= 2 ? end - 1 : no_match;
}

// \s+
size_t spaces(const Text& t, size_t i) { return t.space(i) ? t.spaces(i) : no_match; }

// GPT-2:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t match_gpt2(const Text& t, size_t i) {
    if (size_t e = contraction(t, i, false)) return e;
    // " ?X+" for the three classes: with the optional space taken when X follows it; without it
    // the space itself would have to be an X, and it is none of the three.
    const size_t j = t.is(i, U' ') ? i + 1 : i;
    if (t.letter(j)) return t.letters(j);
    if (t.number(j)) return t.numbers(j);
    if (t.other(j)) return t.others(j);
    if (size_t e = spaces_not_before_nonspace(t, i)) return e;
    return spaces(t, i);
}

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   (Qwen2 has \p{N} where Llama 3 has \p{N}{1,3}.)
size_t match_llama3_family(const Text& t, size_t i, size_t max_digits) {
    if (size_t e = contraction(t, i, true)) return e;
    // [^\r\n\p{L}\p{N}]?\p{L}+ : the optional character is taken when it is allowed and a letter
    // follows; otherwise the letters must start here (a letter is never the optional character).
    if (i < t.size() && !t.newline(i) && !t.letter(i) && !t.number(i) && t.letter(i + 1)) return t.letters(i + 1);
    if (t.letter(i)) return t.letters(i);
    // \p{N}{1,max_digits}
    if (t.number(i)) {
        size_t e = i;
        while (e - i < max_digits && t.number(e)) ++e;
        return e;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    const size_t j = t.is(i, U' ') ? i + 1 : i;
    if (t.other(j)) return t.newlines(t.others(j));
    // \s*[\r\n]+ : \s* takes the whole white-space run and backs off to the last \r or \n in it,
    // from where [\r\n]+ matches that one character (the next is not \r or \n, or it would be
    // later). So the match runs through the last line break of the run, if it has one.
    if (t.space(i)) {
        const size_t end = t.spaces(i);
        for (size_t k = end; k > i; --k) {
            if (t.newline(k - 1)) return k;
        }
    }
    if (size_t e = spaces_not_before_nonspace(t, i)) return e;
    return spaces(t, i);
}

}  // namespace

std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
    if (name.empty() || name == "default" || name == "gpt-2") return PreTokenizer::gpt2;
    if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return PreTokenizer::llama3;
    if (name == "qwen2") return PreTokenizer::qwen2;
    return std::nullopt;
}

const char* known_pre_tokenizer_names() { return "default, gpt-2, llama-bpe, llama3, llama-v3, qwen2"; }

std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text) {
    const Text t(text);
    std::vector<std::string_view> pieces;
    for (size_t i = 0; i < t.size();) {
        size_t end = no_match;
        switch (kind) {
            case PreTokenizer::gpt2: end = match_gpt2(t, i); break;
            case PreTokenizer::llama3: end = match_llama3_family(t, i, 3); break;
            case PreTokenizer::qwen2: end = match_llama3_family(t, i, 1); break;
        }
        // Every pattern matches any single character; keep going even if that were ever false.
        if (end <= i) end = i + 1;
        pieces.push_back(text.substr(t.offset(i), t.offset(end) - t.offset(i)));
        i = end;
    }
    return pieces;
}

}  // namespace llm
