// rope_kv_scatter on the interpreter: cache rows other than the tokens' positions keep their
// values, the two rope styles give the hand-computed rotations of a head of four, positions outside
// the cache write nothing (and still rotate Q), the angle reduction holds near max_seq = 2^20, an
// f16 q_out is the f32 one rounded, and biases act as if added to the inputs beforehand.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/registry.hpp"
#include "kernels/rope_kv_scatter.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "ptxgen/interp.hpp"

using namespace kernels;
namespace interp = ptxgen::interp;

namespace {

// The first arguments; the rest move with the biases (RopeKvScatter::pos_arg() and after).
enum Arg { kQ, kK, kV, kBq, kBk, kBv };

uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}

RopeKvScatter family(const ParamValues& v) { return RopeKvScatter::from(resolve_params(find_family("rope_kv_scatter"), v)); }

// Inputs in [-1, 1], random f16 caches, the given positions, q_out poisoned (all bits set).
std::vector<HostBuffer> make_args(const RopeKvScatter& f, const std::vector<int32_t>& pos, std::mt19937_64& rng) {
    REQUIRE(pos.size() == f.tokens);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<HostBuffer> args;
    for (const ArgSpec& spec : f.args()) {
        HostBuffer b{spec, std::vector<uint8_t>(spec.count * static_cast<size_t>(ptxgen::byte_size(spec.type)))};
        if (spec.type == ptxgen::Type::f32) {
            for (size_t i = 0; i < spec.count; ++i) b.as<float>()[i] = u(rng);
        } else if (spec.type == ptxgen::Type::f16) {
            for (size_t i = 0; i < spec.count; ++i) b.as<uint16_t>()[i] = ptxgen::f32_to_f16_bits(u(rng));
        }
        args.push_back(std::move(b));
    }
    std::memcpy(args[f.pos_arg()].bytes.data(), pos.data(), pos.size() * 4);
    std::fill(args[f.q_out_arg()].bytes.begin(), args[f.q_out_arg()].bytes.end(), uint8_t{0xff});
    return args;
}

// Runs the kernel on these buffers in place (outputs and inouts read back), with shared-memory
// race and uninitialised-read checks on.
void run(const RopeKvScatter& f, std::vector<HostBuffer>& args) {
    interp::DeviceMemory mem;
    interp::ArgList list;
    std::vector<uint64_t> at;
    for (const HostBuffer& b : args) {
        at.push_back(mem.alloc(b.bytes.size(), b.spec.name));
        mem.write(at.back(), b.bytes.data(), b.bytes.size());
        list.ptr(at.back());
    }
    const LaunchConfig lc = f.launch_config();
    interp::Options o;
    o.check_shared_races = true;
    o.check_uninitialized_shared = true;
    interp::run(f.build(ptxgen::Target{90}),
                {{lc.grid[0], lc.grid[1], lc.grid[2]}, {lc.block[0], lc.block[1], lc.block[2]}, lc.shared_bytes}, mem,
                list, o);
    for (size_t i = 0; i < args.size(); ++i) mem.read(at[i], args[i].bytes.data(), args[i].bytes.size());
}

float f16(const HostBuffer& b, size_t i) { return ptxgen::f16_bits_to_f32(b.as<uint16_t>()[i]); }

// Largest |got - want| over an f32 q_out.
double q_error(const RopeKvScatter& f, const std::vector<HostBuffer>& got, const std::vector<HostBuffer>& want) {
    REQUIRE_FALSE(f.q_out_f16);
    const size_t a = f.q_out_arg();
    double worst = 0;
    for (size_t i = 0; i < f.args()[a].count; ++i) {
        worst = std::max(worst, std::fabs(double{got[a].as<float>()[i]} - want[a].as<float>()[i]));
    }
    return worst;
}

// Largest |got - want| over an f16 buffer (a cache or an f16 q_out), in units of 2^-10.
double f16_error(const std::vector<HostBuffer>& got, const std::vector<HostBuffer>& want, size_t arg) {
    double worst = 0;
    for (size_t i = 0; i < got[arg].spec.count; ++i) {
        worst = std::max(worst, std::fabs(double{f16(got[arg], i)} - f16(want[arg], i)));
    }
    return worst * 1024;
}

// Cache rows [head][row] equal bit for bit between two argument sets.
bool same_row(const RopeKvScatter& f, const std::vector<HostBuffer>& a, const std::vector<HostBuffer>& b, size_t cache,
              uint32_t head, uint32_t row) {
    const size_t first = (size_t{head} * f.max_seq + row) * f.head_dim * 2;
    return std::memcmp(a[cache].bytes.data() + first, b[cache].bytes.data() + first, f.head_dim * 2) == 0;
}

}  // namespace

TEST_CASE("rope_kv_scatter writes only the tokens' cache rows, each matching the reference") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (const char* style : {"normal", "neox"}) {
        CAPTURE(style);
        const RopeKvScatter f = family({{"head-dim", "16"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"tokens", "3"},
                                        {"max-seq", "10"}, {"rope", style}, {"rot-dim", "12"}, {"base", "10000"}});
        const std::vector<int32_t> pos = {7, 2, 9};
        const std::vector<HostBuffer> before = make_args(f, pos, rng);
        std::vector<HostBuffer> got = before, want = before;
        run(f, got);
        f.reference(want);
        for (size_t cache : {f.k_cache_arg(), f.v_cache_arg()}) {
            for (uint32_t h = 0; h < f.kv_heads; ++h) {
                for (uint32_t r = 0; r < f.max_seq; ++r) {
                    CAPTURE(r);
                    const bool written = r == 7 || r == 2 || r == 9;
                    if (!written) {
                        CHECK(same_row(f, got, before, cache, h, r));
                        continue;
                    }
                    for (uint32_t e = 0; e < f.head_dim; ++e) {
                        const size_t i = (size_t{h} * f.max_seq + r) * f.head_dim + e;
                        // One f16 ulp where f32 and double round to either side of a midpoint.
                        CHECK(std::fabs(f16(got[cache], i) - f16(want[cache], i)) <= std::ldexp(1.0, -10));
                    }
                }
            }
        }
        CHECK(q_error(f, got, want) <= 2e-6);
    }
}

TEST_CASE("rope_kv_scatter: the normal and neox rotations of a head of four at position 1") {
    // x = (1, 2, 3, 4), base 100, n_rot 4: pair 0 turns by 1 radian, pair 1 by 100^(-1/2) = 0.1.
    const double c1 = std::cos(1.0), s1 = std::sin(1.0), c2 = std::cos(0.1), s2 = std::sin(0.1);
    struct Case {
        const char* style;
        const char* rot;
        std::vector<double> want;
    };
    const std::vector<Case> cases = {
        // normal: pairs (x0, x1) and (x2, x3)
        {"normal", "4", {1 * c1 - 2 * s1, 1 * s1 + 2 * c1, 3 * c2 - 4 * s2, 3 * s2 + 4 * c2}},
        // neox: pairs (x0, x2) and (x1, x3)
        {"neox", "4", {1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 1 * s1 + 3 * c1, 2 * s2 + 4 * c2}},
        // rot-dim 2: only (x0, x1) turns, by 1 radian, in both styles; x2 and x3 pass through exactly
        {"normal", "2", {1 * c1 - 2 * s1, 1 * s1 + 2 * c1, 3, 4}},
        {"neox", "2", {1 * c1 - 2 * s1, 1 * s1 + 2 * c1, 3, 4}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.style);
        CAPTURE(c.rot);
        const RopeKvScatter f = family({{"head-dim", "4"}, {"q-heads", "1"}, {"kv-heads", "1"}, {"tokens", "1"},
                                        {"max-seq", "2"}, {"rope", c.style}, {"rot-dim", c.rot}, {"base", "100"}});
        std::mt19937_64 rng(1);
        std::vector<HostBuffer> args = make_args(f, {1}, rng);
        for (int a : {kQ, kK, kV}) {
            for (uint32_t e = 0; e < 4; ++e) args[a].as<float>()[e] = static_cast<float>(e + 1);
        }
        run(f, args);
        for (uint32_t e = 0; e < 4; ++e) {
            CAPTURE(e);
            const float* q_out = args[f.q_out_arg()].as<float>();
            CHECK(q_out[e] == doctest::Approx(c.want[e]).epsilon(1e-6));
            CHECK(f16(args[f.k_cache_arg()], 4 + e) == doctest::Approx(c.want[e]).epsilon(1e-3));  // row 1
            CHECK(f16(args[f.v_cache_arg()], 4 + e) == static_cast<float>(e + 1));                // V is copied
            if (c.rot[0] == '2' && e >= 2) CHECK(q_out[e] == static_cast<float>(e + 1));
        }
    }
}

TEST_CASE("rope_kv_scatter: positions outside the cache write no row but still rotate Q") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (const char* style : {"normal", "neox"}) {
        CAPTURE(style);
        const RopeKvScatter f = family({{"head-dim", "8"}, {"q-heads", "2"}, {"kv-heads", "1"}, {"tokens", "5"},
                                        {"max-seq", "6"}, {"rope", style}, {"base", "10000"}});
        const std::vector<int32_t> pos = {-1, 6, 1000, std::numeric_limits<int32_t>::min(), 3};
        const std::vector<HostBuffer> before = make_args(f, pos, rng);
        std::vector<HostBuffer> got = before, want = before;
        run(f, got);
        f.reference(want);
        for (size_t cache : {f.k_cache_arg(), f.v_cache_arg()}) {
            for (uint32_t r = 0; r < f.max_seq; ++r) {
                CAPTURE(r);
                CHECK(same_row(f, got, before, cache, 0, r) == (r != 3));
            }
        }
        CHECK(q_error(f, got, want) <= 2e-6);
    }
}

TEST_CASE("rope_kv_scatter: the angle stays accurate for positions near max_seq = 2^20") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (const char* style : {"normal", "neox"}) {
        CAPTURE(style);
        const RopeKvScatter f = family({{"head-dim", "8"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"tokens", "3"},
                                        {"max-seq", "1048576"}, {"rope", style}, {"base", "500000"}});
        const int32_t last = (1 << 20) - 1;
        std::vector<HostBuffer> got = make_args(f, {last, last - 1, 8191}, rng);
        // q_out carries the same angles as the cache rows (2^20 of them per head, left unchecked).
        std::vector<HostBuffer> want = got;
        run(f, got);
        f.reference(want);
        CHECK(q_error(f, got, want) <= 2e-6);
    }
}

// The shape of the mixed-parameter tests: partial rotary, several heads and tokens.
ParamValues mixed_shape(const char* style, const char* q_out, const char* bias) {
    return {{"head-dim", "16"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"tokens", "3"}, {"max-seq", "10"},
            {"rope", style},    {"rot-dim", "12"}, {"base", "10000"}, {"q-out", q_out}, {"bias", bias}};
}

TEST_CASE("rope_kv_scatter: an f16 q_out is the f32 q_out rounded to nearest") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (const char* style : {"normal", "neox"}) {
        for (const char* bias : {"0", "1"}) {
            CAPTURE(style);
            CAPTURE(bias);
            const RopeKvScatter f32_out = family(mixed_shape(style, "f32", bias));
            const RopeKvScatter f16_out = family(mixed_shape(style, "f16", bias));
            REQUIRE(f16_out.args()[f16_out.q_out_arg()].type == ptxgen::Type::f16);
            const std::vector<int32_t> pos = {4, 9, 0};
            std::vector<HostBuffer> a = make_args(f32_out, pos, rng);
            std::vector<HostBuffer> b = make_args(f16_out, pos, rng);
            for (size_t i = 0; i < a.size(); ++i) {
                if (i != f32_out.q_out_arg()) b[i].bytes = a[i].bytes;  // the same inputs and caches
            }
            std::vector<HostBuffer> want = b;
            run(f32_out, a);
            run(f16_out, b);
            f16_out.reference(want);
            const size_t q = f32_out.q_out_arg();
            size_t differ = 0;
            for (size_t i = 0; i < a[q].spec.count; ++i) {
                differ += b[q].as<uint16_t>()[i] != ptxgen::f32_to_f16_bits(a[q].as<float>()[i]);
            }
            CHECK(differ == 0);
            CHECK(a[f32_out.k_cache_arg()].bytes == b[f16_out.k_cache_arg()].bytes);
            CHECK(a[f32_out.v_cache_arg()].bytes == b[f16_out.v_cache_arg()].bytes);
            // Against the double reference: one f16 ulp (2^-10 below 2 without biases, 2^-9 with).
            CHECK(f16_error(b, want, q) <= 2.0);
        }
    }
}

TEST_CASE("rope_kv_scatter: biases give what unbiased inputs with the biases added beforehand give") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (const char* style : {"normal", "neox"}) {
        for (const char* q_out : {"f32", "f16"}) {
            CAPTURE(style);
            CAPTURE(q_out);
            const RopeKvScatter biased = family(mixed_shape(style, q_out, "1"));
            const RopeKvScatter plain = family(mixed_shape(style, q_out, "0"));
            REQUIRE(biased.args().size() == plain.args().size() + 3);
            const std::vector<int32_t> pos = {2, 7, 9};
            std::vector<HostBuffer> with = make_args(biased, pos, rng);
            std::vector<HostBuffer> without = make_args(plain, pos, rng);
            // q + bq, k + bk, v + bv per token, in f32; the caches start equal.
            for (int in : {kQ, kK, kV}) {
                const HostBuffer& bias_buf = with[static_cast<size_t>(in + kBq)];
                const size_t per_token = bias_buf.spec.count;
                for (size_t i = 0; i < with[in].spec.count; ++i) {
                    without[in].as<float>()[i] = with[in].as<float>()[i] + bias_buf.as<float>()[i % per_token];
                }
            }
            without[plain.k_cache_arg()].bytes = with[biased.k_cache_arg()].bytes;
            without[plain.v_cache_arg()].bytes = with[biased.v_cache_arg()].bytes;
            std::vector<HostBuffer> want = with;
            run(biased, with);
            run(plain, without);
            biased.reference(want);
            CHECK(with[biased.q_out_arg()].bytes == without[plain.q_out_arg()].bytes);
            CHECK(with[biased.k_cache_arg()].bytes == without[plain.k_cache_arg()].bytes);
            CHECK(with[biased.v_cache_arg()].bytes == without[plain.v_cache_arg()].bytes);
            // And the biased kernel against the biased reference.
            if (biased.q_out_f16) CHECK(f16_error(with, want, biased.q_out_arg()) <= 2.0);  // |q| < 2
            else CHECK(q_error(biased, with, want) <= 4e-6);
            for (size_t cache : {biased.k_cache_arg(), biased.v_cache_arg()}) CHECK(f16_error(with, want, cache) <= 2.0);
        }
    }
}

TEST_CASE("rope_kv_scatter names carry q-out and bias only where they are not the defaults") {
    CHECK(family({}).name() == "rope_kv_scatter_normal_d128_r128_q32_kv8_t1_s4096_b500000");
    CHECK(family({{"q-out", "f16"}}).name() == "rope_kv_scatter_normal_d128_r128_q32_kv8_t1_s4096_b500000_qf16");
    CHECK(family({{"bias", "1"}}).name() == "rope_kv_scatter_normal_d128_r128_q32_kv8_t1_s4096_b500000_bias");
    CHECK(family({{"bias", "1"}, {"q-out", "f16"}, {"rope", "neox"}}).name() ==
          "rope_kv_scatter_neox_d128_r128_q32_kv8_t1_s4096_b500000_qf16_bias");
    const std::vector<ArgSpec> args = family({{"bias", "1"}, {"q-out", "f16"}}).args();
    std::vector<std::string> names;
    for (const ArgSpec& a : args) names.push_back(a.name);
    CHECK(names == std::vector<std::string>{"q", "k", "v", "bq", "bk", "bv", "pos", "k_cache", "v_cache", "q_out"});
    CHECK(args[3].count == 32 * 128);
    CHECK(args[4].count == 8 * 128);
    CHECK(args.back().type == ptxgen::Type::f16);
}

TEST_CASE("rope_kv_scatter rejects impossible shapes with the value at fault") {
    CHECK_THROWS_WITH_AS(family({{"head-dim", "7"}}), doctest::Contains("--head-dim 7"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"head-dim", "64"}, {"rot-dim", "80"}}), doctest::Contains("--rot-dim 80"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"rot-dim", "5"}}), doctest::Contains("--rot-dim 5"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"q-heads", "12"}, {"kv-heads", "8"}}), doctest::Contains("--q-heads 12"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"tokens", "9"}, {"max-seq", "8"}}), doctest::Contains("--tokens 9"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"bias", "2"}}), doctest::Contains("--bias 2"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"q-out", "bf16"}}), doctest::Contains("--q-out bf16"), ptxsmith::Error);
}
