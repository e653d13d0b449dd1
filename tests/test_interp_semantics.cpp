// The interpreter's per-instruction semantics against host computations: each case builds a kernel
// in which every thread reads its inputs, applies one instruction and writes the result, runs it
// on fresh random inputs plus edge values, and compares every output with the host's answer.
#include <cfenv>
#include <numeric>

#include "interp_harness.hpp"

using namespace itest;

namespace {

// ---------------------------------------------------------------------------------------------
// Input tables
// ---------------------------------------------------------------------------------------------

// Every pair of edge values, then random pairs, n in all.
template <class H> std::pair<std::vector<H>, std::vector<H>> integer_pairs(Rng& rng, size_t n) {
    auto p = all_pairs(integer_edges<H>());
    std::vector<H> a = integer_inputs<H>(rng, n), b = integer_inputs<H>(rng, n);
    rng.shuffle(a);
    rng.shuffle(b);
    for (size_t i = p.first.size(); i < n; ++i) {
        p.first.push_back(a[i]);
        p.second.push_back(b[i]);
    }
    return p;
}

// Every pair of special values, then random pairs; some pairs are close, to exercise cancellation.
std::pair<std::vector<float>, std::vector<float>> float_pairs(Rng& rng, size_t n) {
    auto p = all_pairs(special_f32());
    std::vector<float> a = float_inputs(rng, n), b = float_inputs(rng, n);
    rng.shuffle(a);
    rng.shuffle(b);
    for (size_t i = p.first.size(); i < n; ++i) {
        p.first.push_back(a[i]);
        p.second.push_back(rng.below(4) == 0 ? -a[i] * (1.0f + rng.f32(-1e-6f, 1e-6f)) : b[i]);
    }
    return p;
}

// n floats of which about a fifth are special values.
std::vector<float> float_column(Rng& rng, size_t n) {
    std::vector<float> v = float_inputs(rng, n), special = special_f32();
    for (float& x : v)
        if (rng.below(5) == 0) x = special[rng.below(static_cast<uint32_t>(special.size()))];
    return v;
}

// The host's float arithmetic in rounding mode r. The operands and the result are volatile, so
// the operation is neither folded at compile time nor moved across the mode changes.
template <class F> float host_rounded(Round r, F f) {
    int mode = r == Round::rz ? FE_TOWARDZERO : r == Round::rm ? FE_DOWNWARD : r == Round::rp ? FE_UPWARD : FE_TONEAREST;
    int old = std::fegetround();
    std::fesetround(mode);
    volatile float v = f();
    std::fesetround(old);
    return v;
}

const char* round_name(Round r) {
    switch (r) {
    case Round::rn: return "rn";
    case Round::rz: return "rz";
    case Round::rm: return "rm";
    case Round::rp: return "rp";
    case Round::rni: return "rni";
    case Round::rzi: return "rzi";
    case Round::rmi: return "rmi";
    case Round::rpi: return "rpi";
    default: return "none";
    }
}

constexpr Round kFloatRoundings[] = {Round::rn, Round::rz, Round::rm, Round::rp};
constexpr Round kIntRoundings[] = {Round::rni, Round::rzi, Round::rmi, Round::rpi};

// ---------------------------------------------------------------------------------------------
// Integer arithmetic
// ---------------------------------------------------------------------------------------------

template <class T> void check_wrapping_arithmetic(Rng& rng) {
    using H = Host<T>;
    using U = std::make_unsigned_t<H>;
    const std::string t(type_name(T::type));
    auto [a, b] = integer_pairs<H>(rng, 1500);
    auto c = integer_inputs<H>(rng, a.size());
    rng.shuffle(c);
    // Computed in uint64_t: modular, and free of the promotions that make u16 * u16 overflow int.
    auto wrap = [](uint64_t v) { return static_cast<H>(static_cast<U>(v)); };
    auto u = [](H v) { return static_cast<uint64_t>(static_cast<U>(v)); };
    check_elementwise<T, T, T>("add_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.add(x, y); },
                               [&](H x, H y) { return wrap(u(x) + u(y)); }, a, b);
    check_elementwise<T, T, T>("sub_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.sub(x, y); },
                               [&](H x, H y) { return wrap(u(x) - u(y)); }, a, b);
    check_elementwise<T, T, T>("mul_lo_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.mul_lo(x, y); },
                               [&](H x, H y) { return wrap(u(x) * u(y)); }, a, b);
    check_elementwise<T, T, T, T>("mad_lo_" + t,
                                  [](KernelBuilder& k, Reg<T> x, Reg<T> y, Reg<T> z) { return k.mad_lo(x, y, z); },
                                  [&](H x, H y, H z) { return wrap(u(x) * u(y) + u(z)); }, a, b, c);
}

TEST_CASE("add, sub, mul.lo and mad.lo wrap around in 16, 32 and 64 bits") {
    ITEST_RNG(rng);
    check_wrapping_arithmetic<u16>(rng);
    check_wrapping_arithmetic<s16>(rng);
    check_wrapping_arithmetic<u32>(rng);
    check_wrapping_arithmetic<s32>(rng);
    check_wrapping_arithmetic<u64>(rng);
    check_wrapping_arithmetic<s64>(rng);
}

TEST_CASE("add.sat.s32 and sub.sat.s32 clamp to the s32 range") {
    ITEST_RNG(rng);
    auto [a, b] = integer_pairs<int32_t>(rng, 1500);
    auto clamp = [](int64_t v) {
        return static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
    };
    check_elementwise<s32, s32, s32>("add_sat", [](KernelBuilder& k, Reg<s32> x, Reg<s32> y) { return k.add(x, y, {.sat = true}); },
                                     [&](int32_t x, int32_t y) { return clamp(int64_t{x} + y); }, a, b);
    check_elementwise<s32, s32, s32>("sub_sat", [](KernelBuilder& k, Reg<s32> x, Reg<s32> y) { return k.sub(x, y, {.sat = true}); },
                                     [&](int32_t x, int32_t y) { return clamp(int64_t{x} - y); }, a, b);
}

__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

// The high half of the full product, from a 128-bit product.
template <class H> H product_high(H x, H y) {
    constexpr int bits = 8 * sizeof(H);
    if constexpr (std::is_signed_v<H>) {
        return static_cast<H>((static_cast<i128>(x) * static_cast<i128>(y)) >> bits);
    } else {
        return static_cast<H>((static_cast<u128>(x) * static_cast<u128>(y)) >> bits);
    }
}

template <class T> void check_high_and_wide(Rng& rng) {
    using H = Host<T>;
    const std::string t(type_name(T::type));
    auto [a, b] = integer_pairs<H>(rng, 1500);
    auto c = integer_inputs<H>(rng, a.size());
    check_elementwise<T, T, T>("mul_hi_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.mul_hi(x, y); },
                               [](H x, H y) { return product_high(x, y); }, a, b);
    check_elementwise<T, T, T, T>(
        "mad_hi_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y, Reg<T> z) { return k.mad_hi(x, y, z); },
        [](H x, H y, H z) {
            using U = std::make_unsigned_t<H>;
            return static_cast<H>(static_cast<U>(static_cast<U>(product_high(x, y)) + static_cast<U>(z)));
        },
        a, b, c);
    if constexpr (WidenableTag<T>) {
        using W = Wide<T>;
        using HW = Host<W>;
        auto cw = integer_inputs<HW>(rng, a.size());
        check_elementwise<W, T, T>("mul_wide_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.mul_wide(x, y); },
                                   [](H x, H y) { return static_cast<HW>(static_cast<HW>(x) * static_cast<HW>(y)); }, a, b);
        check_elementwise<W, T, T, W>(
            "mad_wide_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y, Reg<W> z) { return k.mad_wide(x, y, z); },
            [](H x, H y, HW z) {
                using UW = std::make_unsigned_t<HW>;
                UW p = static_cast<UW>(static_cast<HW>(x) * static_cast<HW>(y));
                return static_cast<HW>(static_cast<UW>(p + static_cast<UW>(z)));
            },
            a, b, cw);
    }
}

TEST_CASE("mul.hi, mad.hi, mul.wide and mad.wide, signed and unsigned") {
    ITEST_RNG(rng);
    check_high_and_wide<u16>(rng);
    check_high_and_wide<s16>(rng);
    check_high_and_wide<u32>(rng);
    check_high_and_wide<s32>(rng);
    check_high_and_wide<u64>(rng);
    check_high_and_wide<s64>(rng);
}

template <class T> void check_div_rem(Rng& rng) {
    using H = Host<T>;
    const std::string t(type_name(T::type));
    auto [a, b] = integer_pairs<H>(rng, 1500);
    // Division by zero and MIN / -1 have no defined result: replace those divisors.
    for (size_t i = 0; i < a.size(); ++i) {
        bool overflow = std::is_signed_v<H> && a[i] == std::numeric_limits<H>::min() && b[i] == H(-1);
        if (b[i] == 0 || overflow) b[i] = H(7);
    }
    check_elementwise<T, T, T>("div_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.div(x, y); },
                               [](H x, H y) { return static_cast<H>(x / y); }, a, b);
    check_elementwise<T, T, T>("rem_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.rem(x, y); },
                               [](H x, H y) { return static_cast<H>(x % y); }, a, b);
}

TEST_CASE("div and rem truncate toward zero; the remainder takes the dividend's sign") {
    ITEST_RNG(rng);
    check_div_rem<s32>(rng);
    check_div_rem<u32>(rng);
    check_div_rem<s64>(rng);
    check_div_rem<u64>(rng);
    check_div_rem<s16>(rng);
}

TEST_CASE("min, max, abs and neg on integers") {
    ITEST_RNG(rng);
    auto [a, b] = integer_pairs<int32_t>(rng, 1000);
    check_elementwise<s32, s32, s32>("min_s32", [](KernelBuilder& k, Reg<s32> x, Reg<s32> y) { return k.min(x, y); },
                                     [](int32_t x, int32_t y) { return std::min(x, y); }, a, b);
    check_elementwise<s32, s32, s32>("max_s32", [](KernelBuilder& k, Reg<s32> x, Reg<s32> y) { return k.max(x, y); },
                                     [](int32_t x, int32_t y) { return std::max(x, y); }, a, b);
    auto [ua, ub] = integer_pairs<uint32_t>(rng, 1000);
    check_elementwise<u32, u32, u32>("min_u32", [](KernelBuilder& k, Reg<u32> x, Reg<u32> y) { return k.min(x, y); },
                                     [](uint32_t x, uint32_t y) { return std::min(x, y); }, ua, ub);
    check_elementwise<u32, u32, u32>("max_u32", [](KernelBuilder& k, Reg<u32> x, Reg<u32> y) { return k.max(x, y); },
                                     [](uint32_t x, uint32_t y) { return std::max(x, y); }, ua, ub);
    // abs and neg of INT_MIN wrap to INT_MIN.
    check_elementwise<s32, s32>("abs_s32", [](KernelBuilder& k, Reg<s32> x) { return k.abs(x); },
                                [](int32_t x) { return static_cast<int32_t>(x < 0 ? 0u - static_cast<uint32_t>(x) : static_cast<uint32_t>(x)); }, a);
    check_elementwise<s32, s32>("neg_s32", [](KernelBuilder& k, Reg<s32> x) { return k.neg(x); },
                                [](int32_t x) { return static_cast<int32_t>(0u - static_cast<uint32_t>(x)); }, a);
}

// ---------------------------------------------------------------------------------------------
// Bit operations
// ---------------------------------------------------------------------------------------------

// Shift amounts around and far beyond the width, including values whose low byte is small.
std::vector<uint32_t> shift_amounts(Rng& rng, size_t n, uint32_t width) {
    std::vector<uint32_t> v{0, 1, width - 1, width, width + 1, 2 * width, 255, 256, 257, 0x7fffffffu, 0xffffffffu};
    while (v.size() < n) v.push_back(rng.below(4) == 0 ? rng.u32() : rng.below(2 * width + 2));
    rng.shuffle(v);
    return v;
}

template <class T> void check_shifts(Rng& rng) {
    using H = Host<T>;
    using U = std::make_unsigned_t<H>;
    constexpr uint32_t w = 8 * sizeof(H);
    const std::string t(type_name(T::type));
    std::vector<H> a = integer_inputs<H>(rng, 1200);
    std::vector<uint32_t> n = shift_amounts(rng, a.size(), w);
    check_elementwise<T, T, u32>("shl_" + t, [](KernelBuilder& k, Reg<T> x, Reg<u32> s) { return k.shl(x, s); },
                                 [](H x, uint32_t s) { return s >= w ? H(0) : static_cast<H>(static_cast<U>(x) << s); }, a, n);
    // shr is logical for unsigned types and arithmetic (sign fill) for signed ones.
    check_elementwise<T, T, u32>("shr_" + t, [](KernelBuilder& k, Reg<T> x, Reg<u32> s) { return k.shr(x, s); },
                                 [](H x, uint32_t s) {
                                     if (s >= w) return std::is_signed_v<H> && x < 0 ? H(-1) : H(0);
                                     return static_cast<H>(x >> s);
                                 },
                                 a, n);
}

TEST_CASE("shl and shr clamp the shift amount at the register width") {
    ITEST_RNG(rng);
    check_shifts<u32>(rng);
    check_shifts<s32>(rng);
    check_shifts<u64>(rng);
    check_shifts<s64>(rng);
    check_shifts<u16>(rng);
    check_shifts<s16>(rng);
}

// bfe as the PTX ISA defines it: position and length from the low 8 bits of b and c.
template <class H> H bfe_model(H a, uint32_t b, uint32_t c) {
    using U = std::make_unsigned_t<H>;
    constexpr uint32_t msb = 8 * sizeof(H) - 1;
    const uint32_t pos = b & 0xff, len = c & 0xff;
    const U ua = static_cast<U>(a);
    U sbit = 0;
    if (std::is_signed_v<H> && len != 0) sbit = (ua >> std::min(pos + len - 1, msb)) & 1u;
    U d = 0;
    for (uint32_t i = 0; i <= msb; ++i) {
        U bit = (i < len && pos + i <= msb) ? (ua >> (pos + i)) & 1u : sbit;
        d = static_cast<U>(d | (bit << i));
    }
    return static_cast<H>(d);
}

// bfi: the low len bits of a replace bits [pos, pos + len) of b, clipped at the msb.
template <class H> H bfi_model(H a, H b, uint32_t c, uint32_t d) {
    constexpr uint32_t msb = 8 * sizeof(H) - 1;
    const uint32_t pos = c & 0xff, len = d & 0xff;
    H f = b;
    for (uint32_t i = 0; i < len && pos + i <= msb; ++i) {
        H bit = static_cast<H>((a >> i) & 1u);
        f = static_cast<H>((f & ~(H(1) << (pos + i))) | (bit << (pos + i)));
    }
    return f;
}

// Positions and lengths: mostly in the interesting range, some with garbage above the low byte.
// Garbage only for 32-bit types: an H100 follows the ISA's "low 8 bits" rule for bfe/bfi.b32,
// but its 64-bit forms use the whole operand, so the ISA's semantics cannot be confirmed there.
std::vector<uint32_t> field_operands(Rng& rng, size_t n, uint32_t width) {
    const bool garbage = width == 32;
    std::vector<uint32_t> v{0, 1, width - 1, width, width + 1, 255};
    if (garbage) v.insert(v.end(), {256, 0x101, 0xffffffffu});
    while (v.size() < n) {
        uint32_t x = rng.below(3) == 0 ? rng.below(256) : rng.below(width + 2);
        if (garbage && rng.below(5) == 0) x |= rng.u32() & ~0xffu;
        v.push_back(x);
    }
    rng.shuffle(v);
    return v;
}

template <class T> void check_bfe(Rng& rng) {
    using H = Host<T>;
    constexpr uint32_t w = 8 * sizeof(H);
    std::vector<H> a = integer_inputs<H>(rng, 1500);
    std::vector<uint32_t> pos = field_operands(rng, a.size(), w), len = field_operands(rng, a.size(), w);
    check_elementwise<T, T, u32, u32>(
        std::string("bfe_") + std::string(type_name(T::type)),
        [](KernelBuilder& k, Reg<T> x, Reg<u32> p, Reg<u32> l) { return k.bfe(x, p, l); }, bfe_model<H>, a, pos, len);
}

TEST_CASE("bfe: 8-bit position and length, clamping at the msb, sign from bit pos+len-1, len 0 gives 0") {
    ITEST_RNG(rng);
    check_bfe<u32>(rng);
    check_bfe<s32>(rng);
    check_bfe<u64>(rng);
    check_bfe<s64>(rng);
}

TEST_CASE("bfi inserts the low len bits of a into b at pos") {
    ITEST_RNG(rng);
    {
        std::vector<uint32_t> a = integer_inputs<uint32_t>(rng, 1500), b = integer_inputs<uint32_t>(rng, 1500);
        rng.shuffle(b);
        std::vector<uint32_t> pos = field_operands(rng, a.size(), 32), len = field_operands(rng, a.size(), 32);
        check_elementwise<u32, u32, u32, u32, u32>(
            "bfi_b32", [](KernelBuilder& k, Reg<u32> x, Reg<u32> y, Reg<u32> p, Reg<u32> l) { return k.bfi(x, y, p, l); },
            bfi_model<uint32_t>, a, b, pos, len);
    }
    {
        std::vector<uint64_t> a = integer_inputs<uint64_t>(rng, 1500), b = integer_inputs<uint64_t>(rng, 1500);
        rng.shuffle(b);
        std::vector<uint32_t> pos = field_operands(rng, a.size(), 64), len = field_operands(rng, a.size(), 64);
        check_elementwise<u64, u64, u64, u32, u32>(
            "bfi_b64", [](KernelBuilder& k, Reg<u64> x, Reg<u64> y, Reg<u32> p, Reg<u32> l) { return k.bfi(x, y, p, l); },
            bfi_model<uint64_t>, a, b, pos, len);
    }
}

// prmt in the default mode: each selector nibble picks a byte of {b, a} (a is bytes 0-3); bit 3
// of the nibble replicates that byte's sign bit instead.
uint32_t prmt_model(uint32_t a, uint32_t b, uint32_t c) {
    uint64_t bytes = (uint64_t{b} << 32) | a;
    uint32_t d = 0;
    for (int k = 0; k < 4; ++k) {
        uint32_t sel = (c >> (4 * k)) & 0xf;
        uint32_t byte = static_cast<uint32_t>(bytes >> (8 * (sel & 7))) & 0xff;
        if (sel & 8) byte = (byte & 0x80) ? 0xff : 0;
        d |= byte << (8 * k);
    }
    return d;
}

TEST_CASE("prmt (default mode) selects and sign-replicates bytes") {
    ITEST_RNG(rng);
    std::vector<uint32_t> a, b, sel;
    for (int i = 0; i < 2000; ++i) {
        a.push_back(rng.u32());
        b.push_back(rng.u32());
        // Fixed selectors (identity, swap, broadcast) and random ones, some with high garbage.
        static const uint32_t fixed[] = {0x3210, 0x7654, 0x0123, 0x4444, 0x8888, 0xffff, 0x5140};
        uint32_t s = i < 7 ? fixed[i] : rng.u32();
        if (i >= 7 && rng.coin()) s &= 0xffff;
        sel.push_back(s);
    }
    check_elementwise<u32, u32, u32, u32>(
        "prmt", [](KernelBuilder& k, Reg<u32> x, Reg<u32> y, Reg<u32> s) { return k.prmt(x, y, s); }, prmt_model, a, b, sel);
}

template <class H> H reverse_bits(H v) {
    H r = 0;
    for (size_t i = 0; i < 8 * sizeof(H); ++i) r = static_cast<H>(r | (((v >> i) & 1u) << (8 * sizeof(H) - 1 - i)));
    return r;
}

template <class T> void check_bit_ops(Rng& rng) {
    using H = Host<T>;
    const std::string t(type_name(T::type));
    auto [a, b] = integer_pairs<H>(rng, 1000);
    check_elementwise<u32, T>("popc_" + t, [](KernelBuilder& k, Reg<T> x) { return k.popc(x); },
                              [](H x) { return static_cast<uint32_t>(std::popcount(x)); }, a);
    check_elementwise<u32, T>("clz_" + t, [](KernelBuilder& k, Reg<T> x) { return k.clz(x); },
                              [](H x) { return static_cast<uint32_t>(std::countl_zero(x)); }, a);
    check_elementwise<T, T>("brev_" + t, [](KernelBuilder& k, Reg<T> x) { return k.brev(x); }, reverse_bits<H>, a);
    check_elementwise<T, T, T>("and_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.and_(x, y); },
                               [](H x, H y) { return static_cast<H>(x & y); }, a, b);
    check_elementwise<T, T, T>("or_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.or_(x, y); },
                               [](H x, H y) { return static_cast<H>(x | y); }, a, b);
    check_elementwise<T, T, T>("xor_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.xor_(x, y); },
                               [](H x, H y) { return static_cast<H>(x ^ y); }, a, b);
    check_elementwise<T, T>("not_" + t, [](KernelBuilder& k, Reg<T> x) { return k.not_(x); },
                            [](H x) { return static_cast<H>(~x); }, a);
}

TEST_CASE("popc, clz, brev, and, or, xor, not") {
    ITEST_RNG(rng);
    check_bit_ops<u32>(rng);
    check_bit_ops<u64>(rng);
}

// ---------------------------------------------------------------------------------------------
// Comparison and selection
// ---------------------------------------------------------------------------------------------

template <class H> bool int_compare(Cmp c, H a, H b) {
    using U = std::make_unsigned_t<H>;
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
    default: FAIL("not an integer comparison"); return false;
    }
}

template <class T> void check_int_setp(Rng& rng, std::initializer_list<Cmp> cmps) {
    using H = Host<T>;
    auto [a, b] = integer_pairs<H>(rng, 600);
    for (size_t i = 0; i < 100; ++i) b[a.size() - 1 - i] = a[a.size() - 1 - i];  // equal pairs
    for (Cmp c : cmps) {
        check_elementwise<u32, T, T>(
            fmt::format("setp_{}_{}", static_cast<int>(c), type_name(T::type)),
            [c](KernelBuilder& k, Reg<T> x, Reg<T> y) { return as_u32(k, k.setp(c, x, y)); },
            [c](H x, H y) { return uint32_t{int_compare(c, x, y)}; }, a, b);
    }
}

TEST_CASE("setp on integers: every comparison, signed and unsigned") {
    ITEST_RNG(rng);
    check_int_setp<s32>(rng, {Cmp::eq, Cmp::ne, Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge});
    check_int_setp<s64>(rng, {Cmp::eq, Cmp::ne, Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge});
    check_int_setp<s16>(rng, {Cmp::lt, Cmp::ge});
    check_int_setp<u32>(rng, {Cmp::eq, Cmp::ne, Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge, Cmp::lo, Cmp::ls, Cmp::hi, Cmp::hs});
    check_int_setp<u64>(rng, {Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge, Cmp::lo, Cmp::ls, Cmp::hi, Cmp::hs});
}

bool float_compare(Cmp c, float a, float b) {
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
    default: FAIL("not a float comparison"); return false;
    }
}

TEST_CASE("setp on f32: ordered comparisons are false on NaN, unordered ones true; num and nan") {
    ITEST_RNG(rng);
    auto [a, b] = float_pairs(rng, 1200);
    for (size_t i = 0; i < 100; ++i) b[a.size() - 1 - i] = a[a.size() - 1 - i];
    for (Cmp c : {Cmp::eq, Cmp::ne, Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge, Cmp::equ, Cmp::neu, Cmp::ltu, Cmp::leu,
                  Cmp::gtu, Cmp::geu, Cmp::num, Cmp::nan}) {
        check_elementwise<u32, f32, f32>(
            fmt::format("setp_f32_{}", static_cast<int>(c)),
            [c](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return as_u32(k, k.setp(c, x, y)); },
            [c](float x, float y) { return uint32_t{float_compare(c, x, y)}; }, a, b);
    }
}

TEST_CASE("setp with .and/.or/.xor combines with a second predicate; selp picks by predicate") {
    ITEST_RNG(rng);
    std::vector<int32_t> a, b, c;
    for (int i = 0; i < 1000; ++i) {
        a.push_back(static_cast<int32_t>(rng.range(-5, 5)));
        b.push_back(static_cast<int32_t>(rng.range(-5, 5)));
        c.push_back(static_cast<int32_t>(rng.range(-5, 5)));
    }
    const std::pair<BoolOp, std::function<bool(bool, bool)>> ops[] = {
        {BoolOp::and_, [](bool x, bool y) { return x && y; }},
        {BoolOp::or_, [](bool x, bool y) { return x || y; }},
        {BoolOp::xor_, [](bool x, bool y) { return x != y; }},
    };
    for (const auto& [bop, host] : ops) {
        // p = (a < b) BOP !(c == 0)
        check_elementwise<u32, s32, s32, s32>(
            fmt::format("setp_bop_{}", static_cast<int>(bop)),
            [bop = bop](KernelBuilder& k, Reg<s32> x, Reg<s32> y, Reg<s32> z) {
                Pred zero = k.setp(Cmp::eq, z, 0);
                return as_u32(k, k.setp(Cmp::lt, x, y, bop, !zero));
            },
            [&host = host](int32_t x, int32_t y, int32_t z) { return uint32_t{host(x < y, z != 0)}; }, a, b, c);
    }
    std::vector<float> fa = float_inputs(rng, 1000), fb = float_inputs(rng, 1000);
    std::vector<uint32_t> sel;
    for (size_t i = 0; i < fa.size(); ++i) sel.push_back(rng.u32());
    check_elementwise<f32, f32, f32, u32>(
        "selp_f32",
        [](KernelBuilder& k, Reg<f32> x, Reg<f32> y, Reg<u32> s) {
            return k.selp<f32>(x, y, k.setp(Cmp::ne, k.and_(s, 1u), 0u));
        },
        [](float x, float y, uint32_t s) { return (s & 1) ? x : y; }, fa, fb, sel);
    check_elementwise_with<f32, f32, f32, u32>(  // NaN payloads must pass through a select untouched
        "selp_f32_bits",
        [](KernelBuilder& k, Reg<f32> x, Reg<f32> y, Reg<u32> s) {
            return k.selp<f32>(x, y, k.setp(Cmp::ne, k.and_(s, 1u), 0u));
        },
        [](float x, float y, uint32_t s) { return (s & 1) ? x : y; },
        [](float g, float w) { return std::bit_cast<uint32_t>(g) == std::bit_cast<uint32_t>(w); }, fa, fb, sel);
}

// ---------------------------------------------------------------------------------------------
// f32 arithmetic
// ---------------------------------------------------------------------------------------------

TEST_CASE("f32 add, sub, mul, fma and div are correctly rounded in every rounding mode") {
    ITEST_RNG(rng);
    auto [a, b] = float_pairs(rng, 3000);
    std::vector<float> c = float_column(rng, a.size());
    for (Round r : kFloatRoundings) {
        const std::string m = round_name(r);
        const FMode mode{.round = r};
        check_elementwise<f32, f32, f32>("add_" + m, [mode](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.add(x, y, mode); },
                                         [r](float x, float y) { return host_rounded(r, [&] { volatile float p = x, q = y; return p + q; }); }, a, b);
        check_elementwise<f32, f32, f32>("sub_" + m, [mode](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.sub(x, y, mode); },
                                         [r](float x, float y) { return host_rounded(r, [&] { volatile float p = x, q = y; return p - q; }); }, a, b);
        check_elementwise<f32, f32, f32>("mul_" + m, [mode](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.mul(x, y, mode); },
                                         [r](float x, float y) { return host_rounded(r, [&] { volatile float p = x, q = y; return p * q; }); }, a, b);
        check_elementwise<f32, f32, f32>("div_" + m, [mode](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.div(x, y, mode); },
                                         [r](float x, float y) { return host_rounded(r, [&] { volatile float p = x, q = y; return p / q; }); }, a, b);
        check_elementwise<f32, f32, f32, f32>(
            "fma_" + m, [mode](KernelBuilder& k, Reg<f32> x, Reg<f32> y, Reg<f32> z) { return k.fma(x, y, z, mode); },
            [r](float x, float y, float z) { return host_rounded(r, [&] { volatile float p = x, q = y, s = z; return std::fma(p, q, s); }); },
            a, b, c);
    }
    // Without a rounding modifier add, sub and mul round to nearest even.
    check_elementwise<f32, f32, f32>("add_default", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.add(x, y); },
                                     [](float x, float y) { return x + y; }, a, b);
    check_elementwise<f32, f32, f32>("mul_default", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.mul(x, y); },
                                     [](float x, float y) { return x * y; }, a, b);
}

TEST_CASE("f32 NaN propagation and infinity arithmetic") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> a{inf, inf, inf, 0.0f, 1.0f, -1.0f, 0.0f, nan, 1.0f, inf, -inf, 5.0f};
    std::vector<float> b{-inf, 0.0f, inf, 0.0f, 0.0f, 0.0f, inf, 1.0f, nan, 2.0f, 2.0f, inf};
    check_elementwise<f32, f32, f32>("add_inf", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.add(x, y); },
                                     [](float x, float y) { return x + y; }, a, b);
    check_elementwise<f32, f32, f32>("mul_inf", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.mul(x, y); },
                                     [](float x, float y) { return x * y; }, a, b);
    check_elementwise<f32, f32, f32>("div_inf", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.div(x, y, {.round = Round::rn}); },
                                     [](float x, float y) { return x / y; }, a, b);
    // Spot checks stated outright, so a wrong host model cannot hide a wrong answer.
    std::vector<float> got = run_elementwise<f32, f32, f32>(
        "div_spot", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.div(x, y, {.round = Round::rn}); }, a, b);
    CHECK(std::isnan(got[3]));           // 0 / 0
    CHECK(got[4] == inf);                // 1 / 0
    CHECK(got[5] == -inf);               // -1 / 0
    CHECK(std::isnan(got[2]));           // inf / inf
    CHECK(got[11] == 0.0f);              // 5 / inf
}

bool float_min_is_first(float a, float b) { return a < b || (a == b && std::signbit(a)); }

float min_model(float a, float b) {
    if (std::isnan(a)) return b;  // both NaN gives NaN either way
    if (std::isnan(b)) return a;
    return float_min_is_first(a, b) ? a : b;
}

float max_model(float a, float b) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    return (a > b || (a == b && !std::signbit(a))) ? a : b;
}

TEST_CASE("f32 min and max: one NaN gives the other operand, min(-0,+0) is -0, max(-0,+0) is +0") {
    ITEST_RNG(rng);
    auto [a, b] = float_pairs(rng, 2000);
    check_elementwise<f32, f32, f32>("min_f32", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.min(x, y); }, min_model, a, b);
    check_elementwise<f32, f32, f32>("max_f32", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.max(x, y); }, max_model, a, b);
    check_elementwise<f32, f32, f32>("min_ftz_f32", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.min(x, y, {.ftz = true}); },
                                     [](float x, float y) { return min_model(flush(x), flush(y)); }, a, b);
    check_elementwise<f32, f32, f32>("max_ftz_f32", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.max(x, y, {.ftz = true}); },
                                     [](float x, float y) { return max_model(flush(x), flush(y)); }, a, b);
}

TEST_CASE("f32 abs and neg change only the sign bit, also of zeros; abs of NaN is a positive NaN") {
    ITEST_RNG(rng);
    std::vector<float> a = float_inputs(rng, 1000);
    // Bit for bit, except NaNs. abs of a NaN must clear the sign (an H100 does); neg of a NaN is
    // only required to be a NaN: the ISA leaves it unspecified, and an H100 returns the canonical
    // positive NaN 0x7fffffff rather than flipping the sign.
    auto exact_abs = [](float got, float want) {
        if (std::isnan(want)) return std::isnan(got) && !std::signbit(got);
        return std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(want);
    };
    check_elementwise_with<f32, f32>("abs_f32", [](KernelBuilder& k, Reg<f32> x) { return k.abs(x); },
                                     [](float x) { return std::fabs(x); }, exact_abs, a);
    check_elementwise<f32, f32>("neg_f32", [](KernelBuilder& k, Reg<f32> x) { return k.neg(x); },
                                [](float x) { return -x; }, a);
    check_elementwise<f32, f32>("abs_ftz_f32", [](KernelBuilder& k, Reg<f32> x) { return k.abs(x, {.ftz = true}); },
                                [](float x) { return std::fabs(flush(x)); }, a);
    check_elementwise<f32, f32>("neg_ftz_f32", [](KernelBuilder& k, Reg<f32> x) { return k.neg(x, {.ftz = true}); },
                                [](float x) { return -flush(x); }, a);
}

// Operands concentrated where .ftz matters: subnormals, the smallest normals, and values whose
// products or differences underflow.
std::vector<float> tiny_inputs(Rng& rng, size_t n) {
    std::vector<float> v = special_f32();
    while (v.size() < n) {
        switch (rng.below(4)) {
        case 0: v.push_back(std::bit_cast<float>((rng.u32() & 0x807fffffu))); break;  // subnormal (or zero)
        case 1: v.push_back(rng.f32_exp(-127, -120)); break;
        case 2: v.push_back(rng.f32_exp(-70, -55)); break;
        default: v.push_back(rng.f32_exp(-3, 3)); break;
        }
    }
    v.resize(n);
    rng.shuffle(v);
    return v;
}

TEST_CASE(".ftz flushes subnormal inputs and results to zero of the same sign") {
    ITEST_RNG(rng);
    std::vector<float> a = tiny_inputs(rng, 3000), b = tiny_inputs(rng, 3000), c = tiny_inputs(rng, 3000);
    const FMode ftz{.ftz = true};
    check_elementwise<f32, f32, f32>("add_ftz", [ftz](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.add(x, y, ftz); },
                                     [](float x, float y) { return flush(flush(x) + flush(y)); }, a, b);
    check_elementwise<f32, f32, f32>("sub_ftz", [ftz](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.sub(x, y, ftz); },
                                     [](float x, float y) { return flush(flush(x) - flush(y)); }, a, b);
    check_elementwise<f32, f32, f32>("mul_ftz", [ftz](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.mul(x, y, ftz); },
                                     [](float x, float y) { return flush(flush(x) * flush(y)); }, a, b);
    check_elementwise<f32, f32, f32, f32>(
        "fma_ftz", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y, Reg<f32> z) { return k.fma(x, y, z, {.round = Round::rn, .ftz = true}); },
        [](float x, float y, float z) { return flush(std::fma(flush(x), flush(y), flush(z))); }, a, b, c);
    check_elementwise<f32, f32, f32>(
        "div_ftz", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.div(x, y, {.round = Round::rn, .ftz = true}); },
        [](float x, float y) { return flush(flush(x) / flush(y)); }, a, b);
    // Without .ftz the same operations keep subnormals.
    check_elementwise<f32, f32, f32>("mul_no_ftz", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.mul(x, y); },
                                     [](float x, float y) { return x * y; }, a, b);
}

TEST_CASE(".sat clamps f32 results to [0, 1] and turns NaN into +0") {
    ITEST_RNG(rng);
    std::vector<float> a, b, c;
    const std::vector<float> special = special_f32();
    for (int i = 0; i < 2000; ++i) {
        a.push_back(i % 7 == 0 ? special[rng.below(static_cast<uint32_t>(special.size()))] : rng.f32(-2.0f, 2.0f));
        b.push_back(i % 11 == 0 ? special[rng.below(static_cast<uint32_t>(special.size()))] : rng.f32(-2.0f, 2.0f));
        c.push_back(rng.f32(-1.0f, 1.0f));
    }
    auto sat = [](float v) { return std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 1.0f); };
    // The sign of a zero result is left open; the value and the absence of NaN are checked.
    auto same_value = [](float got, float want) { return !std::isnan(got) && got == want; };
    const FMode s{.sat = true};
    check_elementwise_with<f32, f32, f32>("add_sat", [s](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.add(x, y, s); },
                                          [&](float x, float y) { return sat(x + y); }, same_value, a, b);
    check_elementwise_with<f32, f32, f32>("mul_sat", [s](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.mul(x, y, s); },
                                          [&](float x, float y) { return sat(x * y); }, same_value, a, b);
    check_elementwise_with<f32, f32, f32, f32>(
        "fma_sat", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y, Reg<f32> z) { return k.fma(x, y, z, {.round = Round::rn, .sat = true}); },
        [&](float x, float y, float z) { return sat(std::fma(x, y, z)); }, same_value, a, b, c);
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

// Floats around the range of a 16-bit format: its subnormals, normals, overflow, exact ties.
std::vector<float> half_range_inputs(Rng& rng, size_t n, Format f) {
    std::vector<float> v = special_f32();
    const int lo = f.emin - f.mant - 2, hi = f.emax + 2;
    while (v.size() < n) {
        switch (rng.below(4)) {
        case 0: v.push_back(rng.any_f32()); break;
        case 1: {  // halfway between two neighbours of the format: a tie for .rn
            auto h = static_cast<uint16_t>(rng.u32() & 0x7fff);
            double x = decode_half(h, f);
            if (std::isnan(x) || std::isinf(x)) continue;
            int e = std::max(x == 0 ? f.emin : std::ilogb(x), f.emin);
            double t = x + std::ldexp(1.0, e - f.mant - 1);
            v.push_back(static_cast<float>(rng.coin() ? -t : t));
            break;
        }
        default: v.push_back(rng.f32_exp(lo, hi)); break;
        }
    }
    v.resize(n);
    return v;
}

TEST_CASE("cvt f32 -> f16 and f32 -> bf16 in every rounding mode, with subnormal halves and overflow") {
    ITEST_RNG(rng);
    std::vector<float> for_f16 = half_range_inputs(rng, 4000, kF16);
    std::vector<float> for_bf16 = half_range_inputs(rng, 4000, kBF16);
    // The largest finite values and the first values beyond them.
    for (float x : {65504.0f, 65519.0f, 65520.0f, 65536.0f, -65520.0f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f})
        for_f16.push_back(x);
    for (float x : {std::numeric_limits<float>::max(), std::bit_cast<float>(0x7f7f8000u), std::bit_cast<float>(0x7f7f7fffu)})
        for_bf16.push_back(x);
    for (Round r : kFloatRoundings) {
        check_elementwise<f16, f32>(fmt::format("cvt_{}_f16_f32", round_name(r)),
                                    [r](KernelBuilder& k, Reg<f32> x) { return k.cvt<f16>(x, {.round = r}); },
                                    [r](float x) { return encode_half(round_to_format(x, kF16, r), kF16); }, for_f16);
        check_elementwise<bf16, f32>(fmt::format("cvt_{}_bf16_f32", round_name(r)),
                                     [r](KernelBuilder& k, Reg<f32> x) { return k.cvt<bf16>(x, {.round = r}); },
                                     [r](float x) { return encode_half(round_to_format(x, kBF16, r), kBF16); }, for_bf16);
    }
}

TEST_CASE("cvt f16 -> f32 and bf16 -> f32 are exact for every bit pattern") {
    std::vector<uint16_t> all(65536);
    std::iota(all.begin(), all.end(), uint16_t{0});
    check_elementwise<f32, f16>("cvt_f32_f16", [](KernelBuilder& k, Reg<f16> h) { return k.cvt<f32>(h); },
                                [](uint16_t h) { return static_cast<float>(decode_half(h, kF16)); }, all);
    check_elementwise<f32, bf16>("cvt_f32_bf16", [](KernelBuilder& k, Reg<bf16> h) { return k.cvt<f32>(h); },
                                 [](uint16_t h) { return static_cast<float>(decode_half(h, kBF16)); }, all);
}

// Floats for conversions to integers: near and beyond the integer ranges, exact halves, specials.
std::vector<float> to_int_inputs(Rng& rng, size_t n) {
    std::vector<float> v = special_f32();
    for (float x : {0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 2147483520.0f, 2147483648.0f, -2147483648.0f, -2147483904.0f,
                    4294967040.0f, 4294967296.0f, 9.2233720e18f, -9.2233720e18f, 1.8446744e19f, 3e19f})
        v.push_back(x);
    while (v.size() < n) {
        switch (rng.below(3)) {
        case 0: v.push_back(static_cast<float>(rng.range(-100000, 100000)) + 0.5f); break;
        case 1: v.push_back(rng.f32_exp(-4, 66)); break;
        default: v.push_back(rng.f32(-1e4f, 1e4f)); break;
        }
    }
    v.resize(n);
    return v;
}

template <class T> void check_float_to_int(const std::vector<float>& in) {
    using H = Host<T>;
    for (Round r : kIntRoundings) {
        check_elementwise<T, f32>(fmt::format("cvt_{}_{}_f32", round_name(r), type_name(T::type)),
                                  [r](KernelBuilder& k, Reg<f32> x) { return k.cvt<T>(x, {.round = r}); },
                                  [r](float x) { return float_to_int<H>(x, r); }, in);
    }
}

TEST_CASE("cvt f32 -> s32/u32/s64/u64 rounds as asked, saturates, and maps NaN to 0") {
    ITEST_RNG(rng);
    std::vector<float> in = to_int_inputs(rng, 3000);
    check_float_to_int<s32>(in);
    check_float_to_int<u32>(in);
    // NaN is left out of the 64-bit conversions: the ISA says 0, an H100 gives 0x8000000000000000.
    std::erase_if(in, [](float x) { return std::isnan(x); });
    check_float_to_int<s64>(in);
    check_float_to_int<u64>(in);
}

TEST_CASE("cvt s32/u32 -> f32 in every rounding mode") {
    ITEST_RNG(rng);
    std::vector<int32_t> s = integer_inputs<int32_t>(rng, 3000);
    std::vector<uint32_t> u = integer_inputs<uint32_t>(rng, 3000);
    for (Round r : kFloatRoundings) {
        check_elementwise<f32, s32>(fmt::format("cvt_{}_f32_s32", round_name(r)),
                                    [r](KernelBuilder& k, Reg<s32> x) { return k.cvt<f32>(x, {.round = r}); },
                                    [r](int32_t x) { return static_cast<float>(round_to_format(x, kF32, r)); }, s);
        check_elementwise<f32, u32>(fmt::format("cvt_{}_f32_u32", round_name(r)),
                                    [r](KernelBuilder& k, Reg<u32> x) { return k.cvt<f32>(x, {.round = r}); },
                                    [r](uint32_t x) { return static_cast<float>(round_to_format(x, kF32, r)); }, u);
    }
}

TEST_CASE("cvt between integer types: sign- or zero-extension by the source, truncation, .sat clamping") {
    ITEST_RNG(rng);
    auto s16v = integer_inputs<int16_t>(rng, 1000);
    auto u16v = integer_inputs<uint16_t>(rng, 1000);
    auto s32v = integer_inputs<int32_t>(rng, 1000);
    auto u32v = integer_inputs<uint32_t>(rng, 1000);
    auto s64v = integer_inputs<int64_t>(rng, 1000);
    auto u64v = integer_inputs<uint64_t>(rng, 1000);
    // Widening: the source type's signedness decides the extension.
    check_elementwise<s32, s16>("cvt_s32_s16", [](KernelBuilder& k, Reg<s16> x) { return k.cvt<s32>(x); },
                                [](int16_t x) { return int32_t{x}; }, s16v);
    check_elementwise<u32, s16>("cvt_u32_s16", [](KernelBuilder& k, Reg<s16> x) { return k.cvt<u32>(x); },
                                [](int16_t x) { return static_cast<uint32_t>(int32_t{x}); }, s16v);
    check_elementwise<s32, u16>("cvt_s32_u16", [](KernelBuilder& k, Reg<u16> x) { return k.cvt<s32>(x); },
                                [](uint16_t x) { return int32_t{x}; }, u16v);
    check_elementwise<s64, s32>("cvt_s64_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<s64>(x); },
                                [](int32_t x) { return int64_t{x}; }, s32v);
    check_elementwise<u64, s32>("cvt_u64_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<u64>(x); },
                                [](int32_t x) { return static_cast<uint64_t>(int64_t{x}); }, s32v);
    check_elementwise<s64, u32>("cvt_s64_u32", [](KernelBuilder& k, Reg<u32> x) { return k.cvt<s64>(x); },
                                [](uint32_t x) { return int64_t{x}; }, u32v);
    // Narrowing keeps the low bits.
    check_elementwise<u16, u32>("cvt_u16_u32", [](KernelBuilder& k, Reg<u32> x) { return k.cvt<u16>(x); },
                                [](uint32_t x) { return static_cast<uint16_t>(x); }, u32v);
    check_elementwise<s16, s32>("cvt_s16_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<s16>(x); },
                                [](int32_t x) { return static_cast<int16_t>(x); }, s32v);
    check_elementwise<s32, s64>("cvt_s32_s64", [](KernelBuilder& k, Reg<s64> x) { return k.cvt<s32>(x); },
                                [](int64_t x) { return static_cast<int32_t>(x); }, s64v);
    check_elementwise<u32, u64>("cvt_u32_u64", [](KernelBuilder& k, Reg<u64> x) { return k.cvt<u32>(x); },
                                [](uint64_t x) { return static_cast<uint32_t>(x); }, u64v);
    // .sat clamps to the destination's range.
    auto clamp_to = [](auto x, auto lo, auto hi) { return x < lo ? lo : x > hi ? hi : x; };
    check_elementwise<s16, s32>("cvt_sat_s16_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<s16>(x, {.sat = true}); },
                                [&](int32_t x) { return static_cast<int16_t>(clamp_to(x, -32768, 32767)); }, s32v);
    check_elementwise<u16, s32>("cvt_sat_u16_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<u16>(x, {.sat = true}); },
                                [&](int32_t x) { return static_cast<uint16_t>(clamp_to(x, 0, 65535)); }, s32v);
    check_elementwise<u16, u32>("cvt_sat_u16_u32", [](KernelBuilder& k, Reg<u32> x) { return k.cvt<u16>(x, {.sat = true}); },
                                [](uint32_t x) { return static_cast<uint16_t>(std::min<uint32_t>(x, 65535)); }, u32v);
    check_elementwise<u32, s32>("cvt_sat_u32_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<u32>(x, {.sat = true}); },
                                [](int32_t x) { return static_cast<uint32_t>(std::max(x, 0)); }, s32v);
    check_elementwise<s32, u32>("cvt_sat_s32_u32", [](KernelBuilder& k, Reg<u32> x) { return k.cvt<s32>(x, {.sat = true}); },
                                [](uint32_t x) { return static_cast<int32_t>(std::min<uint32_t>(x, INT32_MAX)); }, u32v);
    check_elementwise<s32, s64>("cvt_sat_s32_s64", [](KernelBuilder& k, Reg<s64> x) { return k.cvt<s32>(x, {.sat = true}); },
                                [&](int64_t x) { return static_cast<int32_t>(clamp_to(x, int64_t{INT32_MIN}, int64_t{INT32_MAX})); }, s64v);
    check_elementwise<u64, s64>("cvt_sat_u64_s64", [](KernelBuilder& k, Reg<s64> x) { return k.cvt<u64>(x, {.sat = true}); },
                                [](int64_t x) { return static_cast<uint64_t>(std::max<int64_t>(x, 0)); }, s64v);
    check_elementwise<u64, s32>("cvt_sat_u64_s32", [](KernelBuilder& k, Reg<s32> x) { return k.cvt<u64>(x, {.sat = true}); },
                                [](int32_t x) { return static_cast<uint64_t>(std::max(x, 0)); }, s32v);
    check_elementwise<s64, u64>("cvt_sat_s64_u64", [](KernelBuilder& k, Reg<u64> x) { return k.cvt<s64>(x, {.sat = true}); },
                                [](uint64_t x) { return static_cast<int64_t>(std::min<uint64_t>(x, INT64_MAX)); }, u64v);
}

TEST_CASE("cvt.rni/rzi/rmi/rpi.f32.f32 round to an integral value, keeping the sign of zero") {
    ITEST_RNG(rng);
    std::vector<float> in = to_int_inputs(rng, 2000);
    for (float x : {-0.25f, -0.75f, 0.25f, 0.75f, 8388607.5f, -8388607.5f, 16777215.0f}) in.push_back(x);
    for (Round r : kIntRoundings) {
        check_elementwise<f32, f32>(fmt::format("cvt_{}_f32_f32", round_name(r)),
                                    [r](KernelBuilder& k, Reg<f32> x) { return k.cvt<f32>(x, {.round = r}); },
                                    [r](float x) { return static_cast<float>(round_integral(x, r)); }, in);
    }
}

// ---------------------------------------------------------------------------------------------
// Approximate and correctly rounded math
// ---------------------------------------------------------------------------------------------

struct Tolerance {
    double rel;
    double abs = 0;
};

void check_approx(const std::string& name, const Body<f32, f32>& body, const std::function<double(double)>& exact,
                  const std::vector<float>& in, Tolerance tol) {
    std::vector<float> got = run_elementwise<f32, f32>(name, body, in);
    Mismatches bad(name);
    for (size_t i = 0; i < in.size(); ++i) {
        double want = exact(in[i]);
        double g = got[i];
        bool ok = std::isnan(want) ? std::isnan(g)
                  : std::isinf(want) ? g == want
                                     : std::fabs(g - want) <= tol.abs + tol.rel * std::fabs(want);
        if (!ok) bad.add(fmt::format("[{}] {}({}) = {}, expected {} (error {:.3g})", i, name, show(in[i]), show(got[i]), show(want), g - want));
    }
    ITEST_CHECK_NONE(bad);
}

// Positive floats with exponents in [lo, hi).
std::vector<float> positive_inputs(Rng& rng, size_t n, int lo, int hi) {
    std::vector<float> v;
    while (v.size() < n) v.push_back(std::fabs(rng.f32_exp(lo, hi)));
    return v;
}

std::vector<float> uniform_inputs(Rng& rng, size_t n, float lo, float hi) {
    std::vector<float> v;
    while (v.size() < n) v.push_back(rng.f32(lo, hi));
    return v;
}

TEST_CASE("approximate ex2, lg2, rcp, rsqrt, sqrt, tanh, sin and cos are close to the exact values") {
    ITEST_RNG(rng);
    const Tolerance tight{std::ldexp(1.0, -20)};
    check_approx("ex2", [](KernelBuilder& k, Reg<f32> x) { return k.ex2(x); }, [](double x) { return std::exp2(x); },
                 uniform_inputs(rng, 2000, -120.0f, 120.0f), tight);
    check_approx("lg2", [](KernelBuilder& k, Reg<f32> x) { return k.lg2(x); }, [](double x) { return std::log2(x); },
                 positive_inputs(rng, 2000, -120, 120), {std::ldexp(1.0, -20), std::ldexp(1.0, -21)});
    check_approx("rcp", [](KernelBuilder& k, Reg<f32> x) { return k.rcp(x); }, [](double x) { return 1.0 / x; },
                 [&] { auto v = positive_inputs(rng, 2000, -120, 120); for (float& x : v) if (rng.coin()) x = -x; return v; }(),
                 tight);
    check_approx("rsqrt", [](KernelBuilder& k, Reg<f32> x) { return k.rsqrt(x); }, [](double x) { return 1.0 / std::sqrt(x); },
                 positive_inputs(rng, 2000, -126, 127), tight);
    check_approx("sqrt_approx", [](KernelBuilder& k, Reg<f32> x) { return k.sqrt(x); }, [](double x) { return std::sqrt(x); },
                 positive_inputs(rng, 2000, -126, 127), tight);
    // tanh.approx.f32 is specified to 2^-11 relative error.
    check_approx("tanh", [](KernelBuilder& k, Reg<f32> x) { return k.tanh(x); }, [](double x) { return std::tanh(x); },
                 uniform_inputs(rng, 2000, -10.0f, 10.0f), {std::pow(2.0, -10.9)});
    // sin/cos.approx are specified by absolute error on [-pi, pi].
    const float pi = 3.14159265f;
    check_approx("sin", [](KernelBuilder& k, Reg<f32> x) { return k.sin(x); }, [](double x) { return std::sin(x); },
                 uniform_inputs(rng, 2000, -pi, pi), {0, std::ldexp(1.0, -20)});
    check_approx("cos", [](KernelBuilder& k, Reg<f32> x) { return k.cos(x); }, [](double x) { return std::cos(x); },
                 uniform_inputs(rng, 2000, -pi, pi), {0, std::ldexp(1.0, -20)});
    // div.full.f32 has at most 2 ulp of error.
    {
        std::vector<float> a = uniform_inputs(rng, 2000, -1000.0f, 1000.0f), b = positive_inputs(rng, 2000, -60, 60);
        std::vector<float> got = run_elementwise<f32, f32, f32>(
            "div_full", [](KernelBuilder& k, Reg<f32> x, Reg<f32> y) { return k.div_full(x, y); }, a, b);
        Mismatches bad("div.full");
        for (size_t i = 0; i < a.size(); ++i) {
            double want = double{a[i]} / b[i];
            if (std::fabs(got[i] - want) > std::ldexp(1.0, -21) * std::fabs(want))
                bad.add(fmt::format("{} / {} = {}, expected {}", show(a[i]), show(b[i]), show(got[i]), want));
        }
        ITEST_CHECK_NONE(bad);
    }
}

TEST_CASE("math special values: infinities, zeros, negative arguments") {
    const float inf = std::numeric_limits<float>::infinity();
    auto expect = [](const std::string& name, const Body<f32, f32>& body, std::vector<std::pair<float, float>> cases) {
        std::vector<float> in;
        for (auto& c : cases) in.push_back(c.first);
        std::vector<float> got = run_elementwise<f32, f32>(name, body, in);
        Mismatches bad(name);
        for (size_t i = 0; i < cases.size(); ++i)
            if (!same_result<f32>(got[i], cases[i].second))
                bad.add(fmt::format("{}({}) = {}, expected {}", name, show(in[i]), show(got[i]), show(cases[i].second)));
        ITEST_CHECK_NONE(bad);
    };
    const float nan = std::numeric_limits<float>::quiet_NaN();
    expect("ex2", [](KernelBuilder& k, Reg<f32> x) { return k.ex2(x); },
           {{-inf, 0.0f}, {inf, inf}, {nan, nan}, {0.0f, 1.0f}, {-0.0f, 1.0f}, {1.0f, 2.0f}, {-1.0f, 0.5f}, {10.0f, 1024.0f}, {200.0f, inf}});
    expect("lg2", [](KernelBuilder& k, Reg<f32> x) { return k.lg2(x); },
           {{0.0f, -inf}, {-0.0f, -inf}, {inf, inf}, {-1.0f, nan}, {1.0f, 0.0f}, {2.0f, 1.0f}, {nan, nan}, {-inf, nan}});
    expect("rcp", [](KernelBuilder& k, Reg<f32> x) { return k.rcp(x); },
           {{0.0f, inf}, {-0.0f, -inf}, {inf, 0.0f}, {-inf, -0.0f}, {2.0f, 0.5f}, {nan, nan}});
    expect("rsqrt", [](KernelBuilder& k, Reg<f32> x) { return k.rsqrt(x); },
           {{0.0f, inf}, {-0.0f, -inf}, {inf, 0.0f}, {-1.0f, nan}, {4.0f, 0.5f}, {nan, nan}});
    expect("sqrt", [](KernelBuilder& k, Reg<f32> x) { return k.sqrt(x); },
           {{0.0f, 0.0f}, {-0.0f, -0.0f}, {inf, inf}, {-1.0f, nan}, {4.0f, 2.0f}, {nan, nan}});
    expect("tanh", [](KernelBuilder& k, Reg<f32> x) { return k.tanh(x); },
           {{inf, 1.0f}, {-inf, -1.0f}, {0.0f, 0.0f}, {-0.0f, -0.0f}, {nan, nan}});
    expect("sin", [](KernelBuilder& k, Reg<f32> x) { return k.sin(x); }, {{0.0f, 0.0f}, {-0.0f, -0.0f}, {inf, nan}, {nan, nan}});
    expect("cos", [](KernelBuilder& k, Reg<f32> x) { return k.cos(x); }, {{0.0f, 1.0f}, {-inf, nan}, {nan, nan}});
}

TEST_CASE("rcp.rn and sqrt.rn are correctly rounded") {
    ITEST_RNG(rng);
    std::vector<float> in = float_inputs(rng, 3000);
    check_elementwise<f32, f32>("rcp_rn", [](KernelBuilder& k, Reg<f32> x) { return k.rcp(x, {.round = Round::rn}); },
                                [](float x) { volatile float one = 1.0f; return one / x; }, in);
    check_elementwise<f32, f32>("sqrt_rn", [](KernelBuilder& k, Reg<f32> x) { return k.sqrt(x, {.round = Round::rn}); },
                                [](float x) { return std::sqrt(x); }, in);
}

// ---------------------------------------------------------------------------------------------
// Half-precision and f64 arithmetic
// ---------------------------------------------------------------------------------------------

// Random 16-bit patterns of every kind (NaN, infinity, subnormal), or normal values of moderate
// exponent, whose products and sums double holds exactly.
std::vector<uint16_t> half_inputs(Rng& rng, size_t n, Format f, bool moderate) {
    std::vector<uint16_t> v;
    while (v.size() < n) {
        if (moderate) {
            v.push_back(encode_half(round_to_format(rng.f32_exp(-8, 8), f, Round::rn), f));
        } else {
            v.push_back(static_cast<uint16_t>(rng.u32()));
        }
    }
    return v;
}

// A host operation on decoded halves, rounded once to the format.
uint16_t half_op(Format f, uint16_t a, uint16_t b, uint16_t c, double (*op)(double, double, double)) {
    return encode_half(round_to_format(op(decode_half(a, f), decode_half(b, f), decode_half(c, f)), f, Round::rn), f);
}

double op_add(double x, double y, double) { return x + y; }
double op_mul(double x, double y, double) { return x * y; }
double op_fma(double x, double y, double z) { return x * y + z; }  // exact for the moderate inputs
double op_min(double x, double y, double) {
    if (std::isnan(x)) return y;
    if (std::isnan(y)) return x;
    return (x < y || (x == y && std::signbit(x))) ? x : y;
}
double op_max(double x, double y, double) {
    if (std::isnan(x)) return y;
    if (std::isnan(y)) return x;
    return (x > y || (x == y && !std::signbit(x))) ? x : y;
}

template <class T> void check_half_arithmetic(Rng& rng, Format f) {
    const std::string t(type_name(T::type));
    auto a = half_inputs(rng, 3000, f, false), b = half_inputs(rng, 3000, f, false);
    auto ma = half_inputs(rng, 3000, f, true), mb = half_inputs(rng, 3000, f, true), mc = half_inputs(rng, 3000, f, true);
    auto host2 = [f](double (*op)(double, double, double)) {
        return [f, op](uint16_t x, uint16_t y) { return half_op(f, x, y, 0, op); };
    };
    check_elementwise<T, T, T>("add_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.add(x, y); }, host2(op_add), a, b);
    check_elementwise<T, T, T>("mul_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.mul(x, y); }, host2(op_mul), a, b);
    check_elementwise<T, T, T>("min_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.min(x, y); }, host2(op_min), a, b);
    check_elementwise<T, T, T>("max_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y) { return k.max(x, y); }, host2(op_max), a, b);
    check_elementwise<T, T, T, T>("fma_" + t, [](KernelBuilder& k, Reg<T> x, Reg<T> y, Reg<T> z) { return k.fma(x, y, z); },
                                  [f](uint16_t x, uint16_t y, uint16_t z) { return half_op(f, x, y, z, op_fma); }, ma, mb, mc);
}

TEST_CASE("f16 and bf16 add, mul, min, max and fma round once to the half format") {
    ITEST_RNG(rng);
    check_half_arithmetic<f16>(rng, kF16);
    check_half_arithmetic<bf16>(rng, kBF16);
}

// Packed halves compared half by half, any NaN equal to any NaN.
bool same_packed(Format f, uint32_t got, uint32_t want) {
    auto eq = [&](uint16_t g, uint16_t w) {
        bool gn = f.mant == 10 ? is_nan_f16(g) : is_nan_bf16(g), wn = f.mant == 10 ? is_nan_f16(w) : is_nan_bf16(w);
        return gn || wn ? gn && wn : g == w;
    };
    return eq(static_cast<uint16_t>(got), static_cast<uint16_t>(want)) && eq(static_cast<uint16_t>(got >> 16), static_cast<uint16_t>(want >> 16));
}

TEST_CASE("f16x2 and bf16x2 operate on both halves independently") {
    ITEST_RNG(rng);
    const std::pair<std::string, Format> kinds[] = {{"f16x2", kF16}, {"bf16x2", kBF16}};
    for (const auto& [name, f] : kinds) {
        auto lo = half_inputs(rng, 2000, f, true), hi = half_inputs(rng, 2000, f, false);
        auto lo2 = half_inputs(rng, 2000, f, true), hi2 = half_inputs(rng, 2000, f, false);
        std::vector<uint32_t> a, b;
        for (size_t i = 0; i < lo.size(); ++i) {
            a.push_back(uint32_t{lo[i]} | (uint32_t{hi[i]} << 16));
            b.push_back(uint32_t{hi2[i]} | (uint32_t{lo2[i]} << 16));
        }
        auto same = [f = f](uint32_t got, uint32_t want) { return same_packed(f, got, want); };
        auto packed = [f = f](double (*op)(double, double, double)) {
            return [f, op](uint32_t x, uint32_t y) {
                return uint32_t{half_op(f, static_cast<uint16_t>(x), static_cast<uint16_t>(y), 0, op)}
                       | (uint32_t{half_op(f, static_cast<uint16_t>(x >> 16), static_cast<uint16_t>(y >> 16), 0, op)} << 16);
            };
        };
        if (f.mant == 10) {
            check_elementwise_with<f16x2, f16x2, f16x2>("add_f16x2", [](KernelBuilder& k, Reg<f16x2> x, Reg<f16x2> y) { return k.add(x, y); },
                                                        packed(op_add), same, a, b);
            check_elementwise_with<f16x2, f16x2, f16x2>("mul_f16x2", [](KernelBuilder& k, Reg<f16x2> x, Reg<f16x2> y) { return k.mul(x, y); },
                                                        packed(op_mul), same, a, b);
        } else {
            check_elementwise_with<bf16x2, bf16x2, bf16x2>("add_bf16x2", [](KernelBuilder& k, Reg<bf16x2> x, Reg<bf16x2> y) { return k.add(x, y); },
                                                           packed(op_add), same, a, b);
            check_elementwise_with<bf16x2, bf16x2, bf16x2>("mul_bf16x2", [](KernelBuilder& k, Reg<bf16x2> x, Reg<bf16x2> y) { return k.mul(x, y); },
                                                           packed(op_mul), same, a, b);
        }
    }
    // cvt.rn.f16x2.f32 packs `hi` into the upper half.
    std::vector<float> x = half_range_inputs(rng, 1000, kF16), y = half_range_inputs(rng, 1000, kF16);
    check_elementwise_with<f16x2, f32, f32>(
        "cvt_f16x2_f32", [](KernelBuilder& k, Reg<f32> h, Reg<f32> l) { return k.cvt_pair<f16x2>(h, l); },
        [](float h, float l) {
            return uint32_t{encode_half(round_to_format(l, kF16, Round::rn), kF16)}
                   | (uint32_t{encode_half(round_to_format(h, kF16, Round::rn), kF16)} << 16);
        },
        [](uint32_t got, uint32_t want) { return same_packed(kF16, got, want); }, x, y);
}

std::vector<double> double_inputs(Rng& rng, size_t n) {
    using L = std::numeric_limits<double>;
    std::vector<double> v{0.0, -0.0, 1.0, -1.0, L::denorm_min(), L::min(), L::max(), -L::max(), L::infinity(), -L::infinity(), L::quiet_NaN()};
    while (v.size() < n) {
        switch (rng.below(3)) {
        case 0: v.push_back(std::bit_cast<double>(rng.u64())); break;
        default: v.push_back((rng.coin() ? -1 : 1) * std::ldexp(rng.real(1.0, 2.0), static_cast<int>(rng.range(-40, 40)))); break;
        }
    }
    rng.shuffle(v);
    return v;
}

TEST_CASE("f64 add, mul, fma, div.rn, min and max; cvt between f64 and f32") {
    ITEST_RNG(rng);
    auto a = double_inputs(rng, 3000), b = double_inputs(rng, 3000), c = double_inputs(rng, 3000);
    const FMode rn{.round = Round::rn};
    check_elementwise<f64, f64, f64>("add_f64", [rn](KernelBuilder& k, Reg<f64> x, Reg<f64> y) { return k.add(x, y, rn); },
                                     [](double x, double y) { return x + y; }, a, b);
    check_elementwise<f64, f64, f64>("mul_f64", [rn](KernelBuilder& k, Reg<f64> x, Reg<f64> y) { return k.mul(x, y, rn); },
                                     [](double x, double y) { return x * y; }, a, b);
    check_elementwise<f64, f64, f64>("div_f64", [rn](KernelBuilder& k, Reg<f64> x, Reg<f64> y) { return k.div(x, y, rn); },
                                     [](double x, double y) { return x / y; }, a, b);
    check_elementwise<f64, f64, f64, f64>("fma_f64", [](KernelBuilder& k, Reg<f64> x, Reg<f64> y, Reg<f64> z) { return k.fma(x, y, z); },
                                          [](double x, double y, double z) { return std::fma(x, y, z); }, a, b, c);
    check_elementwise<f64, f64, f64>("min_f64", [](KernelBuilder& k, Reg<f64> x, Reg<f64> y) { return k.min(x, y); },
                                     [](double x, double y) { return op_min(x, y, 0); }, a, b);
    check_elementwise<f64, f64, f64>("max_f64", [](KernelBuilder& k, Reg<f64> x, Reg<f64> y) { return k.max(x, y); },
                                     [](double x, double y) { return op_max(x, y, 0); }, a, b);
    for (Round r : kFloatRoundings)
        check_elementwise<f32, f64>(fmt::format("cvt_{}_f32_f64", round_name(r)),
                                    [r](KernelBuilder& k, Reg<f64> x) { return k.cvt<f32>(x, {.round = r}); },
                                    [r](double x) { return static_cast<float>(round_to_format(x, kF32, r)); }, a);
    std::vector<float> f = float_inputs(rng, 2000);
    check_elementwise<f64, f32>("cvt_f64_f32", [](KernelBuilder& k, Reg<f32> x) { return k.cvt<f64>(x); },
                                [](float x) { return double{x}; }, f);
}

// ---------------------------------------------------------------------------------------------
// Integer dot products
// ---------------------------------------------------------------------------------------------

// d = c + sum of a's parts times b's bytes, each extended by its own signedness; 32-bit wrap.
template <bool SA, bool SB> uint32_t dot_model(uint32_t a, uint32_t b, uint32_t c, int parts, int a_bits, int b_first) {
    int64_t acc = static_cast<int32_t>(c);
    for (int k = 0; k < parts; ++k) {
        uint32_t ap = (a >> (a_bits * k)) & ((1u << a_bits) - 1);
        uint32_t bp = (b >> (8 * (b_first + k))) & 0xffu;
        int64_t x = SA ? (a_bits == 8 ? int64_t{static_cast<int8_t>(ap)} : int64_t{static_cast<int16_t>(ap)}) : int64_t{ap};
        int64_t y = SB ? int64_t{static_cast<int8_t>(bp)} : int64_t{bp};
        acc += x * y;
    }
    return static_cast<uint32_t>(acc);
}

template <class TA, class TB> void check_dot(Rng& rng) {
    constexpr bool sa = TA::type == Type::s32, sb = TB::type == Type::s32;
    using Acc = std::conditional_t<!sa && !sb, u32, s32>;
    using HA = Host<TA>;
    using HB = Host<TB>;
    using HC = Host<Acc>;
    const std::string t = fmt::format("{}_{}", type_name(TA::type), type_name(TB::type));
    std::vector<HA> a = integer_inputs<HA>(rng, 1500);
    std::vector<HB> b = integer_inputs<HB>(rng, 1500);
    std::vector<HC> c = integer_inputs<HC>(rng, 1500);
    rng.shuffle(b);
    for (size_t i = 0; i < a.size(); ++i) {  // many operands with every byte set, where signedness matters most
        if (i % 3 == 0) a[i] = static_cast<HA>(rng.u32() | 0x80808080u);
        if (i % 5 == 0) b[i] = static_cast<HB>(rng.u32() | 0x80808080u);
    }
    auto u = [](auto v) { return static_cast<uint32_t>(v); };
    check_elementwise<Acc, TA, TB, Acc>(
        "dp4a_" + t, [](KernelBuilder& k, Reg<TA> x, Reg<TB> y, Reg<Acc> z) { return k.dp4a(x, y, z); },
        [&](HA x, HB y, HC z) { return static_cast<HC>(dot_model<sa, sb>(u(x), u(y), u(z), 4, 8, 0)); }, a, b, c);
    for (DpHalf half : {DpHalf::lo, DpHalf::hi}) {
        const int first = half == DpHalf::lo ? 0 : 2;
        check_elementwise<Acc, TA, TB, Acc>(
            fmt::format("dp2a_{}_{}", half == DpHalf::lo ? "lo" : "hi", t),
            [half](KernelBuilder& k, Reg<TA> x, Reg<TB> y, Reg<Acc> z) { return k.dp2a(half, x, y, z); },
            [&](HA x, HB y, HC z) { return static_cast<HC>(dot_model<sa, sb>(u(x), u(y), u(z), 2, 16, first)); }, a, b, c);
    }
}

TEST_CASE("dp4a and dp2a in every signedness combination") {
    ITEST_RNG(rng);
    check_dot<u32, u32>(rng);
    check_dot<u32, s32>(rng);
    check_dot<s32, u32>(rng);
    check_dot<s32, s32>(rng);
}

// ---------------------------------------------------------------------------------------------
// Narrow and vector memory accesses
// ---------------------------------------------------------------------------------------------

TEST_CASE("8- and 16-bit loads extend by the memory type's signedness; narrow stores keep the low bits") {
    ITEST_RNG(rng);
    const uint32_t n = 300;
    std::vector<uint8_t> bytes(n);
    std::vector<uint16_t> halves(n);
    std::vector<uint32_t> words(n);
    for (uint32_t i = 0; i < n; ++i) {
        bytes[i] = static_cast<uint8_t>(i < 256 ? i : rng.u32());  // every byte value at least once
        halves[i] = static_cast<uint16_t>(i < 2 ? 0x8000u + i : rng.u32());
        words[i] = rng.u32();
    }
    KernelBuilder b("narrow_access");
    GlobalPtr in8 = b.param_ptr("in8", Type::u8), in16 = b.param_ptr("in16", Type::u16), in32 = b.param_ptr("in32", Type::u32);
    GlobalPtr zext8 = b.param_ptr("zext8", Type::u32), sext8 = b.param_ptr("sext8", Type::s32);
    GlobalPtr copy16 = b.param_ptr("copy16", Type::u16), sext16 = b.param_ptr("sext16", Type::s32);
    GlobalPtr low8 = b.param_ptr("low8", Type::u8), low16 = b.param_ptr("low16", Type::u16);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        b.st(b.index(zext8, i, 4)[0], b.ld<u8>(b.index(in8, i, 1)[0]));
        b.st(b.index(sext8, i, 4)[0], b.ld<s8>(b.index(in8, i, 1)[0]));
        b.st(b.index(copy16, i, 2)[0], b.ld<u16>(b.index(in16, i, 2)[0]));
        b.st(b.index(sext16, i, 4)[0], b.cvt<s32>(b.ld<s16>(b.index(in16, i, 2)[0])));
        Reg<u32> w = b.ld<u32>(b.index(in32, i, 4)[0]);
        b.st<u8>(b.index(low8, i, 1)[0], w);
        b.st<u16>(b.index(low16, i, 2)[0], b.cvt<u16>(w));
    });
    Kernel k = b.finish();
    Device dev;
    uint64_t z8 = dev.poisoned<uint32_t>(n, "zext8"), s8o = dev.poisoned<int32_t>(n, "sext8");
    uint64_t c16 = dev.poisoned<uint16_t>(n, "copy16"), s16o = dev.poisoned<int32_t>(n, "sext16");
    uint64_t l8 = dev.poisoned<uint8_t>(n, "low8"), l16 = dev.poisoned<uint16_t>(n, "low16");
    interp::ArgList args;
    args.ptr(dev.upload(bytes, "in8")).ptr(dev.upload(halves, "in16")).ptr(dev.upload(words, "in32"));
    args.ptr(z8).ptr(s8o).ptr(c16).ptr(s16o).ptr(l8).ptr(l16);
    interp::run(k, launch_1d(ceil_div(n, 64), 64), dev.mem(), args);
    auto gz8 = dev.download<uint32_t>(z8, n);
    auto gs8 = dev.download<int32_t>(s8o, n);
    auto gc16 = dev.download<uint16_t>(c16, n);
    auto gs16 = dev.download<int32_t>(s16o, n);
    auto gl8 = dev.download<uint8_t>(l8, n);
    auto gl16 = dev.download<uint16_t>(l16, n);
    Mismatches bad("narrow loads and stores");
    for (uint32_t j = 0; j < n; ++j) {
        if (gz8[j] != bytes[j]) bad.add(fmt::format("ld.u8 of 0x{:02x} gave {}", bytes[j], show(gz8[j])));
        if (gs8[j] != static_cast<int8_t>(bytes[j])) bad.add(fmt::format("ld.s8 of 0x{:02x} gave {}", bytes[j], show(gs8[j])));
        if (gc16[j] != halves[j]) bad.add(fmt::format("ld/st.u16 of 0x{:04x} gave {}", halves[j], show(gc16[j])));
        if (gs16[j] != static_cast<int16_t>(halves[j])) bad.add(fmt::format("ld.s16 of 0x{:04x} gave {}", halves[j], show(gs16[j])));
        if (gl8[j] != static_cast<uint8_t>(words[j])) bad.add(fmt::format("st.u8 of 0x{:08x} stored {}", words[j], show(gl8[j])));
        if (gl16[j] != static_cast<uint16_t>(words[j])) bad.add(fmt::format("st.u16 of 0x{:08x} stored {}", words[j], show(gl16[j])));
    }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("v2 and v4 loads and stores move whole vectors, element order preserved") {
    ITEST_RNG(rng);
    const uint32_t n = 200;
    std::vector<float> f(4 * n);
    std::vector<uint32_t> w(2 * n);
    std::vector<uint8_t> bytes(4 * n);
    std::vector<uint16_t> halves(4 * n);
    for (float& x : f) x = rng.f32(-100.0f, 100.0f);
    for (uint32_t& x : w) x = rng.u32();
    for (uint8_t& x : bytes) x = static_cast<uint8_t>(rng.u32());
    for (uint16_t& x : halves) x = static_cast<uint16_t>(rng.u32());
    KernelBuilder b("vector_access");
    GlobalPtr f_in = b.param_ptr("f_in", Type::f32), w_in = b.param_ptr("w_in", Type::u32);
    GlobalPtr b_in = b.param_ptr("b_in", Type::s8), h_in = b.param_ptr("h_in", Type::u16);
    GlobalPtr f_out = b.param_ptr("f_out", Type::f32), w_out = b.param_ptr("w_out", Type::u32);
    GlobalPtr b_out = b.param_ptr("b_out", Type::s32), h_out = b.param_ptr("h_out", Type::u16);
    SharedArray tile = b.shared_array("tile", 64 * 16, 16);
    Reg<u32> i = b.global_index_x();
    Reg<u32> t = b.tid_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        // v4.f32 reversed on the way out, through shared memory (st/ld.shared.v4).
        auto v = b.ld_v<f32, 4>(b.index(f_in, i, 16)[0]);
        SharedPtr slot = b.index(b.addr_of(tile), t, 16);
        b.st_v<f32, 4>(slot[0], Regs<f32, 4>{v[3], v[2], v[1], v[0]});
        auto back = b.ld_v<f32, 4>(slot[0]);
        b.st_v<f32, 4>(b.index(f_out, i, 16)[0], back);
        // v2.u32 swapped.
        auto p = b.ld_v<u32, 2>(b.index(w_in, i, 8)[0]);
        b.st_v<u32, 2>(b.index(w_out, i, 8)[0], Regs<u32, 2>{p[1], p[0]});
        // v4.s8 sign-extends each byte into its own register.
        auto s = b.ld_v<s8, 4>(b.index(b_in, i, 4)[0]);
        b.st_v<s32, 4>(b.index(b_out, i, 16)[0], s);
        // v4.u16 (64 bits) copied.
        auto h = b.ld_v<u16, 4>(b.index(h_in, i, 8)[0]);
        b.st_v<u16, 4>(b.index(h_out, i, 8)[0], h);
    });
    Kernel k = b.finish();
    Device dev;
    uint64_t fo = dev.poisoned<float>(4 * n, "f_out"), wo = dev.poisoned<uint32_t>(2 * n, "w_out");
    uint64_t bo = dev.poisoned<int32_t>(4 * n, "b_out"), ho = dev.poisoned<uint16_t>(4 * n, "h_out");
    interp::ArgList args;
    args.ptr(dev.upload(f, "f_in")).ptr(dev.upload(w, "w_in")).ptr(dev.upload(bytes, "b_in")).ptr(dev.upload(halves, "h_in"));
    args.ptr(fo).ptr(wo).ptr(bo).ptr(ho);
    interp::run(k, launch_1d(ceil_div(n, 64), 64), dev.mem(), args, all_checks());
    auto gf = dev.download<float>(fo, 4 * n);
    auto gw = dev.download<uint32_t>(wo, 2 * n);
    auto gb = dev.download<int32_t>(bo, 4 * n);
    auto gh = dev.download<uint16_t>(ho, 4 * n);
    Mismatches bad("vector accesses");
    for (uint32_t j = 0; j < n; ++j) {
        for (uint32_t e = 0; e < 4; ++e) {
            if (std::bit_cast<uint32_t>(gf[4 * j + e]) != std::bit_cast<uint32_t>(f[4 * j + 3 - e]))
                bad.add(fmt::format("v4.f32 element {} of {}: got {}, expected {}", e, j, show(gf[4 * j + e]), show(f[4 * j + 3 - e])));
            if (gb[4 * j + e] != static_cast<int8_t>(bytes[4 * j + e]))
                bad.add(fmt::format("v4.s8 element {} of {}: got {}, byte 0x{:02x}", e, j, show(gb[4 * j + e]), bytes[4 * j + e]));
            if (gh[4 * j + e] != halves[4 * j + e])
                bad.add(fmt::format("v4.u16 element {} of {}: got {}, expected 0x{:04x}", e, j, show(gh[4 * j + e]), halves[4 * j + e]));
        }
        for (uint32_t e = 0; e < 2; ++e)
            if (gw[2 * j + e] != w[2 * j + 1 - e]) bad.add(fmt::format("v2.u32 element {} of {}: got {}", e, j, show(gw[2 * j + e])));
    }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("generic addresses: ld, st and atom through cvta'd global pointers") {
    ITEST_RNG(rng);
    const uint32_t n = 300;
    std::vector<uint32_t> x(n);
    for (uint32_t& v : x) v = rng.u32() >> 4;
    KernelBuilder b("generic_access");
    GlobalPtr in = b.param_ptr("x", Type::u32), out = b.param_ptr("out", Type::u32), sum = b.param_ptr("sum", Type::u32);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Reg<u64> byte_offset = b.mul_wide(i, 4u);
        GenericPtr src{b.add(b.cvta_generic(in).reg, byte_offset)};
        GenericPtr dst{b.add(b.cvta_generic(out).reg, byte_offset)};
        Reg<u32> v = b.ld<u32>(src[0]);
        b.st(dst[0], b.add(v, 1u));
        b.red<u32>(AtomOp::add, b.cvta_generic(sum)[0], v);
    });
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(n, "out"), s = dev.upload(std::vector<uint32_t>{0}, "sum");
    interp::ArgList args;
    args.ptr(dev.upload(x, "x")).ptr(o).ptr(s);
    interp::run(k, launch_1d(ceil_div(n, 64), 64), dev.mem(), args);
    auto got = dev.download<uint32_t>(o, n);
    for (uint32_t j = 0; j < n; ++j) {
        CAPTURE(j);
        CHECK(got[j] == x[j] + 1);
    }
    CHECK(dev.download<uint32_t>(s, 1)[0] == std::accumulate(x.begin(), x.end(), 0u));
}

TEST_CASE("local arrays are private to each thread") {
    const uint32_t n = 200;
    KernelBuilder b("local_scratch");
    GlobalPtr out = b.param_ptr("out", Type::u32);
    LocalArray scratch = b.local_array("scratch", 8 * 4, 16);
    Reg<u32> i = b.global_index_x();
    for (uint32_t k = 0; k < 8; ++k) b.st(scratch[4 * k], b.mad_lo(i, 100u, k));
    // Read back in reverse order, after every thread of the CTA has written its own copy.
    b.bar_sync();
    for (uint32_t k = 0; k < 8; ++k) b.st(b.index(out, i, 32)[4 * k], b.ld<u32>(scratch[4 * (7 - k)]));
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(8 * n, "out");
    interp::ArgList args;
    args.ptr(o);
    interp::run(k, launch_1d(n / 40, 40), dev.mem(), args);
    auto got = dev.download<uint32_t>(o, 8 * n);
    Mismatches bad("local arrays");
    for (uint32_t t = 0; t < n; ++t)
        for (uint32_t e = 0; e < 8; ++e)
            if (got[8 * t + e] != t * 100 + 7 - e) bad.add(fmt::format("thread {} element {}: got {}", t, e, got[8 * t + e]));
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("scalar parameters of every size arrive intact") {
    ITEST_RNG(rng);
    const uint32_t u = rng.u32();
    const int32_t s = -static_cast<int32_t>(rng.below(1u << 30));
    const uint64_t w = rng.u64();
    const float f = rng.f32(-1e6f, 1e6f);
    const double d = rng.real(-1e300, 1e300);
    KernelBuilder b("scalar_params");
    GlobalPtr out = b.param_ptr("out", Type::b8);
    Reg<u32> pu = b.param<u32>("u");
    Reg<s32> ps = b.param<s32>("s");
    Reg<u64> pw = b.param<u64>("w");
    Reg<f32> pf = b.param<f32>("f");
    Reg<f64> pd = b.param<f64>("d");
    b.st(out[0], pu);
    b.st(out[4], ps);
    b.st(out[8], pw);
    b.st(out[16], pf);
    b.st(out[24], pd);
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint8_t>(32, "out");
    interp::ArgList args;
    args.ptr(o).u32(u).s32(s).u64(w).f32(f).f64(d);
    interp::run(k, launch_1d(1, 1), dev.mem(), args);
    auto got = dev.download<uint8_t>(o, 32);
    uint32_t gu;
    int32_t gs;
    uint64_t gw;
    float gf;
    double gd;
    std::memcpy(&gu, &got[0], 4);
    std::memcpy(&gs, &got[4], 4);
    std::memcpy(&gw, &got[8], 8);
    std::memcpy(&gf, &got[16], 4);
    std::memcpy(&gd, &got[24], 8);
    CHECK(gu == u);
    CHECK(gs == s);
    CHECK(gw == w);
    CHECK(gf == f);
    CHECK(gd == d);
}

// ---------------------------------------------------------------------------------------------
// Atomics
// ---------------------------------------------------------------------------------------------

// Orders threads by the old value their atom.add returned: each must have seen exactly the sum
// of the values added before it, starting from `start`.
template <class H> void check_add_chain(const std::vector<H>& values, const std::vector<H>& olds, H start, H final_value) {
    std::vector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return olds[x] < olds[y]; });
    H expect = start;
    Mismatches bad("atom.add old values");
    for (size_t k : order) {
        if (olds[k] != expect) bad.add(fmt::format("thread {} saw {}, expected a running total of {}", k, show(olds[k]), show(expect)));
        expect = static_cast<H>(expect + values[k]);
    }
    ITEST_CHECK_NONE(bad);
    CHECK(final_value == expect);
}

// A kernel where every thread applies atom.OP (or red.OP) with its value to word 0 of `target`
// and records the old value: out_old[i] = atom(target[0], values[i]).
template <class T> Kernel atomic_kernel(const std::string& name, AtomOp op, bool reduction, uint32_t n) {
    KernelBuilder b(name);
    GlobalPtr values = b.param_ptr("values", T::type), olds = b.param_ptr("olds", T::type), target = b.param_ptr("target", T::type);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Reg<T> v = b.ld<T>(b.index(values, i, 4)[0]);
        if (reduction) {
            b.red<T>(op, target[0], v);
        } else {
            b.st(b.index(olds, i, 4)[0], b.atom<T>(op, target[0], v));
        }
    });
    return b.finish();
}

template <class T> struct AtomicResult {
    std::vector<Host<T>> olds;
    Host<T> final_value;
};

template <class T>
AtomicResult<T> run_atomic(const Kernel& k, const std::vector<Host<T>>& values, Host<T> initial, uint32_t block = 96) {
    Device dev;
    const size_t n = values.size();
    uint64_t olds = dev.poisoned<Host<T>>(n, "olds");
    uint64_t target = dev.upload(std::vector<Host<T>>{initial}, "target");
    interp::ArgList args;
    args.ptr(dev.upload(values, "values")).ptr(olds).ptr(target);
    interp::run(k, launch_1d(ceil_div(n, block), block), dev.mem(), args);
    return {dev.download<Host<T>>(olds, n), dev.download<Host<T>>(target, 1)[0]};
}

TEST_CASE("atom.add.u32 from every thread of several CTAs: exact total, each old value a running total") {
    ITEST_RNG(rng);
    const uint32_t n = 8 * 96 + 17;  // nine CTAs, the last partly idle
    std::vector<uint32_t> values(n);
    for (uint32_t& v : values) v = 1 + rng.below(1000);
    uint32_t start = rng.u32() >> 8;
    auto r = run_atomic<u32>(atomic_kernel<u32>("atom_add_u32", AtomOp::add, false, n), values, start);
    check_add_chain<uint32_t>(values, r.olds, start, r.final_value);
    // red.add: the same total, nothing returned.
    auto red = run_atomic<u32>(atomic_kernel<u32>("red_add_u32", AtomOp::add, true, n), values, start);
    CHECK(red.final_value == std::accumulate(values.begin(), values.end(), start));
}

TEST_CASE("atom.add.f32 and red.add.f32: integer-valued floats sum exactly in any order") {
    ITEST_RNG(rng);
    const uint32_t n = 10 * 96;
    std::vector<float> values(n);
    for (float& v : values) v = static_cast<float>(1 + rng.below(255));
    auto r = run_atomic<f32>(atomic_kernel<f32>("atom_add_f32", AtomOp::add, false, n), values, 0.5f);
    check_add_chain<float>(values, r.olds, 0.5f, r.final_value);
    auto red = run_atomic<f32>(atomic_kernel<f32>("red_add_f32", AtomOp::add, true, n), values, 0.5f);
    CHECK(red.final_value == std::accumulate(values.begin(), values.end(), 0.5f));
}

template <class T> void check_min_max(Rng& rng) {
    using H = Host<T>;
    const uint32_t n = 6 * 96;
    std::vector<H> values = integer_inputs<H>(rng, n);
    rng.shuffle(values);
    const H initial = static_cast<H>(rng.u32());
    for (AtomOp op : {AtomOp::min, AtomOp::max}) {
        const bool is_min = op == AtomOp::min;
        H expect = initial;
        for (H v : values) expect = is_min ? std::min(expect, v) : std::max(expect, v);
        auto r = run_atomic<T>(atomic_kernel<T>(fmt::format("atom_{}_{}", is_min ? "min" : "max", type_name(T::type)), op, false, n),
                               values, initial);
        CHECK(r.final_value == expect);
        // Every old value is the initial value or one of the values, and never beyond the final one.
        std::vector<H> seen = values;
        seen.push_back(initial);
        std::sort(seen.begin(), seen.end());
        for (H o : r.olds) {
            CHECK(std::binary_search(seen.begin(), seen.end(), o));
            CHECK((is_min ? o >= expect : o <= expect));
        }
        auto red = run_atomic<T>(atomic_kernel<T>(fmt::format("red_{}_{}", is_min ? "min" : "max", type_name(T::type)), op, true, n),
                                 values, initial);
        CHECK(red.final_value == expect);
    }
}

TEST_CASE("atom.min and atom.max, signed and unsigned, and red.min/max") {
    ITEST_RNG(rng);
    check_min_max<u32>(rng);
    check_min_max<s32>(rng);
}

TEST_CASE("atom.exch hands every value on exactly once") {
    ITEST_RNG(rng);
    const uint32_t n = 7 * 96;
    std::vector<uint32_t> values(n);
    for (uint32_t k = 0; k < n; ++k) values[k] = (rng.u32() & ~0xfffu) | k;  // distinct
    const uint32_t initial = 0xdeadbeefu;
    auto r = run_atomic<b32>(atomic_kernel<b32>("atom_exch", AtomOp::exch, false, n), values, initial);
    std::vector<uint32_t> got = r.olds, want = values;
    got.push_back(r.final_value);
    want.push_back(initial);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
}

TEST_CASE("atom.and/or/xor.b32 from every thread") {
    ITEST_RNG(rng);
    const uint32_t n = 5 * 96;
    std::vector<uint32_t> values(n);
    for (uint32_t& v : values) v = rng.u32() | rng.u32();  // dense bits, so and/or are not trivially 0/~0
    const uint32_t initial = rng.u32();
    const std::pair<AtomOp, uint32_t (*)(uint32_t, uint32_t)> ops[] = {
        {AtomOp::and_, [](uint32_t x, uint32_t y) { return x & y; }},
        {AtomOp::or_, [](uint32_t x, uint32_t y) { return x | y; }},
        {AtomOp::xor_, [](uint32_t x, uint32_t y) { return x ^ y; }},
    };
    for (const auto& [op, f] : ops) {
        uint32_t expect = initial;
        for (uint32_t v : values) expect = f(expect, v);
        auto r = run_atomic<b32>(atomic_kernel<b32>(fmt::format("atom_bits_{}", static_cast<int>(op)), op, false, n), values, initial);
        CHECK(r.final_value == expect);
    }
}

TEST_CASE("atom.cas replaces only on a match and returns the old value; a cas loop counts exactly") {
    ITEST_RNG(rng);
    // Per element: cas(word[i], compare[i], value[i]) with compare matching half the time.
    const uint32_t n = 700;
    std::vector<uint32_t> words(n), compare(n), value(n);
    for (uint32_t k = 0; k < n; ++k) {
        words[k] = rng.u32();
        compare[k] = rng.coin() ? words[k] : words[k] ^ (1u << rng.below(32));
        value[k] = rng.u32();
    }
    {
        KernelBuilder b("atom_cas_each");
        GlobalPtr w = b.param_ptr("words", Type::b32), c = b.param_ptr("compare", Type::b32), v = b.param_ptr("value", Type::b32);
        GlobalPtr olds = b.param_ptr("olds", Type::b32);
        Reg<u32> i = b.global_index_x();
        b.if_(b.setp(Cmp::lt, i, n), [&] {
            Reg<u32> old = b.atom_cas<u32>(b.index(w, i, 4)[0], b.ld<u32>(b.index(c, i, 4)[0]), b.ld<u32>(b.index(v, i, 4)[0]));
            b.st(b.index(olds, i, 4)[0], old);
        });
        Kernel k = b.finish();
        Device dev;
        uint64_t wa = dev.upload(words, "words"), old_values = dev.poisoned<uint32_t>(n, "olds");
        interp::ArgList args;
        args.ptr(wa).ptr(dev.upload(compare, "compare")).ptr(dev.upload(value, "value")).ptr(old_values);
        interp::run(k, launch_1d(ceil_div(n, 128), 128), dev.mem(), args);
        auto gw = dev.download<uint32_t>(wa, n), go = dev.download<uint32_t>(old_values, n);
        Mismatches bad("atom.cas per element");
        for (uint32_t j = 0; j < n; ++j) {
            uint32_t want = compare[j] == words[j] ? value[j] : words[j];
            if (go[j] != words[j] || gw[j] != want)
                bad.add(fmt::format("[{}] word {:#x} compare {:#x} value {:#x}: returned {:#x}, memory {:#x}", j, words[j], compare[j], value[j], go[j], gw[j]));
        }
        ITEST_CHECK_NONE(bad);
    }
    {
        // Every thread increments one counter with a compare-and-swap loop and records the value
        // it replaced: those values must be exactly 0 .. threads-1.
        const uint32_t threads = 6 * 64;
        KernelBuilder b("atom_cas_loop");
        GlobalPtr counter = b.param_ptr("counter", Type::u32), seen = b.param_ptr("seen", Type::u32);
        Reg<u32> i = b.global_index_x();
        Reg<u32> current = b.ld<u32>(counter[0], {.vol = true});
        Reg<u32> done = b.mov<u32>(0u);
        Reg<u32> replaced = b.mov<u32>(0u);
        b.while_([&] { return b.setp(Cmp::eq, done, 0u); }, [&] {
            Reg<u32> expected = b.mov<u32>(current);
            Reg<u32> old = b.atom_cas<u32>(counter[0], expected, b.add(expected, 1u));
            Pred won = b.setp(Cmp::eq, old, expected);
            b.mov(done, b.selp<u32>(1u, 0u, won));
            b.mov(replaced, expected);
            b.mov(current, old);
        });
        b.st(b.index(seen, i, 4)[0], replaced);
        Kernel k = b.finish();
        Device dev;
        uint64_t ctr = dev.upload(std::vector<uint32_t>{0}, "counter"), s = dev.poisoned<uint32_t>(threads, "seen");
        interp::ArgList args;
        args.ptr(ctr).ptr(s);
        interp::run(k, launch_1d(threads / 64, 64), dev.mem(), args);
        CHECK(dev.download<uint32_t>(ctr, 1)[0] == threads);
        auto got = dev.download<uint32_t>(s, threads);
        std::sort(got.begin(), got.end());
        std::vector<uint32_t> want(threads);
        std::iota(want.begin(), want.end(), 0u);
        CHECK(got == want);
    }
}

TEST_CASE("atom.shared.add: per-CTA totals in shared memory, old values as running totals") {
    ITEST_RNG(rng);
    const uint32_t ctas = 5, block = 128, n = ctas * block;
    std::vector<uint32_t> values(n);
    for (uint32_t& v : values) v = 1 + rng.below(100);
    KernelBuilder b("atom_shared");
    GlobalPtr in = b.param_ptr("values", Type::u32), olds = b.param_ptr("olds", Type::u32), totals = b.param_ptr("totals", Type::u32);
    SharedArray sum = b.shared_array("sum", 4, 4);
    Reg<u32> t = b.tid_x();
    Reg<u32> i = b.global_index_x();
    Pred first = b.setp(Cmp::eq, t, 0u);
    b.predicated(first, [&] { b.st<u32>(sum[0], 0u); });
    b.bar_sync();
    Reg<u32> old = b.atom<u32>(AtomOp::add, sum[0], b.ld<u32>(b.index(in, i, 4)[0]));
    b.st(b.index(olds, i, 4)[0], old);
    b.bar_sync();
    b.predicated(first, [&] { b.st(b.index(totals, b.ctaid_x(), 4)[0], b.ld<u32>(sum[0])); });
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(n, "olds"), tot = dev.poisoned<uint32_t>(ctas, "totals");
    interp::ArgList args;
    args.ptr(dev.upload(values, "values")).ptr(o).ptr(tot);
    interp::run(k, launch_1d(ctas, block), dev.mem(), args, all_checks());  // atomics do not race
    auto go = dev.download<uint32_t>(o, n), gt = dev.download<uint32_t>(tot, ctas);
    for (uint32_t c = 0; c < ctas; ++c) {
        CAPTURE(c);
        std::vector<uint32_t> v(values.begin() + c * block, values.begin() + (c + 1) * block);
        std::vector<uint32_t> ol(go.begin() + c * block, go.begin() + (c + 1) * block);
        check_add_chain<uint32_t>(v, ol, 0u, gt[c]);
    }
}

}  // namespace
