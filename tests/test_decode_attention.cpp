// decode_attention on the interpreter, beyond the registry-wide check: two launches in a row on one
// device (the arrival counters reset themselves), len = 1, a window longer than the cache,
// positions outside the attended range that hold infinities and NaNs without touching the output,
// and every GQA ratio (groups above 8 take the staged variant).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "kernels/check.hpp"
#include "kernels/decode_attention.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "ptxgen/verifier.hpp"
#include "ptxsmith/runtime/device.hpp"

using namespace kernels;
namespace rt = ptxsmith::runtime;

namespace {

uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}

constexpr size_t kK = 1, kV = 2, kLen = 3, kOut = 4, kCounters = 6;  // argument indices

// Buffers of one instance on one interpreter device, kept across launches.
class Session {
public:
    Session(const KernelInstance& k, const std::vector<HostBuffer>& host) : k_(k), dev_(rt::open_interp_device()) {
        for (const HostBuffer& b : host) {
            buffers_.push_back(std::make_unique<rt::DeviceBuffer>(*dev_, b.bytes.size(), b.spec.name));
            buffers_.back()->upload(b.bytes.data());
            args_.ptr(buffers_.back()->address());
        }
        kernel_ = std::make_unique<ptxgen::Kernel>(k.build(dev_->info().target()));
    }
    void upload(const HostBuffer& b, size_t index) { buffers_[index]->upload(b.bytes.data()); }
    // Launches once and downloads every output and inout buffer into `host`.
    void launch(std::vector<HostBuffer>& host) {
        const LaunchConfig lc = k_.launch_config();
        dev_->launch(*kernel_, rt::Dims{lc.grid, lc.block, lc.shared_bytes}, args_);
        dev_->synchronize();
        for (size_t i = 0; i < host.size(); ++i) {
            if (host[i].spec.role == Role::output || host[i].spec.role == Role::inout) buffers_[i]->download(host[i].bytes.data());
        }
    }

private:
    const KernelInstance& k_;
    std::unique_ptr<rt::Device> dev_;
    std::vector<std::unique_ptr<rt::DeviceBuffer>> buffers_;
    rt::Args args_;
    std::unique_ptr<ptxgen::Kernel> kernel_;
};

std::unique_ptr<KernelInstance> make(const ParamValues& params) {
    return instantiate(find_family("decode_attention"), params);
}

std::vector<HostBuffer> run_once(const KernelInstance& k, std::vector<HostBuffer> host) {
    Session s(k, host);
    s.launch(host);
    return host;
}

void check_against_reference(const KernelInstance& k, const std::vector<HostBuffer>& inputs,
                             const std::vector<HostBuffer>& got) {
    std::vector<HostBuffer> want = inputs;
    k.reference(want);
    Comparison c = compare_outputs(got, want, k.tolerance());
    INFO(c.worst);
    CHECK(c.pass);
}

// Only `out` against the reference of `inputs` (the scratch keeps what earlier launches left).
void check_output_against_reference(const KernelInstance& k, const std::vector<HostBuffer>& inputs,
                                    const std::vector<HostBuffer>& got) {
    std::vector<HostBuffer> want = inputs;
    k.reference(want);
    Comparison c = compare_outputs(std::vector<HostBuffer>{got[kOut]}, std::vector<HostBuffer>{want[kOut]}, k.tolerance());
    INFO(c.worst);
    CHECK(c.pass);
}

// One launch on fresh random inputs with the output poisoned, against the reference.
void check_poisoned_run(const KernelInstance& k) {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::vector<HostBuffer> inputs = make_host_args(k, seed);
    std::vector<HostBuffer> poisoned = inputs;
    std::fill(poisoned[kOut].bytes.begin(), poisoned[kOut].bytes.end(), uint8_t{0xff});
    check_against_reference(k, inputs, run_once(k, poisoned));
}

void set_len(HostBuffer& b, int32_t len) { std::memcpy(b.bytes.data(), &len, 4); }

// Huge finite values, infinities and NaNs in every K and V row outside [lo, len).
void poison_outside(std::vector<HostBuffer>& host, uint32_t kv_heads, uint32_t max_seq, uint32_t head_dim, uint32_t lo,
                    uint32_t len) {
    const uint16_t poison[] = {0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00};
    for (size_t buffer : {kK, kV}) {
        uint16_t* e = host[buffer].as<uint16_t>();
        for (uint32_t kv = 0; kv < kv_heads; ++kv) {
            for (uint32_t p = 0; p < max_seq; ++p) {
                if (p >= lo && p < len) continue;
                for (uint32_t i = 0; i < head_dim; ++i) e[(size_t{kv} * max_seq + p) * head_dim + i] = poison[(p + i) % 5];
            }
        }
    }
}

const float* floats(const HostBuffer& b) { return b.as<float>(); }

}  // namespace

TEST_CASE("decode_attention: two launches in a row give the same output and leave the counters at zero") {
    auto k = make({{"head-dim", "128"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "160"}, {"len", "130"},
                   {"chunk", "32"}});
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::vector<HostBuffer> host = make_host_args(*k, seed);
    const std::vector<HostBuffer> inputs = host;
    Session s(*k, host);
    s.launch(host);
    const std::vector<uint8_t> first = host[kOut].bytes;
    check_against_reference(*k, inputs, host);
    for (uint32_t i = 0; i < 2; ++i) CHECK(host[kCounters].as<uint32_t>()[i] == 0u);

    // Poison the output on the device, launch again without touching the counters.
    std::fill(host[kOut].bytes.begin(), host[kOut].bytes.end(), uint8_t{0xff});
    s.upload(host[kOut], kOut);
    s.launch(host);
    CHECK(host[kOut].bytes == first);
    for (uint32_t i = 0; i < 2; ++i) CHECK(host[kCounters].as<uint32_t>()[i] == 0u);

    // A third launch with another length reuses the same counters and scratch.
    set_len(host[kLen], 33);
    s.upload(host[kLen], kLen);
    std::vector<HostBuffer> shorter_inputs = host;
    s.launch(host);
    check_output_against_reference(*k, shorter_inputs, host);
}

TEST_CASE("decode_attention: len 1 returns the first V row for every query head") {
    for (const char* head_dim : {"64", "128"}) {
        auto k = make({{"head-dim", head_dim}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "100"}, {"len", "1"},
                       {"chunk", "32"}});
        const uint32_t d = static_cast<uint32_t>(std::stoi(head_dim));
        std::vector<HostBuffer> got = run_once(*k, make_host_args(*k, fresh_seed()));
        const uint16_t* v = got[kV].as<uint16_t>();
        for (uint32_t h = 0; h < 8; ++h) {
            const uint32_t kv = h / 4;
            for (uint32_t i = 0; i < d; ++i) {
                CHECK(floats(got[kOut])[h * d + i] == ptxgen::f16_bits_to_f32(v[size_t{kv} * 100 * d + i]));
            }
        }
    }
}

TEST_CASE("decode_attention: a window longer than len changes nothing") {
    const ParamValues base{{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "1"}, {"max-seq", "128"},
                           {"len", "45"}, {"chunk", "32"}};
    ParamValues windowed = base;
    windowed.set("window", "46");
    ParamValues huge = base;
    huge.set("window", "100000");
    auto plain = make(base);
    std::vector<HostBuffer> inputs = make_host_args(*plain, fresh_seed());
    const std::vector<HostBuffer> want = run_once(*plain, inputs);
    check_against_reference(*plain, inputs, want);
    for (const ParamValues* p : {&windowed, &huge}) {
        auto k = make(*p);
        std::vector<HostBuffer> got = run_once(*k, inputs);
        CHECK(got[kOut].bytes == want[kOut].bytes);
    }
}

TEST_CASE("decode_attention: positions outside [len - window, len) never reach the output") {
    struct Case {
        const char* head_dim;
        const char* window;
        int32_t len;
    };
    for (const Case& c : {Case{"128", "0", 37}, Case{"64", "0", 64}, Case{"64", "20", 50}, Case{"128", "9", 70}}) {
        CAPTURE(c.head_dim);
        CAPTURE(c.window);
        CAPTURE(c.len);
        auto k = make({{"head-dim", c.head_dim}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "96"},
                       {"len", std::to_string(c.len)}, {"window", c.window}, {"chunk", "32"}});
        const uint32_t d = static_cast<uint32_t>(std::stoi(c.head_dim));
        const uint32_t window = static_cast<uint32_t>(std::stoi(c.window));
        const uint32_t lo = window != 0 && static_cast<uint32_t>(c.len) > window ? c.len - window : 0;
        const uint64_t seed = fresh_seed();
        CAPTURE(seed);
        std::vector<HostBuffer> clean = make_host_args(*k, seed);
        std::vector<HostBuffer> poisoned = clean;
        poison_outside(poisoned, 2, 96, d, lo, static_cast<uint32_t>(c.len));
        const std::vector<HostBuffer> want = run_once(*k, clean);
        const std::vector<HostBuffer> got = run_once(*k, poisoned);
        check_against_reference(*k, clean, want);
        for (size_t i = 0; i < got[kOut].spec.count; ++i) CHECK(std::isfinite(floats(got[kOut])[i]));
        CHECK(got[kOut].bytes == want[kOut].bytes);
    }
}

TEST_CASE("decode_attention: the combine takes many chunks in batches, with tuning knobs and a window") {
    // 19 or 20 working chunks of 32: two full batches of the combine and a partial one; with a
    // window the working range starts past chunk 0 and ends inside a batch.
    struct Case {
        const char* len;
        const char* window;
        const char* unroll;
        const char* ctas;
        const char* variant;
    };
    for (const Case& c : {Case{"600", "0", "0", "0", "online"}, Case{"600", "0", "0", "0", "phased"},
                          Case{"640", "0", "1", "2", "online"}, Case{"629", "300", "2", "0", "phased"},
                          Case{"629", "300", "3", "0", "online"}, Case{"333", "290", "0", "4", "auto"}}) {
        auto k = make({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "640"}, {"len", c.len},
                       {"window", c.window}, {"chunk", "32"}, {"unroll", c.unroll}, {"ctas-per-sm", c.ctas},
                       {"variant", c.variant}});
        CAPTURE(c.len);
        CAPTURE(c.window);
        CAPTURE(c.variant);
        check_poisoned_run(*k);
    }
    auto tuned = make({{"max-seq", "4096"}, {"unroll", "8"}, {"ctas-per-sm", "3"}, {"variant", "online"}});
    CHECK(tuned->name().find("_u8_o3_online") != std::string::npos);
    CHECK(tuned->notes().find("8 loads of K and of V per lane") != std::string::npos);
    auto phased = make({{"max-seq", "4096"}});
    CHECK(phased->name().find("_phased") == std::string::npos);  // the default: not named
    CHECK(phased->notes().find("phased: the chunk's scores") != std::string::npos);
    CHECK(phased->notes().find("4 loads per lane") != std::string::npos);
    CHECK(tuned->notes().find("at least 3 CTAs per SM") != std::string::npos);
}

TEST_CASE("decode_attention: shapes the kernel cannot take are refused with a clear message") {
    CHECK_THROWS_WITH_AS(make({{"q-heads", "32"}, {"kv-heads", "3"}}), doctest::Contains("not a multiple of --kv-heads"),
                         ptxsmith::Error);
    // Shared memory past the static limit: the register variant's scores and sums, the staged
    // variant's K and V rows.
    CHECK_THROWS_WITH_AS(make({{"head-dim", "256"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"chunk", "1024"}, {"variant", "phased"}}),
                         doctest::Contains("shared memory"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"head-dim", "256"}, {"q-heads", "16"}, {"kv-heads", "1"}, {"chunk", "128"}}),
                         doctest::Contains("shared memory"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"chunk", "48"}}), doctest::Contains("multiple of 32"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"q-heads", "32"}, {"kv-heads", "2"}, {"unroll", "2"}}), doctest::Contains("--unroll, --ctas-per-sm, --stages, --min-steps and --variant tune groups of at most 8"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"max-seq", "64"}, {"len", "65"}}), doctest::Contains("larger than --max-seq"),
                         ptxsmith::Error);
}

TEST_CASE("decode_attention: any GQA ratio, head_dim 64, 128 and 256, against the reference") {
    const uint32_t groups[] = {1, 3, 7, 8, 9, 12, 16, 32, 64};
    uint32_t i = 0;
    for (uint32_t group : groups) {
        for (uint32_t head_dim : {64u, 128u, 256u}) {
            ++i;
            // Two KV heads for the smaller groups; lengths, windows and chunks that vary with the case.
            const uint32_t kv_heads = group <= 16 ? 2 : 1;
            const uint32_t max_seq = 70 + 9 * (i % 4);
            const uint32_t len = 1 + (37 * i) % max_seq;
            const uint32_t window = i % 3 == 0 ? 1 + i % 29 : 0;
            ParamValues p{{"head-dim", std::to_string(head_dim)}, {"q-heads", std::to_string(group * kv_heads)},
                          {"kv-heads", std::to_string(kv_heads)}, {"max-seq", std::to_string(max_seq)},
                          {"len", std::to_string(len)}, {"window", std::to_string(window)}};
            if (i % 2 == 0) p.set("chunk", "32");
            // Both variants of the groups up to 8 (phased by default).
            if (group <= 8 && i % 3 == 1) p.set("variant", "online");
            CAPTURE(group);
            CAPTURE(head_dim);
            CAPTURE(len);
            CAPTURE(window);
            auto k = make(p);
            const auto& plan = dynamic_cast<const Instance<DecodeAttention>&>(*k).family().plan;
            CHECK(plan.staged == (group > 8));
            check_poisoned_run(*k);
        }
    }
}

TEST_CASE("decode_attention: large groups stage K and V once, within the static shared memory limit") {
    for (uint32_t head_dim : {64u, 128u, 256u}) {
        for (uint32_t group : {9u, 12u, 16u, 31u, 32u, 33u, 64u, 100u, 128u, 1024u}) {
            CAPTURE(head_dim);
            CAPTURE(group);
            auto k = make({{"head-dim", std::to_string(head_dim)}, {"q-heads", std::to_string(group)}, {"kv-heads", "1"},
                           {"max-seq", "16384"}});
            const DecodeAttentionPlan& plan = dynamic_cast<const Instance<DecodeAttention>&>(*k).family().plan;
            REQUIRE(plan.staged);
            CHECK(plan.heads_per_pass <= 8);
            CHECK(plan.heads_per_warp * plan.warps >= group);
            CHECK(plan.passes * plan.heads_per_pass >= plan.heads_per_warp);
            // One CTA per chunk and KV head for the whole group: no split of the group across CTAs.
            CHECK(k->launch_config().grid[0] == plan.max_splits);
            CHECK(k->launch_config().grid[1] == 1u);
            const ptxgen::Kernel kernel = k->build(ptxgen::Target{});
            CHECK(kernel.static_shared_bytes() <= ptxgen::kMaxStaticSharedBytes);
            // The staged K and V rows of a chunk take most of it.
            CHECK(kernel.static_shared_bytes() >= 4 * plan.chunk * head_dim);
        }
    }
}

TEST_CASE("decode_attention: a large group ignores poison outside the range and replays with the counters reset") {
    for (const char* head_dim : {"64", "256"}) {
        CAPTURE(head_dim);
        const uint32_t d = static_cast<uint32_t>(std::stoi(head_dim));
        auto k = make({{"head-dim", head_dim}, {"q-heads", "40"}, {"kv-heads", "2"}, {"max-seq", "96"}, {"len", "71"},
                       {"window", "50"}, {"chunk", "32"}});
        const uint64_t seed = fresh_seed();
        CAPTURE(seed);
        std::vector<HostBuffer> clean = make_host_args(*k, seed);
        std::vector<HostBuffer> poisoned = clean;
        poison_outside(poisoned, 2, 96, d, 21, 71);
        std::vector<HostBuffer> got = poisoned;
        Session s(*k, got);
        s.launch(got);
        check_against_reference(*k, clean, got);
        const std::vector<uint8_t> first = got[kOut].bytes;
        for (uint32_t i = 0; i < 2; ++i) CHECK(got[kCounters].as<uint32_t>()[i] == 0u);
        std::fill(got[kOut].bytes.begin(), got[kOut].bytes.end(), uint8_t{0xff});
        s.upload(got[kOut], kOut);
        s.launch(got);
        CHECK(got[kOut].bytes == first);
    }
}

TEST_CASE("decode_attention: bench_work counts the attended K and V rows, not the cache") {
    auto k = make({{"head-dim", "128"}, {"q-heads", "32"}, {"kv-heads", "8"}, {"max-seq", "16384"}, {"len", "4096"}});
    std::optional<BenchWork> w = k->bench_work();
    REQUIRE(w);
    CHECK(w->bytes == 2ull * 8 * 4096 * 128 * 2 + 2ull * 32 * 128 * 4 + 4);
    CHECK(w->flops == 0u);
    auto windowed = make({{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"max-seq", "1000"}, {"len", "900"},
                          {"window", "100"}});
    REQUIRE(windowed->bench_work());
    CHECK(windowed->bench_work()->bytes == 2ull * 2 * 100 * 64 * 2 + 2ull * 4 * 64 * 4 + 4);
}

TEST_CASE("decode_attention mma: the split count follows --sms, and the spans cover [lo, len) once") {
    // 132 SMs x 2 CTAs / 8 KV heads: 33 CTAs per KV head (3 would fit an SM at head_dim 128, 4 at
    // 64, but the split is sized for 2).
    auto k = make({{"max-seq", "16384"}, {"variant", "mma"}});
    const auto& a = dynamic_cast<const Instance<DecodeAttention>&>(*k).family();
    CHECK(a.plan.max_splits == 33);
    CHECK(k->launch_config().grid[0] == 33);
    CHECK(k->name().find("_p33_mma") != std::string::npos);
    CHECK(k->notes().find("132 SMs x 2 CTAs per SM / 8 KV heads") != std::string::npos);
    auto small = make({{"max-seq", "16384"}, {"variant", "mma"}, {"sms", "20"}, {"head-dim", "64"}});
    CHECK(dynamic_cast<const Instance<DecodeAttention>&>(*small).family().plan.max_splits == 5);
    // Deeper rings take more shared memory: 2 CTAs per SM with three steps, 1 with four.
    auto three = make({{"max-seq", "16384"}, {"variant", "mma"}, {"stages", "3"}});
    CHECK(dynamic_cast<const Instance<DecodeAttention>&>(*three).family().plan.max_splits == 33);
    CHECK(three->name().find("_p33_n3_mma") != std::string::npos);
    CHECK(three->launch_config().shared_bytes == 3 * 4 * 2 * 16 * 272);
    auto fixed = make({{"max-seq", "16384"}, {"variant", "mma"}, {"chunk", "256"}});
    CHECK(dynamic_cast<const Instance<DecodeAttention>&>(*fixed).family().plan.max_splits == 64);
    // At least 7 steps per working CTA while the length allows.
    auto seven = make({{"max-seq", "16384"}, {"variant", "mma"}, {"min-steps", "7"}});
    const auto& a7 = dynamic_cast<const Instance<DecodeAttention>&>(*seven).family();
    CHECK(seven->name().find("_p33_m7_mma") != std::string::npos);
    for (uint32_t len : {1u, 63u, 64u, 65u, 4096u, 9000u, 16384u}) {
        for (uint32_t lo : {0u, 1u, 17u}) {
            if (lo >= len) continue;
            CAPTURE(len);
            CAPTURE(lo);
            const auto ranges = a.chunk_ranges(lo, len);
            // Every CTA that can have a step of 16 positions has one, and whole steps are dealt
            // evenly: spans differ by at most one step (the last may end mid-step, at len).
            const uint32_t steps = (len - lo + 15) / 16;
            REQUIRE(ranges.size() == std::min(a.plan.max_splits, steps));
            const auto ranges7 = a7.chunk_ranges(lo, len);
            CHECK(ranges7.size() == std::min(a7.plan.max_splits, (steps + 6) / 7));
            CHECK(ranges7.back().last == len);
            uint32_t next = lo, fewest = steps, most = 0;
            for (size_t c = 0; c < ranges.size(); ++c) {
                CHECK(ranges[c].split == c);
                CHECK(ranges[c].first == next);
                CHECK(ranges[c].last > ranges[c].first);
                CHECK((ranges[c].first - lo) % 16 == 0);
                const uint32_t span_steps = (ranges[c].last - ranges[c].first + 15) / 16;
                if (c + 1 < ranges.size()) {
                    CHECK((ranges[c].last - ranges[c].first) % 16 == 0);
                    fewest = std::min(fewest, span_steps);
                    most = std::max(most, span_steps);
                }
                next = ranges[c].last;
            }
            if (ranges.size() > 1) CHECK(most - fewest <= 1);
            CHECK(next == len);
        }
    }
}

TEST_CASE("decode_attention mma: shapes and knobs it cannot take are refused with a clear message") {
    CHECK_THROWS_WITH_AS(make({{"head-dim", "256"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"variant", "mma"}}),
                         doctest::Contains("--variant mma takes --head-dim 64 or 128"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"variant", "mma"}, {"unroll", "2"}}), doctest::Contains("not mma"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"variant", "mma"}, {"chunk", "96"}}), doctest::Contains("multiple of 64"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"variant", "mma"}, {"stages", "1"}}), doctest::Contains("not 2, 3 or 4"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"stages", "3"}}), doctest::Contains("--stages and --min-steps tune the mma variant"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"min-steps", "3"}}), doctest::Contains("--stages and --min-steps tune the mma variant"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"q-heads", "32"}, {"kv-heads", "2"}, {"variant", "mma"}}),
                         doctest::Contains("tune groups of at most 8"), ptxsmith::Error);
}

TEST_CASE("decode_attention mma: poison outside the range never reaches the output; replays reset the counters") {
    // Steps of 16 from lo: the window starts mid-step and the last span ends mid-step; 5 CTAs per
    // KV head (sms 10 x 2 / 4 heads) share len 300's 16 steps (3 or 4 each, so some warps have
    // none), and len 40's 3 steps go to the first three CTAs only.
    auto k = make({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "4"}, {"max-seq", "320"}, {"len", "300"},
                   {"window", "250"}, {"sms", "10"}, {"variant", "mma"}});
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::vector<HostBuffer> clean = make_host_args(*k, seed);
    std::vector<HostBuffer> poisoned = clean;
    poison_outside(poisoned, 4, 320, 64, 50, 300);
    std::vector<HostBuffer> host = poisoned;
    Session s(*k, host);
    s.launch(host);
    check_against_reference(*k, clean, host);
    for (size_t i = 0; i < host[kOut].spec.count; ++i) CHECK(std::isfinite(floats(host[kOut])[i]));
    for (uint32_t i = 0; i < 4; ++i) CHECK(host[kCounters].as<uint32_t>()[i] == 0u);
    // A shorter length on the same scratch (three spans), over clean K and V: rows 0..39 held poison.
    set_len(host[kLen], 40);
    s.upload(host[kLen], kLen);
    host[kK] = clean[kK];
    host[kV] = clean[kV];
    s.upload(host[kK], kK);
    s.upload(host[kV], kV);
    std::vector<HostBuffer> shorter = host;
    s.launch(host);
    check_output_against_reference(*k, shorter, host);
    for (size_t i = 0; i < host[kOut].spec.count; ++i) CHECK(std::isfinite(floats(host[kOut])[i]));
    for (uint32_t i = 0; i < 4; ++i) CHECK(host[kCounters].as<uint32_t>()[i] == 0u);
}

TEST_CASE("decode_attention: the combine's two levels take every group count, leave every counter at zero and replay") {
    // 20 chunks of 32: groups of 8 (3 groups, the last of 4 chunks), of 4 (5) and of 2 (10); a
    // window that leaves the first groups without a working chunk, then a length whose window
    // starts in an earlier group.
    const std::pair<const char*, size_t> cases[] = {{"0", 3}, {"2", 10}, {"4", 5}, {"32", 1}};
    for (const auto& c : cases) {
        const char* group = c.first;  // not structured bindings: CAPTURE's lambda cannot take those in clang
        const size_t groups = c.second;
        CAPTURE(group);
        auto k = make({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "640"}, {"len", "600"},
                       {"window", "100"}, {"chunk", "32"}, {"combine-group", group}});
        const size_t counters = k->args()[kCounters].count;
        CHECK(counters == (groups > 1 ? 2 * (groups + 1) : 2));
        const uint64_t seed = fresh_seed();
        CAPTURE(seed);
        std::vector<HostBuffer> host = make_host_args(*k, seed);
        const std::vector<HostBuffer> inputs = host;
        Session s(*k, host);
        s.launch(host);
        check_against_reference(*k, inputs, host);
        for (size_t i = 0; i < counters; ++i) CHECK(host[kCounters].as<uint32_t>()[i] == 0u);
        set_len(host[kLen], 250);
        s.upload(host[kLen], kLen);
        std::vector<HostBuffer> shorter = host;
        std::fill(host[kOut].bytes.begin(), host[kOut].bytes.end(), uint8_t{0xff});
        s.upload(host[kOut], kOut);
        s.launch(host);
        check_against_reference(*k, shorter, host);
        for (size_t i = 0; i < counters; ++i) CHECK(host[kCounters].as<uint32_t>()[i] == 0u);
    }
    CHECK_THROWS_WITH_AS(make({{"combine-group", "6"}}), doctest::Contains("not a power of two"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(make({{"combine-group", "1"}}), doctest::Contains("not a power of two"), ptxsmith::Error);
}
