// Arithmetic and math instructions: integers wrap, floats round to nearest unless told otherwise,
// with PTX's rules for NaN, .ftz, .sat, min/max and division by zero.
#include <algorithm>
#include <cmath>
#include <limits>

#include "exec.hpp"
#include "value.hpp"

namespace ptxgen::interp {

namespace {

// ---- integers ----

// 128-bit products for mul.hi of 64-bit values (a GCC/Clang extension, hence __extension__).
__extension__ using Int128 = __int128;
__extension__ using Uint128 = unsigned __int128;

template <class H> H mul_hi(H a, H b) {
    if constexpr (sizeof(H) == 8) {
        using W = std::conditional_t<std::is_signed_v<H>, Int128, Uint128>;
        return static_cast<H>((static_cast<W>(a) * static_cast<W>(b)) >> 64);
    } else {
        using W = std::conditional_t<std::is_signed_v<H>, int64_t, uint64_t>;
        return static_cast<H>((static_cast<W>(a) * static_cast<W>(b)) >> (8 * sizeof(H)));
    }
}

template <class H> H wrap_mul(H a, H b) {
    using U = std::make_unsigned_t<H>;
    using P = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;  // no int promotion overflow
    return static_cast<H>(static_cast<U>(static_cast<P>(static_cast<U>(a)) * static_cast<P>(static_cast<U>(b))));
}

template <class H> H int_div(H a, H b) {
    if (b == 0) return static_cast<H>(-1);  // what the hardware gives; PTX leaves it unspecified
    if constexpr (std::is_signed_v<H>) {
        if (a == std::numeric_limits<H>::min() && b == -1) return a;
    }
    return static_cast<H>(a / b);
}

template <class H> H int_rem(H a, H b) {
    if (b == 0) return a;
    if constexpr (std::is_signed_v<H>) {
        if (a == std::numeric_limits<H>::min() && b == -1) return 0;
    }
    return static_cast<H>(a % b);
}

template <class H> H add_sat(int64_t v) {
    return static_cast<H>(std::clamp<int64_t>(v, std::numeric_limits<H>::min(), std::numeric_limits<H>::max()));
}

template <class H> void h_int(Warp& w, const DInstr& d, uint32_t mask) {
    using U = std::make_unsigned_t<H>;
    const Instr& in = *d.in;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.count[2] ? d.s(2) : d.s(1), sc = d.count[3] ? d.s(3) : d.s(1);
    const Op op = in.op;
    const MulMode mm = in.m.mul;
    const bool sat = in.m.sat;
    for_lanes(mask, [&](int l) {
        const H a = get<H>(w.r(sa, l)), b = get<H>(w.r(sb, l));
        H r{};
        switch (op) {
        case Op::add: r = sat ? add_sat<H>(static_cast<int64_t>(a) + static_cast<int64_t>(b)) : static_cast<H>(static_cast<U>(U(a) + U(b))); break;
        case Op::sub: r = sat ? add_sat<H>(static_cast<int64_t>(a) - static_cast<int64_t>(b)) : static_cast<H>(static_cast<U>(U(a) - U(b))); break;
        case Op::mul: r = mm == MulMode::hi ? mul_hi(a, b) : wrap_mul(a, b); break;
        case Op::mad: {
            const H c = get<H>(w.r(sc, l));
            const H p = mm == MulMode::hi ? mul_hi(a, b) : wrap_mul(a, b);
            r = static_cast<H>(static_cast<U>(U(p) + U(c)));
            break;
        }
        case Op::div: r = int_div(a, b); break;
        case Op::rem: r = int_rem(a, b); break;
        case Op::min: r = std::min(a, b); break;
        case Op::max: r = std::max(a, b); break;
        case Op::abs:
            if constexpr (std::is_signed_v<H>) r = a < 0 ? static_cast<H>(U(0) - U(a)) : a;
            break;
        case Op::neg: r = static_cast<H>(U(0) - U(a)); break;
        default: break;
        }
        w.r(dst, l) = put<H>(r);
    });
}

// mul.wide / mad.wide: a double-width product (plus a double-width addend).
template <class H> void h_wide(Warp& w, const DInstr& d, uint32_t mask) {
    using W = std::conditional_t<std::is_signed_v<H>, std::conditional_t<sizeof(H) == 2, int32_t, int64_t>,
                                 std::conditional_t<sizeof(H) == 2, uint32_t, uint64_t>>;
    using UW = std::make_unsigned_t<W>;
    const bool mad = d.in->op == Op::mad;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.s(2), sc = mad ? d.s(3) : 0;
    for_lanes(mask, [&](int l) {
        UW p = static_cast<UW>(static_cast<W>(get<H>(w.r(sa, l))) * static_cast<W>(get<H>(w.r(sb, l))));
        if (mad) p = static_cast<UW>(p + static_cast<UW>(get<W>(w.r(sc, l))));
        w.r(dst, l) = put<W>(static_cast<W>(p));
    });
}

// ---- floats ----

template <class F> F ftz_if(F v, bool ftz) {
    if constexpr (std::is_same_v<F, float>) return ftz ? flush(v) : v;
    return v;
}

float add_f(float a, float b, Round r) { return r == Round::none || r == Round::rn ? a + b : f32_add(a, b, r); }
double add_f(double a, double b, Round r) { return r == Round::none || r == Round::rn ? a + b : f64_add(a, b, r); }
float mul_f(float a, float b, Round r) { return r == Round::none || r == Round::rn ? a * b : f32_mul(a, b, r); }
double mul_f(double a, double b, Round r) { return r == Round::none || r == Round::rn ? a * b : f64_mul(a, b, r); }
float fma_f(float a, float b, float c, Round r) { return r == Round::rn ? std::fma(a, b, c) : f32_fma(a, b, c, r); }
double fma_f(double a, double b, double c, Round r) { return r == Round::rn ? std::fma(a, b, c) : f64_fma(a, b, c, r); }
float div_f(float a, float b, Round r) { return r == Round::none || r == Round::rn ? a / b : f32_div(a, b, r); }
double div_f(double a, double b, Round r) { return r == Round::none || r == Round::rn ? a / b : f64_div(a, b, r); }

template <class F> uint64_t sign_bit() {
    return std::is_same_v<F, float> ? uint64_t{0x80000000u} : uint64_t{0x8000000000000000ull};
}

template <class F> void h_float(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Mods m = in.m;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.count[2] ? d.s(2) : d.s(1), sc = d.count[3] ? d.s(3) : d.s(1);
    const Op op = in.op;
    for_lanes(mask, [&](int l) {
        if (op == Op::abs || op == Op::neg) {  // sign-bit operations, NaN payloads kept
            uint64_t bits = w.r(sa, l);
            if (m.ftz) bits = put<F>(ftz_if(get<F>(bits), true));
            // An H100 returns the canonical NaN for neg.f32 of a NaN (the ISA leaves it open).
            const bool canonical = std::is_same_v<F, float> && op == Op::neg && std::isnan(get<F>(bits));
            w.r(dst, l) = canonical ? kCanonicalNanF32 : op == Op::abs ? bits & ~sign_bit<F>() : bits ^ sign_bit<F>();
            return;
        }
        const F a = ftz_if(get<F>(w.r(sa, l)), m.ftz), b = ftz_if(get<F>(w.r(sb, l)), m.ftz);
        F r{};
        switch (op) {
        case Op::add: r = add_f(a, b, m.round); break;
        case Op::sub: r = add_f(a, -b, m.round); break;
        case Op::mul: r = mul_f(a, b, m.round); break;
        case Op::fma: r = fma_f(a, b, ftz_if(get<F>(w.r(sc, l)), m.ftz), m.round); break;
        case Op::div: r = div_f(a, b, m.approx || m.full ? Round::rn : m.round); break;
        case Op::min: r = ptx_min(a, b); break;
        case Op::max: r = ptx_max(a, b); break;
        default: break;
        }
        r = ftz_if(r, m.ftz);
        if (m.sat) r = saturate(r);
        w.r(dst, l) = put<F>(r);
    });
}

// f16, bf16 and their packed pairs: each half computed in double and rounded once.
double half_op(Op op, const Mods& m, double a, double b, double c) {
    switch (op) {
    case Op::add: return a + b;
    case Op::sub: return a - b;
    case Op::mul: return a * b;
    case Op::fma: return std::fma(a, b, c);
    case Op::min: return ptx_min(a, b);
    case Op::max: return ptx_max(a, b);
    default: (void)m; return a;
    }
}

template <bool BF16, bool Packed> void h_half(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Mods m = in.m;
    const uint32_t dst = d.s(0), sa = d.s(1), sb = d.count[2] ? d.s(2) : d.s(1), sc = d.count[3] ? d.s(3) : d.s(1);
    const int halves = Packed ? 2 : 1;
    auto flushed = [&](uint64_t h) { return m.ftz && half_is_subnormal(h, BF16) ? (h & 0x8000u) : h; };
    for_lanes(mask, [&](int l) {
        uint64_t out = 0;
        for (int i = 0; i < halves; ++i) {
            const int shift = 16 * i;
            const uint64_t ha = flushed((w.r(sa, l) >> shift) & 0xffffu);
            uint64_t r;
            if (in.op == Op::abs || in.op == Op::neg) {
                r = in.op == Op::abs ? ha & 0x7fffu : ha ^ 0x8000u;
            } else {
                const double a = half_value(ha, BF16);
                const double b = half_value(flushed((w.r(sb, l) >> shift) & 0xffffu), BF16);
                const double c = half_value(flushed((w.r(sc, l) >> shift) & 0xffffu), BF16);
                double v = half_op(in.op, m, a, b, c);
                if (m.sat) v = saturate(v);
                r = half_bits(v, BF16);
                r = flushed(r);
            }
            out |= r << shift;
        }
        w.r(dst, l) = out;
    });
}

// ---- approximate and correctly rounded math ----

double math_value(Op op, double x) {
    switch (op) {
    case Op::ex2: return std::exp2(x);
    case Op::lg2: return std::log2(x);
    case Op::rcp: return 1.0 / x;
    case Op::rsqrt: return 1.0 / std::sqrt(x);
    case Op::sqrt: return std::sqrt(x);
    case Op::tanh: return std::tanh(x);
    case Op::sin: return std::sin(x);
    case Op::cos: return std::cos(x);
    default: return x;
    }
}

void h_math_f32(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Mods m = in.m;
    const uint32_t dst = d.s(0), sa = d.s(1);
    for_lanes(mask, [&](int l) {
        const float a = ftz_if(get<float>(w.r(sa, l)), m.ftz);
        float r;
        if (!m.approx && in.op == Op::rcp) {
            r = div_f(1.0f, a, m.round);
        } else if (!m.approx && in.op == Op::sqrt) {
            r = m.round == Round::rn ? std::sqrt(a) : f32_sqrt(a, m.round);
        } else {
            r = static_cast<float>(math_value(in.op, static_cast<double>(a)));
        }
        w.r(dst, l) = put<float>(ftz_if(r, m.ftz));
    });
}

void h_math_f64(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Mods m = in.m;
    const uint32_t dst = d.s(0), sa = d.s(1);
    for_lanes(mask, [&](int l) {
        const double a = get<double>(w.r(sa, l));
        double r;
        if (!m.approx && in.op == Op::rcp) r = div_f(1.0, a, m.round);
        else if (!m.approx && in.op == Op::sqrt) r = m.round == Round::rn ? std::sqrt(a) : f64_sqrt(a, m.round);
        else r = math_value(in.op, a);
        w.r(dst, l) = put<double>(r);
    });
}

template <bool BF16, bool Packed> void h_math_half(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const uint32_t dst = d.s(0), sa = d.s(1);
    for_lanes(mask, [&](int l) {
        uint64_t out = 0;
        for (int i = 0; i < (Packed ? 2 : 1); ++i) {
            const double a = half_value((w.r(sa, l) >> (16 * i)) & 0xffffu, BF16);
            out |= half_bits(math_value(in.op, a), BF16) << (16 * i);
        }
        w.r(dst, l) = out;
    });
}

template <template <class> class H> Handler by_int_type(Type t) {
    switch (t) {
    case Type::u16: return &H<uint16_t>::run;
    case Type::s16: return &H<int16_t>::run;
    case Type::u32: return &H<uint32_t>::run;
    case Type::s32: return &H<int32_t>::run;
    case Type::u64: return &H<uint64_t>::run;
    case Type::s64: return &H<int64_t>::run;
    default: return nullptr;
    }
}
template <class T> struct IntOp { static void run(Warp& w, const DInstr& d, uint32_t m) { h_int<T>(w, d, m); } };
template <class T> struct WideOp { static void run(Warp& w, const DInstr& d, uint32_t m) { h_wide<T>(w, d, m); } };

Handler half_handler(Type t, bool math) {
    switch (t) {
    case Type::f16: return math ? &h_math_half<false, false> : &h_half<false, false>;
    case Type::f16x2: return math ? &h_math_half<false, true> : &h_half<false, true>;
    case Type::bf16: return math ? &h_math_half<true, false> : &h_half<true, false>;
    case Type::bf16x2: return math ? &h_math_half<true, true> : &h_half<true, true>;
    default: return nullptr;
    }
}

}  // namespace

Handler select_arith_handler(const Instr& in) {
    switch (in.op) {
    case Op::add: case Op::sub: case Op::mul: case Op::mad: case Op::fma: case Op::div: case Op::rem:
    case Op::min: case Op::max: case Op::abs: case Op::neg:
        if (in.m.mul == MulMode::wide) return by_int_type<WideOp>(in.type);
        if (is_integer(in.type)) return by_int_type<IntOp>(in.type);
        if (in.type == Type::f32) return &h_float<float>;
        if (in.type == Type::f64) return &h_float<double>;
        return half_handler(in.type, false);
    case Op::ex2: case Op::lg2: case Op::rcp: case Op::rsqrt: case Op::sqrt: case Op::tanh: case Op::sin: case Op::cos:
        if (in.type == Type::f32) return &h_math_f32;
        if (in.type == Type::f64) return &h_math_f64;
        return half_handler(in.type, true);
    default:
        return nullptr;
    }
}

}  // namespace ptxgen::interp
