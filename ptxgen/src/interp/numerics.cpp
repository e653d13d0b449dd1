// Compiled with -frounding-math (see ptxgen/CMakeLists.txt): the directed-rounding helpers set
// the FPU's rounding mode around single operations, and the compiler must not fold them.
#include "numerics.hpp"

#include <cfenv>

namespace ptxgen::interp {

namespace {

int fe_mode(Round r) {
    switch (r) {
    case Round::rz: case Round::rzi: return FE_TOWARDZERO;
    case Round::rm: case Round::rmi: return FE_DOWNWARD;
    case Round::rp: case Round::rpi: return FE_UPWARD;
    default: return FE_TONEAREST;
    }
}

// Sets the host rounding mode for one operation and restores round-to-nearest afterwards.
class ScopedRounding {
public:
    explicit ScopedRounding(Round r) : changed_(fe_mode(r) != FE_TONEAREST) {
        if (changed_) std::fesetround(fe_mode(r));
    }
    ~ScopedRounding() {
        if (changed_) std::fesetround(FE_TONEAREST);
    }
    ScopedRounding(const ScopedRounding&) = delete;
    ScopedRounding& operator=(const ScopedRounding&) = delete;

private:
    bool changed_;
};

}  // namespace

uint64_t round_to_format(double v, Round mode, const FloatFormat& f) {
    const int total_bits = 1 + f.exponent_bits + f.mantissa_bits;
    const uint64_t sign = std::signbit(v) ? uint64_t{1} << (total_bits - 1) : 0;
    const uint64_t exp_all_ones = (uint64_t{1} << f.exponent_bits) - 1;
    if (std::isnan(v)) {
        // Canonical NaN: all exponent bits and all mantissa bits set, sign clear.
        return (exp_all_ones << f.mantissa_bits) | ((uint64_t{1} << f.mantissa_bits) - 1);
    }
    const bool negative = std::signbit(v);
    const double a = std::fabs(v);
    const uint64_t inf = sign | (exp_all_ones << f.mantissa_bits);
    const uint64_t max_finite = sign | ((exp_all_ones - 1) << f.mantissa_bits) | ((uint64_t{1} << f.mantissa_bits) - 1);
    if (std::isinf(a)) return inf;
    if (a == 0) return sign;

    int e = std::ilogb(a);  // a = 1.x * 2^e
    const int q = std::max(e, f.min_exponent);
    const double ulp = std::ldexp(1.0, q - f.mantissa_bits);
    const double scaled = a / ulp;  // exact: division by a power of two
    double n = std::floor(scaled);
    const double frac = scaled - n;
    bool up = false;
    switch (mode) {
    case Round::rz: up = false; break;
    case Round::rm: up = negative && frac > 0; break;
    case Round::rp: up = !negative && frac > 0; break;
    default: up = frac > 0.5 || (frac == 0.5 && std::fmod(n, 2.0) != 0); break;
    }
    if (up) n += 1;
    auto mantissa = static_cast<uint64_t>(n);
    const uint64_t hidden = uint64_t{1} << f.mantissa_bits;
    int biased = q + f.bias;
    if (q == f.min_exponent && mantissa < hidden) biased = 0;  // subnormal (or rounded to zero)
    if (mantissa >= 2 * hidden) {  // rounding carried into the next binade
        mantissa >>= 1;
        ++biased;
    }
    if (biased >= static_cast<int>(exp_all_ones)) {
        // Overflow: towards zero stays at the largest finite value.
        const bool to_inf = mode == Round::rn || mode == Round::none || (mode == Round::rp && !negative)
                            || (mode == Round::rm && negative);
        return to_inf ? inf : max_finite;
    }
    return sign | (static_cast<uint64_t>(biased) << f.mantissa_bits) | (mantissa & (hidden - 1));
}

double round_integral(double v, Round mode) {
    switch (mode) {
    case Round::rzi: return std::trunc(v);
    case Round::rmi: return std::floor(v);
    case Round::rpi: return std::ceil(v);
    default: return std::nearbyint(v);  // ties to even in the default mode
    }
}

int64_t float_to_signed(double v, Round mode, int bits) {
    if (std::isnan(v)) return 0;
    const double r = round_integral(v, mode);
    const double lo = -std::ldexp(1.0, bits - 1), hi = std::ldexp(1.0, bits - 1);
    if (r < lo) return static_cast<int64_t>(lo);
    if (r >= hi) return bits == 64 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(hi) - 1;
    return static_cast<int64_t>(r);
}

uint64_t float_to_unsigned(double v, Round mode, int bits) {
    if (std::isnan(v)) return 0;
    const double r = round_integral(v, mode);
    if (r <= 0) return 0;
    const double hi = std::ldexp(1.0, bits);
    if (r >= hi) return bits == 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1;
    return static_cast<uint64_t>(r);
}

float f32_add(float a, float b, Round m) { ScopedRounding r(m); volatile float x = a; return x + b; }
float f32_mul(float a, float b, Round m) { ScopedRounding r(m); volatile float x = a; return x * b; }
float f32_fma(float a, float b, float c, Round m) { ScopedRounding r(m); volatile float x = a; return std::fma(x, b, c); }
float f32_div(float a, float b, Round m) { ScopedRounding r(m); volatile float x = a; return x / b; }
float f32_sqrt(float a, Round m) { ScopedRounding r(m); volatile float x = a; return std::sqrt(x); }
double f64_add(double a, double b, Round m) { ScopedRounding r(m); volatile double x = a; return x + b; }
double f64_mul(double a, double b, Round m) { ScopedRounding r(m); volatile double x = a; return x * b; }
double f64_fma(double a, double b, double c, Round m) { ScopedRounding r(m); volatile double x = a; return std::fma(x, b, c); }
double f64_div(double a, double b, Round m) { ScopedRounding r(m); volatile double x = a; return x / b; }
double f64_sqrt(double a, Round m) { ScopedRounding r(m); volatile double x = a; return std::sqrt(x); }

namespace {
template <class I> uint64_t int_to_float(I v, Type to, Round mode) {
    switch (to) {
    case Type::f64: {
        ScopedRounding r(mode);
        volatile I x = v;
        return bits_of(static_cast<double>(x));
    }
    case Type::f32: {
        ScopedRounding r(mode);
        volatile I x = v;
        return bits_of(static_cast<float>(x));
    }
    case Type::f16: return round_to_format(static_cast<double>(v), mode, kF16);
    default: return round_to_format(static_cast<double>(v), mode, kBF16);
    }
}
}  // namespace

uint64_t signed_to_float_bits(int64_t v, Type to, Round mode) { return int_to_float(v, to, mode); }
uint64_t unsigned_to_float_bits(uint64_t v, Type to, Round mode) { return int_to_float(v, to, mode); }

}  // namespace ptxgen::interp
