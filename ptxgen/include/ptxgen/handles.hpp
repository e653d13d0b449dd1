// Value handles the builder hands out: typed registers, predicates, immediates, addresses in a
// memory space, labels. All are a few bytes, copied freely; they mean nothing outside the builder
// that made them.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <type_traits>

#include "ptxgen/half.hpp"
#include "ptxgen/ir.hpp"

namespace ptxgen {

template <class T> struct Reg {
    uint32_t id = kNoReg;
    Operand operand() const { return Operand::reg(id, T::type); }
};

// A predicate register, possibly read negated: `!p` is a handle to the same register.
struct Pred {
    uint32_t id = kNoReg;
    bool negated = false;
    Pred operator!() const { return Pred{id, !negated}; }
    Operand operand() const {
        Operand o = Operand::reg(id, Type::pred);
        o.negated = negated;
        return o;
    }
};

// The bits of a host value as an immediate of PTX type T.
template <class T, class H> uint64_t immediate_bits(H v) {
    constexpr Type t = T::type;
    if constexpr (t == Type::f32) {
        return std::bit_cast<uint32_t>(static_cast<float>(v));
    } else if constexpr (t == Type::f64) {
        return std::bit_cast<uint64_t>(static_cast<double>(v));
    } else if constexpr (t == Type::f16) {
        return f32_to_f16_bits(static_cast<float>(v));
    } else if constexpr (t == Type::bf16) {
        return f32_to_bf16_bits(static_cast<float>(v));
    } else if constexpr (t == Type::f16x2) {
        uint64_t h = f32_to_f16_bits(static_cast<float>(v));
        return h | (h << 16);  // a scalar immediate of a packed type fills both halves
    } else if constexpr (t == Type::bf16x2) {
        uint64_t h = f32_to_bf16_bits(static_cast<float>(v));
        return h | (h << 16);
    } else {
        constexpr int w = bit_width(t);
        uint64_t bits = static_cast<uint64_t>(static_cast<int64_t>(v));
        if constexpr (std::is_unsigned_v<H>) bits = static_cast<uint64_t>(v);
        return w >= 64 ? bits : bits & ((uint64_t{1} << w) - 1);
    }
}

// A source operand of type T: a register of that type or a host number written as an immediate.
template <class T> struct Val {
    Operand op;
    Val(Reg<T> r) : op(r.operand()) {}  // NOLINT(google-explicit-constructor): operands read naturally
    template <class H>
        requires std::is_arithmetic_v<H>
    Val(H v) : op(Operand::imm(immediate_bits<T>(v), T::type)) {}  // NOLINT
};

// Pointers carry their memory space in their type, so a shared address cannot reach a global load.
// Global and local pointers are 64-bit; shared pointers are 32-bit offsets in the shared window.
template <Space S> struct Address {
    Operand op;
};

struct GlobalPtr {
    Reg<u64> reg;
    Address<Space::global> operator[](int64_t byte_offset) const {
        return {Operand::address(AddrBase::reg, reg.id, byte_offset, Type::u64)};
    }
};

struct SharedPtr {
    Reg<u32> reg;
    Address<Space::shared> operator[](int64_t byte_offset) const {
        return {Operand::address(AddrBase::reg, reg.id, byte_offset, Type::u32)};
    }
};

// A generic-space pointer (for atomics and loads through cvta'd addresses).
struct GenericPtr {
    Reg<u64> reg;
    Address<Space::generic> operator[](int64_t byte_offset) const {
        return {Operand::address(AddrBase::reg, reg.id, byte_offset, Type::u64)};
    }
};

// A declared array variable in shared or local memory, addressed as [name+offset].
template <Space S> struct Array {
    uint32_t var = 0;
    uint32_t bytes = 0;
    Address<S> operator[](int64_t byte_offset) const {
        return {Operand::address(AddrBase::var, var, byte_offset)};
    }
};
using SharedArray = Array<Space::shared>;
using LocalArray = Array<Space::local>;

struct Label {
    uint32_t id = kNoReg;
};

// Four, two or one registers making up an mma fragment or a vector access.
template <class T, int N> using Regs = std::array<Reg<T>, N>;

}  // namespace ptxgen
