// argmax on the interpreter with hand-made inputs: the earliest of tied maxima wins wherever the
// ties sit (one thread, two threads, two warps, the head and tail around the 16-byte loads), NaN
// never wins and all-NaN gives 0, -inf counts as a value, -0 equals +0, and x may start at any
// 4-byte-aligned address.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/argmax.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/interp.hpp"

using namespace kernels;
namespace interp = ptxgen::interp;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}

Argmax family(uint32_t n, uint32_t block) {
    return Argmax::from(resolve_params(find_family("argmax"), {{"n", std::to_string(n)}, {"block", std::to_string(block)}}));
}

// The kernel's answer for x with `block` threads, x placed `skew` floats past a 256-byte-aligned
// allocation (so its first 16-byte boundary is `(4 - skew) % 4` elements in). Checks that the
// reference gives the same answer.
int32_t argmax_of(const std::vector<float>& x, uint32_t block, uint32_t skew = 0) {
    const Argmax f = family(static_cast<uint32_t>(x.size()), block);
    interp::DeviceMemory mem;
    const uint64_t base = mem.alloc((x.size() + skew) * 4, "x");
    REQUIRE(base % 16 == 0);
    mem.write(base + 4 * skew, x.data(), x.size() * 4);
    const uint64_t out = mem.alloc(4, "out");
    mem.fill(out, 0xff, 4);
    interp::ArgList args;
    args.ptr(base + 4 * skew);
    args.ptr(out);
    interp::Options o;
    o.check_shared_races = true;
    o.check_uninitialized_shared = true;
    const LaunchConfig lc = f.launch_config();
    interp::run(f.build(ptxgen::Target{90}), {{1, 1, 1}, {lc.block[0], 1, 1}, 0}, mem, args, o);
    int32_t got = -1;
    mem.read(out, &got, 4);

    std::vector<HostBuffer> ref = {{f.args()[0], std::vector<uint8_t>(x.size() * 4)}, {f.args()[1], std::vector<uint8_t>(4)}};
    std::memcpy(ref[0].bytes.data(), x.data(), x.size() * 4);
    f.reference(ref);
    CHECK(ref[1].as<int32_t>()[0] == got);
    return got;
}

std::vector<float> random_values(size_t n, std::mt19937_64& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    return x;
}

}  // namespace

TEST_CASE("argmax finds the maximum at the first and the last index") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (uint32_t n : {1u, 2u, 5u, 31u, 1000u, 4099u}) {
        for (uint32_t block : {32u, 64u, 1024u}) {
            for (uint32_t skew : {0u, 1u, 3u}) {
                CAPTURE(n);
                CAPTURE(block);
                CAPTURE(skew);
                std::vector<float> x = random_values(n, rng);
                x[0] = 2.0f;
                CHECK(argmax_of(x, block, skew) == 0);
                x[0] = -2.0f;
                x[n - 1] = 2.0f;
                CHECK(argmax_of(x, block, skew) == static_cast<int32_t>(n - 1));
            }
        }
    }
}

TEST_CASE("argmax: of tied maxima the smallest index wins, within a thread, across threads and warps") {
    // Element e of an aligned x of a 32-thread (or 64-thread) CTA sits in float4 e / 4, which
    // thread (e / 4) % block reads in step (e / 4) / block.
    struct Case {
        uint32_t n, block;
        std::vector<uint32_t> ties;  // the first one must win
    };
    const std::vector<Case> cases = {
        {31, 32, {0, 1}},             // one float4
        {31, 32, {2, 3, 30}},         // one float4, and the tail
        {1000, 32, {5, 128 + 5}},     // one thread, consecutive steps
        {1000, 32, {4, 128}},         // thread 1 step 0 before thread 0 step 1
        {1000, 32, {127, 128}},       // thread 31 step 0 before thread 0 step 1
        {1000, 64, {130, 7}},         // thread 1 (warp 0) holds the winner, thread 32 (warp 1) the later one
        {1000, 64, {130, 300}},       // thread 32 (warp 1) holds the winner, thread 11 (warp 0) the later one
        {1000, 64, {250, 900, 999}},
        {4099, 1024, {4097, 4098}},   // both in the tail, threads 1 and 2
        {4099, 1024, {3000, 4096}},   // warp 23 before the tail (thread 0)
        {4099, 1024, {1, 2, 3, 4095}},
        {4099, 64, {4095, 4096}},     // the last float4, then the tail
    };
    for (const Case& c : cases) {
        for (bool reversed : {false, true}) {
            CAPTURE(c.n);
            CAPTURE(c.block);
            CAPTURE(c.ties[0]);
            std::mt19937_64 rng(c.n + c.block);
            std::vector<float> x = random_values(c.n, rng);
            // The same value written in either order (its index order is what decides).
            std::vector<uint32_t> at = c.ties;
            if (reversed) std::reverse(at.begin(), at.end());
            for (uint32_t i : at) x[i] = 1.5f;
            uint32_t first = *std::min_element(at.begin(), at.end());
            CHECK(argmax_of(x, c.block) == static_cast<int32_t>(first));
        }
    }
}

TEST_CASE("argmax: random ties at random places, at every 16-byte skew") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 40; ++trial) {
        const uint32_t n = std::uniform_int_distribution<uint32_t>(2, 3000)(rng);
        const uint32_t block = 32u << (trial % 4);
        const uint32_t skew = static_cast<uint32_t>(trial % 4);
        CAPTURE(n);
        CAPTURE(block);
        CAPTURE(skew);
        std::vector<float> x = random_values(n, rng);
        std::uniform_int_distribution<uint32_t> at(0, n - 1);
        uint32_t first = n;
        for (int t = 0; t < 4; ++t) {
            const uint32_t i = at(rng);
            x[i] = 1.25f;
            first = std::min(first, i);
        }
        CHECK(argmax_of(x, block, skew) == static_cast<int32_t>(first));
    }
}

TEST_CASE("argmax: NaN never wins, whatever its sign and payload") {
    const std::vector<uint32_t> nans = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xffffffffu, 0x7fffffffu};
    for (uint32_t bits : nans) {
        const float nan = std::bit_cast<float>(bits);
        CAPTURE(bits);
        // A NaN first, then the maximum later; NaNs around a lone -inf.
        CHECK(argmax_of({nan, 0.5f, 1.0f, -3.0f, 0.25f}, 32) == 2);
        CHECK(argmax_of({nan, -kInf, nan}, 32) == 1);
        std::vector<float> x(1000, nan);
        x[777] = -1e30f;
        CHECK(argmax_of(x, 64) == 777);
        CHECK(argmax_of(x, 64, 2) == 777);
        x[3] = -kInf;
        CHECK(argmax_of(x, 64) == 777);
        x[999] = -1e30f;
        CHECK(argmax_of(x, 64) == 777);
    }
    // Every other value NaN, the maximum among the rest.
    std::vector<float> x(4099);
    for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 == 0 ? kNaN : static_cast<float>(i % 1000);
    CHECK(argmax_of(x, 256) == 999);
}

TEST_CASE("argmax: all NaN answers 0") {
    for (uint32_t n : {1u, 3u, 5u, 31u, 1000u, 4099u}) {
        for (uint32_t skew : {0u, 1u, 2u}) {
            CAPTURE(n);
            CAPTURE(skew);
            std::vector<float> x(n, kNaN);
            if (n > 2) x[n / 2] = -kNaN;
            CHECK(argmax_of(x, 32, skew) == 0);
            CHECK(argmax_of(x, 1024, skew) == 0);
        }
    }
}

TEST_CASE("argmax: -inf is a value, and infinities and zeros order as floats do") {
    CHECK(argmax_of(std::vector<float>(5, -kInf), 32) == 0);
    CHECK(argmax_of(std::vector<float>(1000, -kInf), 64, 3) == 0);
    CHECK(argmax_of({-kInf, -kInf, -3e38f, -kInf}, 32) == 2);
    CHECK(argmax_of({std::numeric_limits<float>::max(), kInf, kInf}, 32) == 1);
    CHECK(argmax_of({-0.0f, 0.0f}, 32) == 0);  // equal: the first
    CHECK(argmax_of({0.0f, -0.0f}, 32) == 0);
    CHECK(argmax_of({-1.0f, -0.0f, 0.0f}, 32) == 1);
    const float tiny = std::numeric_limits<float>::denorm_min();
    CHECK(argmax_of({0.0f, tiny, -tiny}, 32) == 1);
    CHECK(argmax_of({-tiny, -0.0f, -tiny}, 32) == 1);
    CHECK(argmax_of({-2.0f, -1.0f, -1.5f, -1.0f, -7.0f}, 32) == 1);
}

TEST_CASE("argmax rejects a block that is not a whole number of warps") {
    CHECK_THROWS_WITH_AS(family(100, 48), doctest::Contains("--block 48"), ptxsmith::Error);
    CHECK_THROWS_AS(family(0, 32), ptxsmith::Error);
    CHECK(family(128256, 1024).name() == "argmax_n128256_b1024");
}
