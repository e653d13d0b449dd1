// flash_attention on the interpreter: a prompt in two chunks gives the rows of the whole prompt,
// cache positions a chunk may not see never reach its output, and the sm_75 path (mma emulated)
// and head_dim 256 (Q reread from shared memory) match the reference.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/flash_attention.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/half.hpp"
#include "ptxgen/interp.hpp"

using namespace kernels;
namespace interp = ptxgen::interp;

namespace {

uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}

std::vector<uint16_t> random_f16(size_t n, std::mt19937_64& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<uint16_t> v(n);
    for (uint16_t& x : v) x = ptxgen::f32_to_f16_bits(u(rng));
    return v;
}

ParamValues shape(uint32_t len, uint32_t pos) {
    return {{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "1"}, {"len", std::to_string(len)},
            {"pos", std::to_string(pos)}, {"max-seq", "56"}, {"warps", "2"}};
}

FlashAttention family(const ParamValues& v) { return FlashAttention::from(resolve_params(find_family("flash_attention"), v)); }

// Runs the kernel with these inputs (races and uninitialised shared reads checked); the output.
std::vector<float> run(const FlashAttention& fa, const std::vector<uint16_t>& q, const std::vector<uint16_t>& k,
                       const std::vector<uint16_t>& v, int32_t pos, ptxgen::Target target = {90}) {
    interp::DeviceMemory mem;
    auto upload = [&](const void* data, size_t bytes, const char* name) {
        uint64_t a = mem.alloc(bytes, name);
        mem.write(a, data, bytes);
        return a;
    };
    const size_t out_count = size_t{fa.len} * fa.q_heads * fa.head_dim;
    uint64_t out = mem.alloc(out_count * 4, "out");
    mem.fill(out, 0xff, out_count * 4);
    interp::ArgList args;
    args.ptr(upload(q.data(), q.size() * 2, "q"))
        .ptr(upload(k.data(), k.size() * 2, "k_cache"))
        .ptr(upload(v.data(), v.size() * 2, "v_cache"))
        .ptr(upload(&pos, 4, "pos"))
        .ptr(out);
    const LaunchConfig lc = fa.launch_config();
    interp::Options o;
    o.check_shared_races = true;
    o.check_uninitialized_shared = true;
    interp::run(fa.build(target), {{lc.grid[0], lc.grid[1], lc.grid[2]}, {lc.block[0], lc.block[1], lc.block[2]}, lc.shared_bytes},
                mem, args, o);
    std::vector<float> got(out_count);
    mem.read(out, got.data(), out_count * 4);
    return got;
}

// The family's reference on these inputs.
std::vector<float> reference(const FlashAttention& fa, const std::vector<uint16_t>& q, const std::vector<uint16_t>& k,
                             const std::vector<uint16_t>& v, int32_t pos) {
    std::vector<HostBuffer> args;
    auto bytes = [](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        return std::vector<uint8_t>(b, b + n);
    };
    std::vector<ArgSpec> specs = fa.args();
    args.push_back({specs[0], bytes(q.data(), q.size() * 2)});
    args.push_back({specs[1], bytes(k.data(), k.size() * 2)});
    args.push_back({specs[2], bytes(v.data(), v.size() * 2)});
    args.push_back({specs[3], bytes(&pos, 4)});
    args.push_back({specs[4], std::vector<uint8_t>(specs[4].count * 4)});
    fa.reference(args);
    const float* f = args[4].as<float>();
    return std::vector<float>(f, f + specs[4].count);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(double{a[i]} - b[i]);
        m = std::isnan(d) ? INFINITY : std::max(m, d);
    }
    return m;
}

}  // namespace

TEST_CASE("flash_attention: chunks of 16 then 32 queries give the rows of the whole 48-query prefill") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const FlashAttention whole = family(shape(48, 0));
    const FlashAttention first = family(shape(16, 0));
    const FlashAttention second = family(shape(32, 16));
    const size_t row = size_t{whole.q_heads} * whole.head_dim;  // one query's elements
    const size_t cache = size_t{whole.kv_heads} * whole.max_seq * whole.head_dim;
    std::vector<uint16_t> q = random_f16(48 * row, rng), k = random_f16(cache, rng), v = random_f16(cache, rng);

    std::vector<float> all = run(whole, q, k, v, 0);
    CHECK(max_abs_diff(all, reference(whole, q, k, v, 0)) < 1e-3);

    std::vector<uint16_t> q1(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(16 * row));
    std::vector<uint16_t> q2(q.begin() + static_cast<std::ptrdiff_t>(16 * row), q.end());
    std::vector<float> got1 = run(first, q1, k, v, 0);
    std::vector<float> got2 = run(second, q2, k, v, 16);
    std::vector<float> want1(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(16 * row));
    std::vector<float> want2(all.begin() + static_cast<std::ptrdiff_t>(16 * row), all.end());
    // Each row sees the same keys in the same tiles; later, fully masked tiles add exact zeros.
    CHECK(max_abs_diff(got1, want1) == 0);
    CHECK(max_abs_diff(got2, want2) == 0);
}

TEST_CASE("flash_attention: cache positions at or past p0 + n never influence the output") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    for (uint32_t pos : {0u, 7u, 21u}) {
        CAPTURE(pos);
        const FlashAttention fa = family(shape(19, pos));
        const size_t row = size_t{fa.q_heads} * fa.head_dim;
        const size_t cache = size_t{fa.kv_heads} * fa.max_seq * fa.head_dim;
        std::vector<uint16_t> q = random_f16(fa.len * row, rng), k = random_f16(cache, rng), v = random_f16(cache, rng);
        std::vector<float> clean = run(fa, q, k, v, static_cast<int32_t>(pos));
        CHECK(max_abs_diff(clean, reference(fa, q, k, v, static_cast<int32_t>(pos))) < 1e-3);

        // Huge values, infinities and NaNs in every position the chunk may not see.
        const uint16_t poison[] = {0x7bff /* 65504 */, 0xfbff, 0x7c00 /* inf */, 0x7e00 /* NaN */};
        for (uint32_t kvh = 0; kvh < fa.kv_heads; ++kvh)
            for (uint32_t p = pos + fa.len; p < fa.max_seq; ++p)
                for (uint32_t d = 0; d < fa.head_dim; ++d) {
                    const size_t at = (size_t{kvh} * fa.max_seq + p) * fa.head_dim + d;
                    k[at] = poison[(p + d) % 4];
                    v[at] = poison[(p + d + 1) % 4];
                }
        CHECK(max_abs_diff(run(fa, q, k, v, static_cast<int32_t>(pos)), clean) == 0);
    }
}

TEST_CASE("flash_attention: the sm_75 path (mma emulated by shuffles) and head_dim 256 match the reference") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    interp::Options o;
    o.check_shared_races = true;
    o.check_uninitialized_shared = true;
    const Family& f = find_family("flash_attention");
    auto sm75 = instantiate(f, shape(21, 5));
    CheckResult r = check_on_interpreter(*sm75, seed, o, ptxgen::Target{75});
    INFO(r.comparison.worst);
    CHECK(r.comparison.pass);

    auto wide = instantiate(f, {{"head-dim", "256"}, {"q-heads", "2"}, {"kv-heads", "1"}, {"len", "9"}, {"pos", "30"},
                                {"max-seq", "40"}, {"warps", "1"}});
    CheckResult w = check_on_interpreter(*wide, seed, o);
    INFO(w.comparison.worst);
    CHECK(w.comparison.pass);
}

TEST_CASE("flash_attention: impossible shapes are refused with the value at fault") {
    const Family& f = find_family("flash_attention");
    CHECK_THROWS_WITH(instantiate(f, {{"head-dim", "96"}}),
                      doctest::Contains("--head-dim 96"));
    CHECK_THROWS_WITH(instantiate(f, {{"q-heads", "12"}, {"kv-heads", "8"}}), doctest::Contains("--q-heads 12"));
    CHECK_THROWS_WITH(instantiate(f, {{"len", "100"}, {"pos", "4000"}, {"max-seq", "4096"}}),
                      doctest::Contains("exceeds --max-seq 4096"));
}
