// Bit operations, comparisons and selection, exactly as PTX defines them (shift counts clamp,
// bfe/bfi take position and length from their low eight bits, prmt's default mode).
#include <cmath>

#include "exec.hpp"
#include "value.hpp"

namespace ptxgen::interp {

namespace {

template <class U> constexpr uint32_t width() { return 8 * static_cast<uint32_t>(sizeof(U)); }

// and/or/xor/not on bit types of 16, 32 or 64 bits, and on predicates (0/1).
template <class U> void h_bitwise(Warp& w, const DInstr& d, uint32_t mask) {
    const Op op = d.in->op;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.count[2] ? d.s(2) : d.s(1);
    const bool na = d.negated[1], nb = d.negated[2];
    for_lanes(mask, [&](int l) {
        U a = static_cast<U>(w.r(sa, l)), b = static_cast<U>(w.r(sb, l));
        if constexpr (std::is_same_v<U, bool>) {
            a = a != na;
            b = b != nb;
        }
        U r{};
        switch (op) {
        case Op::and_: r = a & b; break;
        case Op::or_: r = a | b; break;
        case Op::xor_: r = a ^ b; break;
        default:
            if constexpr (std::is_same_v<U, bool>) r = !a;
            else r = static_cast<U>(~a);
            break;
        }
        w.r(dst, l) = static_cast<uint64_t>(r);
    });
}

template <class H> void h_shift(Warp& w, const DInstr& d, uint32_t mask) {
    using U = std::make_unsigned_t<H>;
    const bool left = d.in->op == Op::shl;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2);
    for_lanes(mask, [&](int l) {
        const H a = get<H>(w.r(sa, l));
        const uint32_t n = static_cast<uint32_t>(w.r(sb, l));
        H r;
        if (left) {
            r = n >= width<U>() ? H(0) : static_cast<H>(static_cast<U>(static_cast<U>(a) << n));
        } else if constexpr (std::is_signed_v<H>) {
            r = n >= width<U>() ? static_cast<H>(a < 0 ? -1 : 0) : static_cast<H>(a >> n);
        } else {
            r = n >= width<U>() ? H(0) : static_cast<H>(a >> n);
        }
        w.r(dst, l) = put<H>(r);
    });
}

template <class H> void h_bfe(Warp& w, const DInstr& d, uint32_t mask) {
    using U = std::make_unsigned_t<H>;
    constexpr uint32_t msb = width<U>() - 1;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2), sc = d.s(3);
    for_lanes(mask, [&](int l) {
        const U a = static_cast<U>(w.r(sa, l));
        const uint32_t pos = static_cast<uint32_t>(w.r(sb, l)) & 0xff, len = static_cast<uint32_t>(w.r(sc, l)) & 0xff;
        U sbit = 0;
        if (std::is_signed_v<H> && len != 0) sbit = (a >> std::min(pos + len - 1, msb)) & 1;
        U r = 0;
        for (uint32_t i = 0; i <= msb; ++i) {
            const U bit = (i < len && pos + i <= msb) ? (a >> (pos + i)) & 1 : sbit;
            r |= static_cast<U>(bit << i);
        }
        w.r(dst, l) = static_cast<uint64_t>(r);
    });
}

template <class U> void h_bfi(Warp& w, const DInstr& d, uint32_t mask) {
    constexpr uint32_t msb = width<U>() - 1;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2), sc = d.s(3), sd = d.s(4);
    for_lanes(mask, [&](int l) {
        const U a = static_cast<U>(w.r(sa, l));
        U f = static_cast<U>(w.r(sb, l));
        const uint32_t pos = static_cast<uint32_t>(w.r(sc, l)) & 0xff, len = static_cast<uint32_t>(w.r(sd, l)) & 0xff;
        for (uint32_t i = 0; i < len && pos + i <= msb; ++i) {
            const U one = 1;
            f = static_cast<U>((f & ~(one << (pos + i))) | (((a >> i) & one) << (pos + i)));
        }
        w.r(dst, l) = static_cast<uint64_t>(f);
    });
}

void h_prmt(Warp& w, const DInstr& d, uint32_t mask) {
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2), sc = d.s(3);
    for_lanes(mask, [&](int l) {
        const uint64_t bytes = (w.r(sb, l) & 0xffffffffu) << 32 | (w.r(sa, l) & 0xffffffffu);
        const uint32_t sel = static_cast<uint32_t>(w.r(sc, l));
        uint32_t r = 0;
        for (int i = 0; i < 4; ++i) {
            const uint32_t s = (sel >> (4 * i)) & 0xf;
            uint32_t byte = static_cast<uint32_t>(bytes >> (8 * (s & 7))) & 0xff;
            if (s & 8) byte = (byte & 0x80) ? 0xff : 0x00;  // replicate the sign bit
            r |= byte << (8 * i);
        }
        w.r(dst, l) = r;
    });
}

template <class U> void h_count(Warp& w, const DInstr& d, uint32_t mask) {
    const Op op = d.in->op;
    const uint32_t dst = d.s(0), sa = d.s(1);
    for_lanes(mask, [&](int l) {
        const U a = static_cast<U>(w.r(sa, l));
        uint64_t r = 0;
        if (op == Op::popc) r = static_cast<uint64_t>(std::popcount(a));
        else if (op == Op::clz) r = static_cast<uint64_t>(std::countl_zero(a));
        else {
            U v = 0;
            for (uint32_t i = 0; i < width<U>(); ++i) v = static_cast<U>(v | (((a >> i) & 1u) << (width<U>() - 1 - i)));
            r = v;
        }
        w.r(dst, l) = r;
    });
}

// ---- comparisons ----

template <class V> bool compare(Cmp c, V a, V b) {
    if constexpr (std::is_floating_point_v<V>) {
        const bool unordered = std::isnan(a) || std::isnan(b);
        switch (c) {
        case Cmp::eq: return !unordered && a == b;
        case Cmp::ne: return !unordered && a != b;
        case Cmp::lt: return !unordered && a < b;
        case Cmp::le: return !unordered && a <= b;
        case Cmp::gt: return !unordered && a > b;
        case Cmp::ge: return !unordered && a >= b;
        case Cmp::equ: return unordered || a == b;
        case Cmp::neu: return unordered || a != b;
        case Cmp::ltu: return unordered || a < b;
        case Cmp::leu: return unordered || a <= b;
        case Cmp::gtu: return unordered || a > b;
        case Cmp::geu: return unordered || a >= b;
        case Cmp::num: return !unordered;
        case Cmp::nan: return unordered;
        default: return false;
        }
    } else {
        using U = std::make_unsigned_t<V>;
        switch (c) {
        case Cmp::eq: return a == b;
        case Cmp::ne: return a != b;
        case Cmp::lt: return a < b;
        case Cmp::le: return a <= b;
        case Cmp::gt: return a > b;
        case Cmp::ge: return a >= b;
        case Cmp::lo: return U(a) < U(b);
        case Cmp::ls: return U(a) <= U(b);
        case Cmp::hi: return U(a) > U(b);
        case Cmp::hs: return U(a) >= U(b);
        default: return false;
        }
    }
}

// Reads operand values as V: integers as themselves, floats (with .ftz), halves widened.
template <class V> void h_setp(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Cmp c = in.m.cmp;
    const BoolOp bop = in.m.bop;
    const bool ftz = in.m.ftz;
    const bool bf16 = in.type == Type::bf16;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2), sc = d.count[3] ? d.s(3) : 0;
    const bool nc = d.negated[3];
    for_lanes(mask, [&](int l) {
        bool p;
        if constexpr (std::is_same_v<V, double>) {
            if (is_half(in.type)) {
                p = compare(c, half_value(w.r(sa, l), bf16), half_value(w.r(sb, l), bf16));
            } else {
                p = compare(c, get<double>(w.r(sa, l)), get<double>(w.r(sb, l)));
            }
        } else if constexpr (std::is_same_v<V, float>) {
            float a = get<float>(w.r(sa, l)), b = get<float>(w.r(sb, l));
            if (ftz) {
                a = flush(a);
                b = flush(b);
            }
            p = compare(c, a, b);
        } else {
            p = compare(c, get<V>(w.r(sa, l)), get<V>(w.r(sb, l)));
        }
        if (bop != BoolOp::none) {
            const bool q = (w.r(sc, l) != 0) != nc;
            p = bop == BoolOp::and_ ? (p && q) : bop == BoolOp::or_ ? (p || q) : (p != q);
        }
        w.r(dst, l) = p ? 1 : 0;
    });
}

void h_selp(Warp& w, const DInstr& d, uint32_t mask) {
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2), sp = d.s(3);
    const bool np = d.negated[3];
    const bool wide = d.in->type == Type::b128;
    for_lanes(mask, [&](int l) {
        const bool p = (w.r(sp, l) != 0) != np;
        w.r(dst, l) = w.r(p ? sa : sb, l);
        if (wide) w.r(dst + 1, l) = w.r((p ? sa : sb) + 1, l);
    });
}

template <template <class> class H> Handler by_width(Type t) {
    switch (bit_width(t)) {
    case 16: return &H<uint16_t>::run;
    case 32: return &H<uint32_t>::run;
    case 64: return &H<uint64_t>::run;
    default: return nullptr;
    }
}
template <class U> struct Bitwise { static void run(Warp& w, const DInstr& d, uint32_t m) { h_bitwise<U>(w, d, m); } };
template <class U> struct Bfi { static void run(Warp& w, const DInstr& d, uint32_t m) { h_bfi<U>(w, d, m); } };
template <class U> struct Count { static void run(Warp& w, const DInstr& d, uint32_t m) { h_count<U>(w, d, m); } };

// The host type a PTX integer or bit type reads as (bit types as unsigned).
template <template <class> class F> Handler by_int(Type t) {
    switch (t) {
    case Type::u16: case Type::b16: return &F<uint16_t>::run;
    case Type::s16: return &F<int16_t>::run;
    case Type::u32: case Type::b32: return &F<uint32_t>::run;
    case Type::s32: return &F<int32_t>::run;
    case Type::u64: case Type::b64: return &F<uint64_t>::run;
    case Type::s64: return &F<int64_t>::run;
    default: return nullptr;
    }
}
template <class H> struct Shift { static void run(Warp& w, const DInstr& d, uint32_t m) { h_shift<H>(w, d, m); } };
template <class H> struct Bfe { static void run(Warp& w, const DInstr& d, uint32_t m) { h_bfe<H>(w, d, m); } };
template <class H> struct Setp { static void run(Warp& w, const DInstr& d, uint32_t m) { h_setp<H>(w, d, m); } };

}  // namespace

Handler select_logic_handler(const Instr& in) {
    switch (in.op) {
    case Op::and_: case Op::or_: case Op::xor_: case Op::not_:
        if (in.type == Type::pred) return &Bitwise<bool>::run;
        return by_width<Bitwise>(in.type);
    case Op::shl: case Op::shr: return by_int<Shift>(in.type);
    case Op::bfe: return by_int<Bfe>(in.type);
    case Op::bfi: return by_width<Bfi>(in.type);
    case Op::prmt: return &h_prmt;
    case Op::popc: case Op::clz: case Op::brev: return by_width<Count>(in.type);
    case Op::setp:
        if (in.type == Type::f32) return &Setp<float>::run;
        if (in.type == Type::f64 || is_half(in.type)) return &Setp<double>::run;
        return by_int<Setp>(in.type);
    case Op::selp: return &h_selp;
    default: return nullptr;
    }
}

}  // namespace ptxgen::interp
