// PTX scalar types, the compile-time tags that type register handles, and their properties.
#pragma once

#include <cstdint>
#include <string_view>

namespace ptxgen {

// Every PTX fundamental type the builder uses. The order is part of the IR but never printed.
enum class Type : uint8_t {
    pred,
    b8, b16, b32, b64, b128,
    u8, u16, u32, u64,
    s8, s16, s32, s64,
    f16, f16x2, bf16, bf16x2,
    f32, f64,
};

inline constexpr int kTypeCount = static_cast<int>(Type::f64) + 1;

// The spelling after the dot: "u32", "f16x2", "pred".
std::string_view type_name(Type t);

// Size in bits of a value of this type (pred counts as 1).
constexpr int bit_width(Type t) {
    switch (t) {
    case Type::pred: return 1;
    case Type::b8: case Type::u8: case Type::s8: return 8;
    case Type::b16: case Type::u16: case Type::s16: case Type::f16: case Type::bf16: return 16;
    case Type::b32: case Type::u32: case Type::s32: case Type::f32:
    case Type::f16x2: case Type::bf16x2: return 32;
    case Type::b64: case Type::u64: case Type::s64: case Type::f64: return 64;
    case Type::b128: return 128;
    }
    return 0;
}

constexpr int byte_size(Type t) { return bit_width(t) / 8; }

constexpr bool is_unsigned(Type t) {
    return t == Type::u8 || t == Type::u16 || t == Type::u32 || t == Type::u64;
}
constexpr bool is_signed(Type t) {
    return t == Type::s8 || t == Type::s16 || t == Type::s32 || t == Type::s64;
}
constexpr bool is_bits(Type t) {
    return t == Type::b8 || t == Type::b16 || t == Type::b32 || t == Type::b64 || t == Type::b128;
}
constexpr bool is_integer(Type t) { return is_unsigned(t) || is_signed(t); }
constexpr bool is_half(Type t) {
    return t == Type::f16 || t == Type::f16x2 || t == Type::bf16 || t == Type::bf16x2;
}
constexpr bool is_float(Type t) { return t == Type::f32 || t == Type::f64 || is_half(t); }
constexpr bool is_packed(Type t) { return t == Type::f16x2 || t == Type::bf16x2; }
constexpr bool is_bf16_family(Type t) { return t == Type::bf16 || t == Type::bf16x2; }

// The type a register of type `t` is declared with. Half types live in bit registers, as the
// PTX ISA allows for every instruction that operates on them.
constexpr Type storage_type(Type t) {
    switch (t) {
    case Type::f16: case Type::bf16: return Type::b16;
    case Type::f16x2: case Type::bf16x2: return Type::b32;
    default: return t;
    }
}

// Same-size types of the bit class, e.g. u32 -> b32 (bitwise instructions use these spellings).
constexpr Type bits_of_width(int bits) {
    switch (bits) {
    case 8: return Type::b8;
    case 16: return Type::b16;
    case 32: return Type::b32;
    case 64: return Type::b64;
    default: return Type::b128;
    }
}

// Compile-time tags: Reg<u32>, Reg<f16x2>, ... Each names its PTX type and the host type whose
// values an immediate of this type is written from.
#define PTXGEN_TYPE_TAG(NAME, HOST)                                                                 \
    struct NAME {                                                                                   \
        static constexpr Type type = Type::NAME;                                                    \
        using host = HOST;                                                                          \
    };
PTXGEN_TYPE_TAG(b16, uint16_t)
PTXGEN_TYPE_TAG(b32, uint32_t)
PTXGEN_TYPE_TAG(b64, uint64_t)
PTXGEN_TYPE_TAG(u16, uint16_t)
PTXGEN_TYPE_TAG(u32, uint32_t)
PTXGEN_TYPE_TAG(u64, uint64_t)
PTXGEN_TYPE_TAG(s16, int16_t)
PTXGEN_TYPE_TAG(s32, int32_t)
PTXGEN_TYPE_TAG(s64, int64_t)
PTXGEN_TYPE_TAG(f16, float)
PTXGEN_TYPE_TAG(f16x2, float)
PTXGEN_TYPE_TAG(bf16, float)
PTXGEN_TYPE_TAG(bf16x2, float)
PTXGEN_TYPE_TAG(f32, float)
PTXGEN_TYPE_TAG(f64, double)
#undef PTXGEN_TYPE_TAG
// 128-bit registers hold data for 16-byte loads, stores and moves only.
struct b128 {
    static constexpr Type type = Type::b128;
    using host = uint64_t;
};

// 8-bit values exist only in memory: ld/st/cvt of u8, s8 and b8 go through 16- or 32-bit registers.
struct u8 { static constexpr Type type = Type::u8; };
struct s8 { static constexpr Type type = Type::s8; };
struct b8 { static constexpr Type type = Type::b8; };

template <class T> inline constexpr Type type_of = T::type;

// Concepts that restrict what each instruction accepts, so that a wrong operand is a compile error.
template <class T> concept IntTag = is_integer(T::type) && bit_width(T::type) >= 16;
template <class T> concept BitsTag = (is_integer(T::type) || is_bits(T::type)) && bit_width(T::type) >= 16
                                     && bit_width(T::type) <= 64;
template <class T> concept FloatTag = T::type == Type::f32 || T::type == Type::f64;
template <class T> concept HalfTag = is_half(T::type);
template <class T> concept NumericTag = IntTag<T> || FloatTag<T> || HalfTag<T>;
template <class T> concept Int32Or64Tag = IntTag<T> && bit_width(T::type) >= 32;
template <class T> concept Word32Tag = bit_width(T::type) == 32 && T::type != Type::pred;
template <class T> concept RegTag = requires { T::type; typename T::host; };
template <class T> concept MemTag = requires { T::type; };

}  // namespace ptxgen
