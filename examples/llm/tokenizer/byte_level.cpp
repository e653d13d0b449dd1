#include "tokenizer/byte_level.hpp"

#include <array>

#include "tokenizer/unicode.hpp"

namespace llm {

namespace {

struct Alphabet {
    std::array<char32_t, 256> of_byte{};
    std::array<int16_t, 324> byte_of{};  // indexed by code point; the alphabet ends below U+0144
    Alphabet() {
        byte_of.fill(-1);
        char32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            of_byte[b] = printable ? b : next++;
            byte_of[of_byte[b]] = static_cast<int16_t>(b);
        }
    }
};

const Alphabet& alphabet() {
    static const Alphabet a;
    return a;
}

}  // namespace

char32_t byte_to_unicode(uint8_t byte) { return alphabet().of_byte[byte]; }

int unicode_to_byte(char32_t cp) {
    const auto& a = alphabet();
    return cp < a.byte_of.size() ? a.byte_of[cp] : -1;
}

std::string byte_level_encode(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) unicode::append_utf8(out, byte_to_unicode(static_cast<uint8_t>(c)));
    return out;
}

std::string byte_level_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const unicode::Decoded d = unicode::decode_utf8(text, pos);
        const int b = d.status == unicode::Decoded::Status::ok ? unicode_to_byte(d.cp) : -1;
        if (b >= 0) {
            out.push_back(static_cast<char>(b));
        } else {
            out.append(text.substr(pos, d.length));
        }
        pos += d.length;
    }
    return out;
}

}  // namespace llm
