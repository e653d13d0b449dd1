// Internals shared by the GGUF reader and writer: the byte layout's constants and small helpers
// for messages. Not part of the API.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "gguf/gguf.hpp"

namespace llm::gguf::detail {

static_assert(std::endian::native == std::endian::little,
              "GGUF is little-endian and this code reads it with plain copies");

inline constexpr uint8_t magic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint32_t last_value_type = 12;   // f64

inline bool is_known(ValueType t) { return static_cast<uint32_t>(t) <= last_value_type; }
inline bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The fewest bytes one item of type `t` takes inside an array: what bounds an untrusted count.
uint64_t min_encoded_size(ValueType t);

// `s` with quotes, backslashes and bytes outside printable ASCII written as \xNN and anything
// past 80 bytes cut to "...", so that a message naming it stays one readable line.
std::string escaped(std::string_view s);
// The same between double quotes.
inline std::string quoted(std::string_view s) { return '"' + escaped(s) + '"'; }

// Throws GgufError when `v`'s data does not match its type, an integer is out of its type's range,
// an f32 is not exactly a float, an array item has the wrong type, or arrays nest too deeply.
// `what` names the value in the message.
void check_value(const Value& v, std::string_view what, int depth = 0);

}  // namespace llm::gguf::detail
