// GPT-2's byte-to-unicode alphabet: byte-level BPE vocabularies spell every byte as a printable
// character, so that token texts and merges are readable strings. The printable bytes '!'..'~',
// U+00A1..U+00AC and U+00AE..U+00FF stand for themselves; the other 68 bytes (controls, space,
// DEL, U+0080..U+00A0, U+00AD), in ascending order, take U+0100, U+0101, ... (space is U+0120 'Ġ',
// newline U+010A 'Ċ').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llm {

char32_t byte_to_unicode(uint8_t byte);
// The byte a character of the alphabet stands for, or -1 for a character outside it.
int unicode_to_byte(char32_t cp);

// Bytes -> their spelling in the alphabet (UTF-8).
std::string byte_level_encode(std::string_view bytes);
// The alphabet's spelling -> bytes. A character outside the alphabet (or ill-formed UTF-8) is
// kept as it is, byte for byte.
std::string byte_level_decode(std::string_view text);

}  // namespace llm
