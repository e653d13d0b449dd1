// Reading and writing typed values in the interpreter's 64-bit register slots. Integers are kept
// zero-extended to 64 bits within their width; floats as their IEEE bits; halves as 16-bit patterns.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include "numerics.hpp"

namespace ptxgen::interp {

template <class H> H get(uint64_t bits) {
    if constexpr (std::is_same_v<H, float>) {
        return std::bit_cast<float>(static_cast<uint32_t>(bits));
    } else if constexpr (std::is_same_v<H, double>) {
        return std::bit_cast<double>(bits);
    } else if constexpr (std::is_same_v<H, bool>) {
        return bits != 0;
    } else {
        return static_cast<H>(static_cast<std::make_unsigned_t<H>>(bits));
    }
}

template <class H> uint64_t put(H v) {
    if constexpr (std::is_same_v<H, float> || std::is_same_v<H, double>) {
        return bits_of(v);
    } else if constexpr (std::is_same_v<H, bool>) {
        return v ? 1 : 0;
    } else {
        return static_cast<uint64_t>(static_cast<std::make_unsigned_t<H>>(v));
    }
}

// Host integer type of a PTX integer or bit type.
template <Type T> struct HostInt;
template <> struct HostInt<Type::u16> { using type = uint16_t; };
template <> struct HostInt<Type::s16> { using type = int16_t; };
template <> struct HostInt<Type::b16> { using type = uint16_t; };
template <> struct HostInt<Type::u32> { using type = uint32_t; };
template <> struct HostInt<Type::s32> { using type = int32_t; };
template <> struct HostInt<Type::b32> { using type = uint32_t; };
template <> struct HostInt<Type::u64> { using type = uint64_t; };
template <> struct HostInt<Type::s64> { using type = int64_t; };
template <> struct HostInt<Type::b64> { using type = uint64_t; };

// A 16-bit float value of either format, widened to double for arithmetic.
inline double half_value(uint64_t bits, bool bf16) {
    const auto h = static_cast<uint16_t>(bits);
    return bf16 ? static_cast<double>(bf16_bits_to_f32(h)) : static_cast<double>(f16_bits_to_f32(h));
}
inline uint64_t half_bits(double v, bool bf16, Round mode = Round::rn) {
    return round_to_format(v, mode, bf16 ? kBF16 : kF16);
}
inline bool half_is_subnormal(uint64_t bits, bool bf16) {
    const auto h = static_cast<uint16_t>(bits);
    return bf16 ? (h & 0x7f80u) == 0 && (h & 0x7fu) != 0 : (h & 0x7c00u) == 0 && (h & 0x3ffu) != 0;
}

}  // namespace ptxgen::interp
