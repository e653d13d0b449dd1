// Floating-point semantics of PTX on the host: rounding to f16/bf16/f32 in any of PTX's four
// modes, flush-to-zero, saturation, canonical NaNs, and PTX's min/max and integer conversion rules.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ptxgen/half.hpp"
#include "ptxgen/ir.hpp"

namespace ptxgen::interp {

// The three binary formats narrower than double that PTX rounds into.
struct FloatFormat {
    int mantissa_bits;
    int exponent_bits;
    int min_exponent;  // of the smallest normal number
    int bias;
};
inline constexpr FloatFormat kF16{10, 5, -14, 15};
inline constexpr FloatFormat kBF16{7, 8, -126, 127};
inline constexpr FloatFormat kF32{23, 8, -126, 127};

// Rounds a double to the format's bit pattern with a PTX rounding mode (rn, rz, rm, rp; none
// means rn). NaN becomes the format's canonical NaN; subnormals are kept.
uint64_t round_to_format(double v, Round mode, const FloatFormat& f);

inline constexpr uint32_t kCanonicalNanF32 = 0x7fffffffu;
inline constexpr uint16_t kCanonicalNanF16 = 0x7fffu;
inline constexpr uint16_t kCanonicalNanBF16 = 0x7fffu;
inline constexpr uint64_t kCanonicalNanF64 = 0x7fffffffffffffffull;

inline float f32_of(uint64_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits)); }
inline double f64_of(uint64_t bits) { return std::bit_cast<double>(bits); }
inline uint64_t bits_of(float v) {
    return std::isnan(v) ? kCanonicalNanF32 : std::bit_cast<uint32_t>(v);
}
inline uint64_t bits_of(double v) { return std::isnan(v) ? kCanonicalNanF64 : std::bit_cast<uint64_t>(v); }

// Subnormal f32 values become zero of the same sign (.ftz).
inline float flush(float v) {
    return std::fpclassify(v) == FP_SUBNORMAL ? std::copysign(0.0f, v) : v;
}
// .sat: clamp to [0, 1], NaN to 0.
template <class F> F saturate(F v) {
    if (std::isnan(v)) return F(0);
    return v < F(0) ? F(0) : v > F(1) ? F(1) : v;
}

// PTX min/max: a NaN operand yields the other operand; -0 is below +0.
template <class F> F ptx_min(F a, F b) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    if (a == b) return std::signbit(a) ? a : b;
    return a < b ? a : b;
}
template <class F> F ptx_max(F a, F b) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    if (a == b) return std::signbit(a) ? b : a;
    return a > b ? a : b;
}

// Float -> integer conversion with an integer rounding mode, saturating to the range of an
// integer of `bits` bits; NaN converts to 0.
int64_t float_to_signed(double v, Round mode, int bits);
uint64_t float_to_unsigned(double v, Round mode, int bits);
double round_integral(double v, Round mode);  // rni/rzi/rmi/rpi on a float

// Arithmetic in a directed rounding mode (rz, rm, rp), evaluated with the host FPU's dynamic
// rounding mode set (this file's implementation is compiled with -frounding-math).
float f32_add(float a, float b, Round mode);
float f32_mul(float a, float b, Round mode);
float f32_fma(float a, float b, float c, Round mode);
float f32_div(float a, float b, Round mode);
float f32_sqrt(float a, Round mode);
double f64_add(double a, double b, Round mode);
double f64_mul(double a, double b, Round mode);
double f64_fma(double a, double b, double c, Round mode);
double f64_div(double a, double b, Round mode);
double f64_sqrt(double a, Round mode);
// Integer -> float (f16, bf16, f32 or f64) with a rounding mode: the result's bits.
uint64_t signed_to_float_bits(int64_t v, Type to, Round mode);
uint64_t unsigned_to_float_bits(uint64_t v, Type to, Round mode);

}  // namespace ptxgen::interp
