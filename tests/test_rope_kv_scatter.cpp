// rope_kv_scatter on the interpreter: cache rows other than the tokens' positions keep their
// values, the two rope styles give the hand-computed rotations of a head of four, positions outside
// the cache write nothing (and still rotate Q), and the angle reduction holds near max_seq = 2^20.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/registry.hpp"
#include "kernels/rope_kv_scatter.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "ptxgen/interp.hpp"

using namespace kernels;
namespace interp = ptxgen::interp;

namespace {

enum Arg { kQ, kK, kV, kPos, kKCache, kVCache, kQOut };

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
    std::memcpy(args[kPos].bytes.data(), pos.data(), pos.size() * 4);
    std::fill(args[kQOut].bytes.begin(), args[kQOut].bytes.end(), uint8_t{0xff});
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

// Largest |got - want| over q_out.
double q_error(const RopeKvScatter& f, const std::vector<HostBuffer>& got, const std::vector<HostBuffer>& want) {
    double worst = 0;
    for (size_t i = 0; i < f.args()[kQOut].count; ++i) {
        worst = std::max(worst, std::fabs(double{got[kQOut].as<float>()[i]} - want[kQOut].as<float>()[i]));
    }
    return worst;
}

// Cache rows [head][row] equal bit for bit between two argument sets.
bool same_row(const RopeKvScatter& f, const std::vector<HostBuffer>& a, const std::vector<HostBuffer>& b, int cache,
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
        for (int cache : {kKCache, kVCache}) {
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
            CHECK(args[kQOut].as<float>()[e] == doctest::Approx(c.want[e]).epsilon(1e-6));
            CHECK(f16(args[kKCache], 4 + e) == doctest::Approx(c.want[e]).epsilon(1e-3));  // row 1
            CHECK(f16(args[kVCache], 4 + e) == static_cast<float>(e + 1));                // V is copied
            if (c.rot[0] == '2' && e >= 2) CHECK(args[kQOut].as<float>()[e] == static_cast<float>(e + 1));
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
        for (int cache : {kKCache, kVCache}) {
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

TEST_CASE("rope_kv_scatter rejects impossible shapes with the value at fault") {
    CHECK_THROWS_WITH_AS(family({{"head-dim", "7"}}), doctest::Contains("--head-dim 7"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"head-dim", "64"}, {"rot-dim", "80"}}), doctest::Contains("--rot-dim 80"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"rot-dim", "5"}}), doctest::Contains("--rot-dim 5"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"q-heads", "12"}, {"kv-heads", "8"}}), doctest::Contains("--q-heads 12"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(family({{"tokens", "9"}, {"max-seq", "8"}}), doctest::Contains("--tokens 9"), ptxsmith::Error);
}
