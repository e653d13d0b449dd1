// quantize_q8_1, rmsnorm_q8_1 and embed_rows on the interpreter, beyond the registry-wide check:
// bit-exact agreement with the host quantiser and dequantiser on chosen data, all-zero blocks,
// round-half-even ties, every table format, and ids outside the table.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

#include "kernels/check.hpp"
#include "kernels/quant.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "ptxsmith/runtime/device.hpp"

using namespace kernels;
namespace rt = ptxsmith::runtime;

namespace {

uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}

// Runs `k` on a fresh interpreter device with these host buffers; outputs come back into `args`.
void run_on_interpreter(const KernelInstance& k, std::vector<HostBuffer>& args) {
    auto dev = rt::open_interp_device();
    rt::Args launch_args;
    std::vector<std::unique_ptr<rt::DeviceBuffer>> buffers;
    for (const HostBuffer& b : args) {
        buffers.push_back(std::make_unique<rt::DeviceBuffer>(*dev, b.bytes.size(), b.spec.name));
        buffers.back()->upload(b.bytes.data());
        launch_args.ptr(buffers.back()->address());
    }
    const LaunchConfig lc = k.launch_config();
    dev->launch(k.build(dev->info().target()), rt::Dims{lc.grid, lc.block, lc.shared_bytes}, launch_args);
    dev->synchronize();
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i].spec.role == Role::output) buffers[i]->download(args[i].bytes.data());
    }
}

std::unique_ptr<KernelInstance> make(const std::string& family, const ParamValues& params) {
    return instantiate(find_family(family), params);
}

// The kernel's outputs and the reference's, from the same inputs.
struct Outcome {
    std::vector<HostBuffer> got, want;
};

Outcome run_both(const KernelInstance& k, std::vector<HostBuffer> inputs) {
    Outcome o{inputs, inputs};
    k.reference(o.want);
    run_on_interpreter(k, o.got);
    return o;
}

void set_floats(HostBuffer& b, const std::vector<float>& v) {
    REQUIRE(b.bytes.size() == v.size() * 4);
    std::memcpy(b.bytes.data(), v.data(), b.bytes.size());
}

// Values whose blocks span many magnitudes, with an outlier now and then.
std::vector<float> varied_values(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> exponent(-20.0f, 20.0f);
    std::vector<float> v(n);
    for (size_t b = 0; b < n / 32; ++b) {
        const float scale = std::exp2(exponent(rng));
        for (size_t i = 0; i < 32; ++i) v[32 * b + i] = normal(rng) * scale;
        if (b % 3 == 1) v[32 * b + rng() % 32] *= 50.0f;
    }
    return v;
}

}  // namespace

TEST_CASE("quantize_q8_1 equals the host quantiser bit for bit on blocks of every magnitude") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    for (const auto& [rows, k] : {std::pair{4, 256}, std::pair{3, 96}, std::pair{1, 4096}}) {
        auto inst = make("quantize_q8_1", {{"rows", std::to_string(rows)}, {"k", std::to_string(k)}, {"block", "64"}});
        CAPTURE(inst->name());
        std::vector<HostBuffer> args = make_host_args(*inst, seed);
        set_floats(args[0], varied_values(size_t(rows) * k, seed + 1));
        Outcome o = run_both(*inst, args);
        CHECK(o.got[1].bytes == o.want[1].bytes);  // quants
        CHECK(o.got[2].bytes == o.want[2].bytes);  // {d, s} pairs
    }
}

TEST_CASE("quantize_q8_1 rounds halfway products to even, as the host quantiser does") {
    // amax 127 makes d = 1 and 1/d = 1, so each quant is round(x) with x exactly representable.
    std::vector<float> x = {127.0f, 2.5f, -3.5f, 0.5f, -0.5f, 1.5f, -2.5f, 126.5f};
    x.resize(32, 4.5f);
    auto inst = make("quantize_q8_1", {{"rows", "1"}, {"k", "32"}, {"block", "32"}});
    std::vector<HostBuffer> args = make_host_args(*inst, 1);
    set_floats(args[0], x);
    Outcome o = run_both(*inst, args);
    const int8_t* q = o.got[1].as<int8_t>();
    const std::vector<int> want = {127, 2, -4, 0, 0, 2, -2, 126, 4};
    for (size_t i = 0; i < want.size(); ++i) CHECK(q[i] == want[i]);
    CHECK(o.got[1].bytes == o.want[1].bytes);
    CHECK(o.got[2].bytes == o.want[2].bytes);
    CHECK(ptxgen::f16_bits_to_f32(o.got[2].as<uint16_t>()[0]) == 1.0f);
}

TEST_CASE("quantize_q8_1 and rmsnorm_q8_1 write zero quants and zero scales for all-zero rows") {
    for (const std::string family : {"quantize_q8_1", "rmsnorm_q8_1"}) {
        CAPTURE(family);
        auto inst = make(family, {{"rows", "3"}, {"k", "64"}, {"block", "32"}});
        std::vector<HostBuffer> args = make_host_args(*inst, fresh_seed());
        float* x = args[0].as<float>();
        for (int i = 64; i < 128; ++i) x[i] = i % 2 ? 0.0f : -0.0f;  // row 1
        Outcome o = run_both(*inst, args);
        const size_t qs = family == "quantize_q8_1" ? 1 : 2;  // index of q among the arguments
        const int8_t* q = o.got[qs].as<int8_t>();
        const uint16_t* ds = o.got[qs + 1].as<uint16_t>();
        for (int i = 64; i < 128; ++i) CHECK(q[i] == 0);
        for (int i = 4; i < 8; ++i) CHECK(ds[i] == 0);  // d and s of row 1's two blocks: +0
        if (family == "quantize_q8_1") {
            CHECK(o.got[qs].bytes == o.want[qs].bytes);
            CHECK(o.got[qs + 1].bytes == o.want[qs + 1].bytes);
        } else {
            CHECK(compare_outputs(o.got, o.want, inst->tolerance()).pass);
        }
    }
}

TEST_CASE("rmsnorm_q8_1: quants at most one step from the reference, almost all equal") {
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    auto inst = make("rmsnorm_q8_1", {{"rows", "4"}, {"k", "1024"}, {"block", "128"}});
    std::vector<HostBuffer> args = make_host_args(*inst, seed);
    set_floats(args[0], varied_values(4 * 1024, seed + 1));
    Outcome o = run_both(*inst, args);
    const int8_t* got = o.got[2].as<int8_t>();
    const int8_t* want = o.want[2].as<int8_t>();
    int differ = 0;
    for (size_t i = 0; i < 4 * 1024; ++i) {
        CHECK(std::abs(got[i] - want[i]) <= 1);
        differ += got[i] != want[i];
    }
    CHECK(differ <= 40);  // 1%; a few ulps of f32 rarely cross a rounding boundary
    const uint16_t* got_ds = o.got[3].as<uint16_t>();
    const uint16_t* want_ds = o.want[3].as<uint16_t>();
    for (size_t b = 0; b < 4 * 1024 / 32; ++b) {
        CHECK(std::abs(int{got_ds[2 * b]} - int{want_ds[2 * b]}) <= 1);  // d: within one f16 ulp
    }
    CHECK(compare_outputs(o.got, o.want, inst->tolerance()).pass);
}

TEST_CASE("embed_rows: every format at k = 256 and 512 is bit-identical to quant::dequantize") {
    for (const char* type : {"q4_k", "q6_k", "q8_0", "f16"}) {
        for (const char* k : {"256", "512"}) {
            auto inst = make("embed_rows", {{"type", type}, {"k", k}, {"vocab", "5"}, {"tokens", "6"}});
            const uint64_t seed = fresh_seed();
            CAPTURE(inst->name());
            CAPTURE(seed);
            std::vector<HostBuffer> args = make_host_args(*inst, seed);
            // Every row, odd ones included: a q6_k row of 210 bytes starts only 2-byte aligned.
            const int32_t ids[] = {0, 1, 2, 3, 4, 3};
            std::memcpy(args[1].bytes.data(), ids, sizeof ids);
            Outcome o = run_both(*inst, args);
            CHECK(o.got[2].bytes == o.want[2].bytes);
            for (size_t i = 0; i < o.got[2].spec.count; ++i) REQUIRE(std::isfinite(o.got[2].as<float>()[i]));
        }
    }
}

TEST_CASE("embed_rows: an id outside [0, vocab) gives a row of NaN and reads nothing") {
    for (const char* type : {"q4_k", "q6_k", "q8_0", "f16"}) {
        auto inst = make("embed_rows", {{"type", type}, {"k", "256"}, {"vocab", "5"}, {"tokens", "6"}});
        CAPTURE(inst->name());
        std::vector<HostBuffer> args = make_host_args(*inst, fresh_seed());
        const int32_t ids[] = {4, -1, 5, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), 0};
        std::memcpy(args[1].bytes.data(), ids, sizeof ids);
        Outcome o = run_both(*inst, args);  // the interpreter stops on any access outside a buffer
        const float* y = o.got[2].as<float>();
        for (int t = 0; t < 6; ++t) {
            const bool outside = t >= 1 && t <= 4;
            for (int i = 0; i < 256; ++i) {
                REQUIRE(std::isnan(y[t * 256 + i]) == outside);
            }
        }
        // The rows inside the table are the host's.
        CHECK(std::memcmp(y, o.want[2].as<float>(), 256 * 4) == 0);
        CHECK(std::memcmp(y + 5 * 256, o.want[2].as<float>() + 5 * 256, 256 * 4) == 0);
    }
}

TEST_CASE("the small quant families reject shapes they cannot serve, naming the value") {
    auto message = [](const std::string& family, const ParamValues& p) -> std::string {
        try {
            make(family, p);
        } catch (const ptxsmith::Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(message("quantize_q8_1", {{"k", "48"}}).find("--k 48 is not a multiple of 32") != std::string::npos);
    CHECK(message("rmsnorm_q8_1", {{"k", "1000"}}).find("--k 1000 is not a multiple of 32") != std::string::npos);
    CHECK(message("embed_rows", {{"type", "q6_k"}, {"k", "4000"}}).find("--k 4000 is not a multiple of 256") !=
          std::string::npos);
    CHECK(message("embed_rows", {{"type", "f16"}, {"k", "10"}}).find("--k 10 is not a multiple of 4") !=
          std::string::npos);
    CHECK(message("embed_rows", {{"type", "q4_0"}}).find("q4_0") != std::string::npos);
    CHECK(message("rmsnorm_q8_1", {{"rows", "65535"}, {"k", "1048576"}}).find("exceeds 2^32 - 1") != std::string::npos);
    CHECK(message("embed_rows", {{"type", "q8_0"}, {"k", "32"}}).empty());
}
