// Shared helpers of the interpreter tests (test_interp_*.cpp): seeded random inputs, device
// buffers that start poisoned, an elementwise kernel runner that checks every output against a
// host function, host models of PTX rounding, and a run that must fail (and must not hang).
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "ptxgen/interp.hpp"
#include "ptxgen/printer.hpp"

namespace itest {

using namespace ptxgen;
namespace interp = ptxgen::interp;

// ---------------------------------------------------------------------------------------------
// Random numbers: a fresh seed per test case from std::random_device, or ITEST_SEED to replay one.
// ---------------------------------------------------------------------------------------------

class Rng {
public:
    Rng() : seed_(pick_seed()), gen_(seed_) {}
    uint64_t seed() const { return seed_; }

    uint32_t u32() { return static_cast<uint32_t>(gen_()); }
    uint64_t u64() { return gen_(); }
    int32_t s32() { return static_cast<int32_t>(u32()); }
    // Uniform in [lo, hi].
    int64_t range(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen_); }
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(range(0, int64_t{n} - 1)); }
    double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(gen_); }
    float f32(float lo, float hi) { return static_cast<float>(real(lo, hi)); }
    bool coin() { return (gen_() & 1) != 0; }
    // Any 32-bit pattern: covers subnormals, huge values, infinities and NaNs.
    float any_f32() { return std::bit_cast<float>(u32()); }
    // A float of random sign and exponent in [2^lo_exp, 2^hi_exp).
    float f32_exp(int lo_exp, int hi_exp) {
        float mant = f32(1.0f, 2.0f);
        float v = std::ldexp(mant, static_cast<int>(range(lo_exp, hi_exp - 1)));
        return coin() ? -v : v;
    }
    template <class T> void shuffle(std::vector<T>& v) { std::shuffle(v.begin(), v.end(), gen_); }

private:
    static uint64_t pick_seed() {
        if (const char* s = std::getenv("ITEST_SEED")) return std::strtoull(s, nullptr, 0);
        std::random_device rd;
        return (uint64_t{rd()} << 32) | rd();
    }
    uint64_t seed_;
    std::mt19937_64 gen_;
};

// Declares `name`, a fresh Rng whose seed is printed with any failure of the enclosing scope.
#define ITEST_RNG(name)                                                                            \
    ::itest::Rng name;                                                                             \
    INFO("random seed ", name.seed(), " (replay with ITEST_SEED=", name.seed(), ")")

// ---------------------------------------------------------------------------------------------
// Host types of register and memory types; halves travel as their bits.
// ---------------------------------------------------------------------------------------------

template <class T> struct HostT { using type = typename T::host; };
template <> struct HostT<f16> { using type = uint16_t; };
template <> struct HostT<bf16> { using type = uint16_t; };
template <> struct HostT<f16x2> { using type = uint32_t; };
template <> struct HostT<bf16x2> { using type = uint32_t; };
template <> struct HostT<u8> { using type = uint8_t; };
template <> struct HostT<s8> { using type = int8_t; };
template <> struct HostT<b8> { using type = uint8_t; };
template <class T> using Host = typename HostT<T>::type;

// Edge values of integer types, mixed into random inputs.
template <class H> std::vector<H> integer_edges() {
    using L = std::numeric_limits<H>;
    std::vector<H> v{H(0), H(1), H(2), L::max(), H(L::max() - 1), L::min(), H(L::min() + 1), H(0x7f), H(0x80)};
    if constexpr (std::is_signed_v<H>) {
        v.push_back(H(-1));
        v.push_back(H(-2));
    }
    return v;
}

// `n` values: the edge values first, then random ones (random widths, so small values occur too).
template <class H> std::vector<H> integer_inputs(Rng& rng, size_t n) {
    std::vector<H> v = integer_edges<H>();
    while (v.size() < n) {
        uint64_t bits = rng.u64();
        int width = static_cast<int>(rng.range(1, 64));
        if (width < 64) bits &= (uint64_t{1} << width) - 1;
        if (std::is_signed_v<H> && rng.coin()) bits = ~bits + 1;
        v.push_back(static_cast<H>(bits));
    }
    v.resize(n);
    return v;
}

// Special f32 values: zeros, the smallest and largest subnormals and normals, infinities, NaNs.
inline std::vector<float> special_f32() {
    using L = std::numeric_limits<float>;
    return {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, L::denorm_min(), -L::denorm_min(),
            std::bit_cast<float>(0x007fffffu), std::bit_cast<float>(0x807fffffu), L::min(), -L::min(),
            L::max(), -L::max(), L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN(),
            std::bit_cast<float>(0x7f800001u) /* signalling NaN */, 3.0f, -7.5f, 1e-30f, 1e30f};
}

// `n` floats: special values, random bit patterns, and "ordinary" values of moderate exponent.
inline std::vector<float> float_inputs(Rng& rng, size_t n) {
    std::vector<float> v = special_f32();
    while (v.size() < n) {
        switch (rng.below(4)) {
        case 0: v.push_back(rng.any_f32()); break;
        case 1: v.push_back(rng.f32_exp(-149, 128)); break;
        default: v.push_back(rng.f32_exp(-20, 20)); break;
        }
    }
    v.resize(n);
    return v;
}

// Every pair of `values` as two parallel vectors (for binary operations on special values).
template <class H> std::pair<std::vector<H>, std::vector<H>> all_pairs(const std::vector<H>& values) {
    std::pair<std::vector<H>, std::vector<H>> p;
    for (H a : values)
        for (H b : values) {
            p.first.push_back(a);
            p.second.push_back(b);
        }
    return p;
}

// ---------------------------------------------------------------------------------------------
// Printing and comparing values.
// ---------------------------------------------------------------------------------------------

template <class H> std::string show(H v) {
    if constexpr (std::is_same_v<H, float>) {
        return fmt::format("{:a} ({}, 0x{:08x})", v, v, std::bit_cast<uint32_t>(v));
    } else if constexpr (std::is_same_v<H, double>) {
        return fmt::format("{:a} ({})", v, v);
    } else if constexpr (std::is_signed_v<H>) {
        return fmt::format("{} (0x{:x})", int64_t{v}, static_cast<std::make_unsigned_t<H>>(v));
    } else {
        return fmt::format("{} (0x{:x})", uint64_t{v}, uint64_t{v});
    }
}

inline bool is_nan_f16(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }
inline bool is_nan_bf16(uint16_t h) { return (h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0; }

// Equality of results: floats bit for bit, except that any NaN equals any NaN.
template <class T> bool same_result(Host<T> got, Host<T> want) {
    if constexpr (T::type == Type::f32) {
        if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
        return std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(want);
    } else if constexpr (T::type == Type::f64) {
        if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
        return std::bit_cast<uint64_t>(got) == std::bit_cast<uint64_t>(want);
    } else if constexpr (T::type == Type::f16) {
        if (is_nan_f16(got) || is_nan_f16(want)) return is_nan_f16(got) && is_nan_f16(want);
        return got == want;
    } else if constexpr (T::type == Type::bf16) {
        if (is_nan_bf16(got) || is_nan_bf16(want)) return is_nan_bf16(got) && is_nan_bf16(want);
        return got == want;
    } else {
        return got == want;
    }
}

// Collects mismatches and reports the first few with their inputs, as one doctest assertion.
class Mismatches {
public:
    explicit Mismatches(std::string what) : what_(std::move(what)) {}
    void add(const std::string& line) {
        if (count_++ < kShown) text_ += "\n  " + line;
    }
    size_t count() const { return count_; }
    std::string report() const {
        return fmt::format("{}: {} mismatch(es){}{}", what_, count_, text_, count_ > kShown ? "\n  ..." : "");
    }

private:
    static constexpr size_t kShown = 12;
    std::string what_;
    std::string text_;
    size_t count_ = 0;
};

#define ITEST_CHECK_NONE(mismatches) CHECK_MESSAGE((mismatches).count() == 0, (mismatches).report())

// ---------------------------------------------------------------------------------------------
// Device buffers.
// ---------------------------------------------------------------------------------------------

class Device {
public:
    Device() : mem_(std::make_shared<interp::DeviceMemory>()) {}
    interp::DeviceMemory& mem() { return *mem_; }
    std::shared_ptr<interp::DeviceMemory> shared() const { return mem_; }

    template <class H> uint64_t upload(const std::vector<H>& v, std::string name) {
        uint64_t a = mem_->alloc(std::max<size_t>(v.size() * sizeof(H), 1), std::move(name));
        if (!v.empty()) mem_->write(a, v.data(), v.size() * sizeof(H));
        return a;
    }
    // A buffer of `count` elements of H, every byte 0xFF, so unwritten outputs stand out.
    template <class H> uint64_t poisoned(size_t count, std::string name) {
        uint64_t a = mem_->alloc(count * sizeof(H), std::move(name));
        mem_->fill(a, 0xFF, count * sizeof(H));
        return a;
    }
    template <class H> std::vector<H> download(uint64_t address, size_t count) const {
        std::vector<H> v(count);
        mem_->read(address, v.data(), count * sizeof(H));
        return v;
    }

private:
    std::shared_ptr<interp::DeviceMemory> mem_;
};

// Both shared-memory checks on: correct kernels must pass them too.
inline interp::Options all_checks() {
    interp::Options o;
    o.check_shared_races = true;
    o.check_uninitialized_shared = true;
    return o;
}

inline interp::Launch launch_1d(uint32_t grid, uint32_t block, uint32_t dynamic_shared = 0) {
    return interp::Launch{{grid, 1, 1}, {block, 1, 1}, dynamic_shared};
}

inline uint32_t ceil_div(size_t n, uint32_t d) { return static_cast<uint32_t>((n + d - 1) / d); }

// ---------------------------------------------------------------------------------------------
// Elementwise kernels: out[i] = body(in0[i], in1[i], ...) for i < n, one thread per element.
// ---------------------------------------------------------------------------------------------

template <class Out, class... In> using Body = std::function<Reg<Out>(KernelBuilder&, Reg<In>...)>;

template <class Out, class... In, size_t... I>
Kernel build_elementwise(const std::string& name, const Body<Out, In...>& body, uint32_t n, std::index_sequence<I...>) {
    KernelBuilder b(name, Target{90});
    std::array<GlobalPtr, sizeof...(In)> in{b.param_ptr(fmt::format("in{}", I), In::type)...};
    GlobalPtr out = b.param_ptr("out", Out::type);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Reg<Out> r = body(b, b.ld<In>(b.index(in[I], i, static_cast<uint32_t>(sizeof(Host<In>)))[0])...);
        b.st(b.index(out, i, static_cast<uint32_t>(sizeof(Host<Out>)))[0], r);
    });
    return b.finish();
}

// Runs body over the inputs (all of one length) and returns the outputs.
template <class Out, class... In>
std::vector<Host<Out>> run_elementwise(const std::string& name, std::type_identity_t<Body<Out, In...>> body,
                                       const std::vector<Host<In>>&... inputs) {
    const size_t n = std::get<0>(std::forward_as_tuple(inputs...)).size();
    REQUIRE(((inputs.size() == n) && ...));
    Kernel k = build_elementwise<Out, In...>(name, body, static_cast<uint32_t>(n), std::index_sequence_for<In...>{});
    Device dev;
    interp::ArgList args;
    size_t index = 0;
    ((args.ptr(dev.upload(inputs, fmt::format("in{}", index++)))), ...);
    uint64_t out = dev.poisoned<Host<Out>>(n, "out");
    args.ptr(out);
    interp::run(k, launch_1d(ceil_div(n, 128), 128), dev.mem(), args);
    return dev.download<Host<Out>>(out, n);
}

// Runs body and checks every output against host(inputs...) with `same` (default: same_result).
template <class Out, class... In>
void check_elementwise_with(const std::string& name, std::type_identity_t<Body<Out, In...>> body,
                            std::type_identity_t<std::function<Host<Out>(Host<In>...)>> host,
                            std::type_identity_t<std::function<bool(Host<Out>, Host<Out>)>> same,
                            const std::vector<Host<In>>&... inputs) {
    std::vector<Host<Out>> got = run_elementwise<Out, In...>(name, body, inputs...);
    Mismatches bad(name);
    for (size_t i = 0; i < got.size(); ++i) {
        Host<Out> want = host(inputs[i]...);
        if (!same(got[i], want)) {
            std::string args;
            ((args += (args.empty() ? "" : ", ") + show(inputs[i])), ...);
            bad.add(fmt::format("[{}] inputs ({}): got {}, expected {}", i, args, show(got[i]), show(want)));
        }
    }
    ITEST_CHECK_NONE(bad);
}

template <class Out, class... In>
void check_elementwise(const std::string& name, std::type_identity_t<Body<Out, In...>> body,
                       std::type_identity_t<std::function<Host<Out>(Host<In>...)>> host,
                       const std::vector<Host<In>>&... inputs) {
    check_elementwise_with<Out, In...>(name, body, host, same_result<Out>, inputs...);
}

// A predicate as 1 or 0, so elementwise kernels can return comparisons.
inline Reg<u32> as_u32(KernelBuilder& b, Pred p) { return b.selp<u32>(1u, 0u, p); }

// ---------------------------------------------------------------------------------------------
// Host models of PTX rounding.
// ---------------------------------------------------------------------------------------------

// A binary floating-point format: `mant` stored mantissa bits, `emin` the exponent of the
// smallest normal, `emax` that of the largest finite value.
struct Format {
    int mant;
    int emin;
    int emax;
};
inline constexpr Format kF16{10, -14, 15};
inline constexpr Format kBF16{7, -126, 127};
inline constexpr Format kF32{23, -126, 127};

// Rounds the exact value x (a double holding it exactly) to the format with rounding mode r
// (rn ties to even, rz, rm, rp), with subnormals and overflow as IEEE 754 defines them.
inline double round_to_format(double x, Format f, Round r) {
    if (std::isnan(x) || std::isinf(x) || x == 0) return x;
    int e = std::max(std::ilogb(x), f.emin);
    double ulp = std::ldexp(1.0, e - f.mant);
    double q = x / ulp;  // exact: a power-of-two scaling
    switch (r) {
    case Round::rz: q = std::trunc(q); break;
    case Round::rm: q = std::floor(q); break;
    case Round::rp: q = std::ceil(q); break;
    default: q = std::nearbyint(q); break;  // the default environment rounds to nearest even
    }
    double v = std::copysign(q * ulp, x);  // copysign keeps -0 for small negatives
    double max = std::ldexp(2.0 - std::ldexp(1.0, -f.mant), f.emax);
    if (std::fabs(v) > max) {
        const double inf = std::numeric_limits<double>::infinity();
        bool neg = x < 0;
        switch (r) {
        case Round::rz: return neg ? -max : max;
        case Round::rm: return neg ? -inf : max;
        case Round::rp: return neg ? -max : inf;
        default: return neg ? -inf : inf;
        }
    }
    return v;
}

// The bits of v, a value the 16-bit format (f16 or bf16) holds exactly.
inline uint16_t encode_half(double v, Format f) {
    const int ebits = f.mant == 10 ? 5 : 8;
    const int bias = (1 << (ebits - 1)) - 1;
    uint16_t sign = std::signbit(v) ? uint16_t(0x8000) : uint16_t(0);
    uint16_t exp_all = static_cast<uint16_t>(((1 << ebits) - 1) << f.mant);
    if (std::isnan(v)) return static_cast<uint16_t>(exp_all | (1u << (f.mant - 1)));
    if (std::isinf(v)) return static_cast<uint16_t>(sign | exp_all);
    double a = std::fabs(v);
    if (a == 0) return sign;
    int e = std::ilogb(a);
    if (e < f.emin) return static_cast<uint16_t>(sign | static_cast<uint16_t>(a / std::ldexp(1.0, f.emin - f.mant)));
    auto m = static_cast<uint16_t>((a / std::ldexp(1.0, e) - 1.0) * std::ldexp(1.0, f.mant));
    return static_cast<uint16_t>(sign | ((e + bias) << f.mant) | m);
}

// An f16 or bf16 value from its bits, computed independently of ptxgen's half.hpp.
inline double decode_half(uint16_t h, Format f) {
    const int ebits = f.mant == 10 ? 5 : 8;
    const int bias = (1 << (ebits - 1)) - 1;
    int e = (h >> f.mant) & ((1 << ebits) - 1);
    int m = h & ((1 << f.mant) - 1);
    double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == (1 << ebits) - 1) return m ? std::numeric_limits<double>::quiet_NaN() : s * std::numeric_limits<double>::infinity();
    if (e == 0) return s * std::ldexp(m, f.emin - f.mant);
    return s * std::ldexp(1.0 + std::ldexp(m, -f.mant), e - bias);
}

// Rounds x to an integral value as cvt's .rni/.rzi/.rmi/.rpi do.
inline double round_integral(double x, Round r) {
    switch (r) {
    case Round::rzi: return std::trunc(x);
    case Round::rmi: return std::floor(x);
    case Round::rpi: return std::ceil(x);
    default: return std::nearbyint(x);
    }
}

// cvt.<r>.<int>.f32: round to an integer, saturate to the integer type's range, NaN gives 0.
template <class I> I float_to_int(float x, Round r) {
    if (std::isnan(x)) return 0;
    double v = round_integral(x, r);
    if (v <= static_cast<double>(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
    if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
    return static_cast<I>(v);
}

inline bool is_subnormal(float x) { return x != 0 && std::fpclassify(x) == FP_SUBNORMAL; }
inline float flush(float x) { return is_subnormal(x) ? std::copysign(0.0f, x) : x; }

// ---------------------------------------------------------------------------------------------
// Runs that must fail.
// ---------------------------------------------------------------------------------------------

struct RunOutcome {
    bool finished = false;  // false: still running after the time limit (a hang)
    bool threw = false;
    std::string message;
};

// Runs the launch on a separate thread and waits at most `seconds`. A run that hangs is left
// behind (it owns copies of everything it uses) and reported as not finished.
inline RunOutcome run_guarded(const Kernel& kernel, const interp::Launch& launch, const Device& dev,
                              const interp::ArgList& args, const interp::Options& options = {}, double seconds = 30) {
    struct State {
        Kernel kernel;
        interp::Launch launch;
        std::shared_ptr<interp::DeviceMemory> mem;
        interp::ArgList args;
        interp::Options options;
        std::promise<RunOutcome> done;
    };
    auto state = std::make_shared<State>(State{kernel, launch, dev.shared(), args, options, {}});
    std::future<RunOutcome> result = state->done.get_future();
    std::thread([state] {
        RunOutcome o;
        o.finished = true;
        try {
            interp::run(state->kernel, state->launch, *state->mem, state->args, state->options);
        } catch (const ptxsmith::Error& e) {
            o.threw = true;
            o.message = e.what();
        } catch (const std::exception& e) {
            o.threw = true;
            o.message = std::string("(not a ptxsmith::Error) ") + e.what();
        }
        state->done.set_value(o);
    }).detach();
    if (result.wait_for(std::chrono::duration<double>(seconds)) != std::future_status::ready) return RunOutcome{};
    return result.get();
}

inline std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The instruction's text as the printer writes it, without the trailing ';'.
inline std::string instruction_text(const Kernel& k, size_t index) {
    std::string t = print_instruction(k, index);
    if (!t.empty() && t.back() == ';') t.pop_back();
    return t;
}

// Index of the first instruction with this opcode (and space, for memory instructions).
inline size_t find_instruction(const Kernel& k, Op op, std::optional<Space> space = std::nullopt) {
    for (size_t i = 0; i < k.code.size(); ++i) {
        if (k.code[i].op == op && (!space || k.code[i].m.space == *space)) return i;
    }
    FAIL("no such instruction in kernel ", k.name);
    return 0;
}

}  // namespace itest
