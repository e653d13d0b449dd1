#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <array>

namespace llm::unicode {

namespace {

// ASCII is most of most text: answer it from a table built once from the generated runs.
struct AsciiCategories {
    std::array<Category, 128> of{};
    AsciiCategories() {
        for (char32_t cp = 0; cp < 128; ++cp) of[cp] = Category::Cn;
        for (size_t i = 0; i < detail::category_run_count; ++i) {
            const auto& r = detail::category_runs[i];
            if (r.first >= 128) break;
            for (char32_t cp = r.first; cp <= r.last && cp < 128; ++cp) of[cp] = r.category;
        }
    }
};

const AsciiCategories& ascii_categories() {
    static const AsciiCategories table;
    return table;
}

}  // namespace

Category category(char32_t cp) {
    if (cp < 128) return ascii_categories().of[cp];
    const auto* begin = detail::category_runs;
    const auto* end = begin + detail::category_run_count;
    // The first run that ends at or after cp; cp is in it if it also starts at or before cp.
    const auto* it = std::lower_bound(begin, end, cp,
                                      [](const detail::CategoryRun& r, char32_t c) { return r.last < c; });
    if (it != end && it->first <= cp) return it->category;
    return Category::Cn;
}

const char* category_name(Category c) {
    static constexpr const char* names[] = {
        "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe",
        "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn",
    };
    return names[static_cast<size_t>(c)];
}

const char* data_version() { return detail::unicode_data_version; }

bool is_letter(char32_t cp) { return category(cp) <= Category::Lo; }

bool is_number(char32_t cp) {
    const Category c = category(cp);
    return c >= Category::Nd && c <= Category::No;
}

bool is_mark(char32_t cp) {
    const Category c = category(cp);
    return c >= Category::Mn && c <= Category::Me;
}

bool is_punctuation(char32_t cp) {
    const Category c = category(cp);
    return c >= Category::Pc && c <= Category::Po;
}

bool is_symbol(char32_t cp) {
    const Category c = category(cp);
    return c >= Category::Sm && c <= Category::So;
}

bool is_whitespace(char32_t cp) {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp == 0x85) return true;
    if (cp < 0xA0) return false;
    const Category c = category(cp);
    return c == Category::Zs || c == Category::Zl || c == Category::Zp;
}

Decoded decode_utf8(std::string_view s, size_t pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
    const uint8_t b0 = byte(pos);
    if (b0 < 0x80) return {b0, 1, Decoded::Status::ok};

    // The number of continuation bytes, the lead's payload, and the range the first
    // continuation byte must fall in (narrower after E0, ED, F0 and F4, which is what rules out
    // overlong forms, surrogates and values above U+10FFFF).
    uint32_t extra = 0;
    char32_t cp = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        extra = 1, cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        extra = 2, cp = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        extra = 3, cp = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return {0xFFFD, 1, Decoded::Status::invalid};  // a stray continuation byte, C0, C1, F5..FF
    }
    uint32_t length = 1;
    for (uint32_t k = 0; k < extra; ++k) {
        if (pos + length >= s.size()) return {0xFFFD, length, Decoded::Status::truncated};
        const uint8_t b = byte(pos + length);
        if (b < lo || b > hi) return {0xFFFD, length, Decoded::Status::invalid};
        cp = (cp << 6) | (b & 0x3Fu);
        ++length;
        lo = 0x80, hi = 0xBF;
    }
    return {cp, length, Decoded::Status::ok};
}

void append_utf8(std::string& out, char32_t cp) {
    const auto put = [&](uint32_t v) { out.push_back(static_cast<char>(static_cast<uint8_t>(v))); };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    }
}

std::string to_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t pos = 0; pos < s.size();) {
        const Decoded d = decode_utf8(s, pos);
        if (d.status == Decoded::Status::ok) {
            out.append(s.substr(pos, d.length));
        } else {
            append_utf8(out, 0xFFFD);
        }
        pos += d.length;
    }
    return out;
}

}  // namespace llm::unicode
