// The GGML quantisation formats on the host (kernels/quant.hpp): the type table and row sizes,
// hand-built blocks dequantised against formats.md's formulas, quantise/dequantise round trips
// with stated error bounds, and ptxsmith's two-array Q8_1 activations.
// (Bit-for-bit agreement with gguf's Python implementation is tests/oracle/.)
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"

using namespace kernels::quant;
using ptxgen::f16_bits_to_f32;
using ptxgen::f32_to_f16_bits;

namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ptxsmith::Error& e) {
        return e.what();
    }
    return "(no error)";
}

template <class Block>
std::vector<float> dequantize_block(GgmlType t, const Block& b) {
    std::vector<float> out(static_cast<size_t>(traits(t).block_elements));
    dequantize(t, &b, out.data(), static_cast<int64_t>(out.size()));
    return out;
}

uint64_t fresh_seed() {
    static std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) | rd();
}

}  // namespace

TEST_CASE("quant: the type table has ggml's block sizes and names") {
    struct Expect {
        uint32_t id;
        const char* name;
        int elements, bytes;
        bool dequantizable;
    };
    const Expect expected[] = {
        {0, "f32", 1, 4, true},        {1, "f16", 1, 2, true},         {2, "q4_0", 32, 18, true},
        {3, "q4_1", 32, 20, true},     {6, "q5_0", 32, 22, true},      {7, "q5_1", 32, 24, false},
        {8, "q8_0", 32, 34, true},     {9, "q8_1", 32, 36, false},     {10, "q2_K", 256, 84, false},
        {11, "q3_K", 256, 110, false}, {12, "q4_K", 256, 144, true},   {13, "q5_K", 256, 176, false},
        {14, "q6_K", 256, 210, true},  {15, "q8_K", 256, 292, false},  {30, "bf16", 1, 2, true},
    };
    for (const Expect& e : expected) {
        CAPTURE(e.id);
        const TypeTraits* tt = find_traits(e.id);
        REQUIRE(tt != nullptr);
        CHECK(static_cast<uint32_t>(tt->type) == e.id);
        CHECK(std::string(tt->name) == e.name);
        CHECK(tt->block_elements == e.elements);
        CHECK(tt->block_bytes == e.bytes);
        CHECK(tt->dequantizable == e.dequantizable);
        CHECK(&traits(tt->type) == tt);
    }
    for (uint32_t unknown : {4u, 5u, 16u, 29u, 31u, 1000u}) CHECK(find_traits(unknown) == nullptr);
    CHECK(error_of([] { traits(static_cast<GgmlType>(5)); }).find("5") != std::string::npos);
    CHECK(sizeof(BlockQ4K) == 144);
    CHECK(sizeof(BlockQ6K) == 210);
}

TEST_CASE("quant: row_bytes counts whole blocks and rejects partial ones and overflow") {
    CHECK(row_bytes(GgmlType::f32, 7) == 28);
    CHECK(row_bytes(GgmlType::bf16, 3) == 6);
    CHECK(row_bytes(GgmlType::q4_0, 64) == 36);
    CHECK(row_bytes(GgmlType::q8_0, 4096) == 128 * 34);
    CHECK(row_bytes(GgmlType::q4_k, 4096) == 16 * 144);
    CHECK(row_bytes(GgmlType::q6_k, 14336) == 56 * 210);
    CHECK(row_bytes(GgmlType::q8_k, 256) == 292);
    CHECK(row_bytes(GgmlType::q4_k, 0) == 0);

    const std::string partial = error_of([] { row_bytes(GgmlType::q4_k, 4000); });
    CHECK(partial.find("4000") != std::string::npos);
    CHECK(partial.find("q4_K") != std::string::npos);
    CHECK(partial.find("256") != std::string::npos);
    CHECK(error_of([] { row_bytes(GgmlType::q8_0, 33); }).find("32") != std::string::npos);
    CHECK(error_of([] { row_bytes(GgmlType::f16, -2); }).find("negative") != std::string::npos);
    // 4 * (2^63 - 1) bytes do not fit in 64 bits.
    const std::string overflow = error_of([] { row_bytes(GgmlType::f32, std::numeric_limits<int64_t>::max()); });
    CHECK(overflow.find("does not fit") != std::string::npos);
    CHECK(error_of([] { row_bytes(static_cast<GgmlType>(99), 32); }).find("99") != std::string::npos);
}

TEST_CASE("quant: unsupported types and bad counts are errors") {
    std::vector<uint8_t> bytes(1024);
    std::vector<float> out(256);
    CHECK(error_of([&] { dequantize(GgmlType::q5_1, bytes.data(), out.data(), 32); }).find("q5_1") !=
          std::string::npos);
    CHECK(error_of([&] { dequantize(GgmlType::q2_k, bytes.data(), out.data(), 256); }).find("q2_K") !=
          std::string::npos);
    CHECK(error_of([&] { quantize(GgmlType::q4_1, out.data(), bytes.data(), 32); }).find("q4_1") !=
          std::string::npos);
    CHECK(error_of([&] { quantize(GgmlType::q4_k, out.data(), bytes.data(), 100); }).find("256") !=
          std::string::npos);
    CHECK(error_of([&] { dequantize(GgmlType::q6_k, std::span<const uint8_t>(bytes.data(), 209), 256); })
              .find("210") != std::string::npos);
}

TEST_CASE("quant: f32, f16 and bf16 convert element by element") {
    const uint16_t halves[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555};
    const float expect_f16[] = {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), -0.0f, f16_bits_to_f32(0x3555)};
    std::vector<float> out(6);
    dequantize(GgmlType::f16, halves, out.data(), 6);
    for (int i = 0; i < 6; ++i) CHECK(std::bit_cast<uint32_t>(out[i]) == std::bit_cast<uint32_t>(expect_f16[i]));

    const uint16_t bhalves[] = {0x3f80, 0xc040, 0x0001};
    dequantize(GgmlType::bf16, bhalves, out.data(), 3);
    CHECK(out[0] == 1.0f);
    CHECK(out[1] == -3.0f);
    CHECK(std::bit_cast<uint32_t>(out[2]) == 0x00010000u);

    const float values[] = {1.0f, -3.0f, 0.1f, 1e-8f, 70000.0f};
    const auto f16 = quantize(GgmlType::f16, values);
    const auto bf16 = quantize(GgmlType::bf16, values);
    const auto f32 = quantize(GgmlType::f32, values);
    for (size_t i = 0; i < 5; ++i) {
        uint16_t h, b;
        std::memcpy(&h, f16.data() + 2 * i, 2);
        std::memcpy(&b, bf16.data() + 2 * i, 2);
        CHECK(h == f32_to_f16_bits(values[i]));
        CHECK(b == ptxgen::f32_to_bf16_bits(values[i]));
    }
    CHECK(dequantize(GgmlType::f32, f32, 5) == std::vector<float>(values, values + 5));
}

TEST_CASE("quant: Q4_K unpacks every scale/min packing case") {
    // Sub-blocks 0..3 take the low 6 bits of scales[j] and scales[j+4]; sub-blocks 4..7 take the low
    // nibbles of scales[j+4] (scale) and high nibbles (min), with the high 2 bits of scales[j-4]
    // (scale) and scales[j] (min) on top. The top bit pairs below are 00, 11, 01, 10 for the scales
    // and 11, 00, 10, 01 for the mins.
    BlockQ4K b{};
    b.d = 0x3800;     // 0.5
    b.dmin = 0x3400;  // 0.25
    const uint8_t packed[12] = {
        0x03,  // 00 000011: sc0 = 3, sc4 high bits 00
        0xC5,  // 11 000101: sc1 = 5, sc5 high bits 11
        0x7F,  // 01 111111: sc2 = 63, sc6 high bits 01
        0x8A,  // 10 001010: sc3 = 10, sc7 high bits 10
        0xC1,  // 11 000001: m0 = 1, m4 high bits 11
        0x07,  // 00 000111: m1 = 7, m5 high bits 00
        0xA0,  // 10 100000: m2 = 32, m6 high bits 10
        0x40,  // 01 000000: m3 = 0, m7 high bits 01
        0x29,  // sc4 low 9, m4 low 2
        0xEF,  // sc5 low 15, m5 low 14
        0x50,  // sc6 low 0, m6 low 5
        0x16,  // sc7 low 6, m7 low 1
    };
    std::memcpy(b.scales, packed, 12);
    const int sc[8] = {3, 5, 63, 10, 9, 3 * 16 + 15, 1 * 16 + 0, 2 * 16 + 6};
    const int m[8] = {1, 7, 32, 0, 3 * 16 + 2, 0 * 16 + 14, 2 * 16 + 5, 1 * 16 + 1};
    auto low = [](int c, int l) { return (l + c) & 15; };
    auto high = [](int c, int l) { return (3 * l + 5 * c + 7) & 15; };
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) b.qs[32 * c + l] = static_cast<uint8_t>(low(c, l) | (high(c, l) << 4));
    }
    const std::vector<float> w = dequantize_block(GgmlType::q4_k, b);
    for (int e = 0; e < 256; ++e) {
        CAPTURE(e);
        const int c = e / 64, l = e % 32, s = e / 32;
        const int q = (e % 64) < 32 ? low(c, l) : high(c, l);
        CHECK(w[e] == (0.5f * static_cast<float>(sc[s])) * static_cast<float>(q) - 0.25f * static_cast<float>(m[s]));
    }
    CHECK(w[0] == -0.25f);                    // q 0, sc 3, m 1
    CHECK(w[32 * 5 + 1] == 122.5f);           // sub-block 5 (high nibble of chunk 2), l = 1: q 4, sc 63, m 14
}

TEST_CASE("quant: Q6_K places every bit of ql and qh, with negative scales") {
    BlockQ6K base{};
    base.d = 0x3400;  // 0.25
    const int8_t scales[16] = {1, -1, 2, -3, 5, -8, 13, -21, 34, -55, 89, -128, 127, 7, -7, 0};
    std::memcpy(base.scales, scales, 16);
    auto value = [&](int e, int q) { return (0.25f * static_cast<float>(scales[e / 16])) * static_cast<float>(q - 32); };
    const std::vector<float> zero = dequantize_block(GgmlType::q6_k, base);
    for (int e = 0; e < 256; ++e) REQUIRE(zero[e] == value(e, 0));

    // Sets one bit, and checks that exactly element `e` changed, to quant q.
    auto check_one = [&](BlockQ6K b, int e, int q) {
        const std::vector<float> w = dequantize_block(GgmlType::q6_k, b);
        for (int i = 0; i < 256; ++i) {
            if (w[i] != (i == e ? value(i, q) : zero[i])) {
                FAIL_CHECK("element " << i << " is " << w[i] << " with the bit for element " << e << " set");
                return;
            }
        }
    };
    int bits = 0;
    for (int i = 0; i < 128; ++i) {  // ql[64h + r]: low nibble -> element 128h + r, high -> 128h + 64 + r
        const int h = i / 64, r = i % 64;
        for (int bit = 0; bit < 8; ++bit, ++bits) {
            BlockQ6K b = base;
            b.ql[i] = static_cast<uint8_t>(1 << bit);
            check_one(b, 128 * h + (bit < 4 ? r : 64 + r), 1 << (bit % 4));
        }
    }
    for (int i = 0; i < 64; ++i) {  // qh[32h + l]: bit pair p -> bits 4, 5 of element 128h + 32p + l
        const int h = i / 32, l = i % 32;
        for (int bit = 0; bit < 8; ++bit, ++bits) {
            BlockQ6K b = base;
            b.qh[i] = static_cast<uint8_t>(1 << bit);
            check_one(b, 128 * h + 32 * (bit / 2) + l, 16 << (bit % 2));
        }
    }
    CHECK(bits == 128 * 8 + 64 * 8);
    BlockQ6K all = base;
    std::memset(all.ql, 0xFF, sizeof all.ql);
    std::memset(all.qh, 0xFF, sizeof all.qh);
    const std::vector<float> top = dequantize_block(GgmlType::q6_k, all);
    CHECK(top[0] == 0.25f * 31);
    CHECK(top[16 * 11 + 3] == (0.25f * -128) * 31);
}

TEST_CASE("quant: Q4_0, Q4_1, Q5_0 and Q8_0 blocks by hand") {
    for (int j = 0; j < 16; ++j) {
        for (int byte = 0; byte < 256; ++byte) {
            BlockQ4_0 b0{};
            b0.d = f32_to_f16_bits(-1.5f);
            b0.qs[j] = static_cast<uint8_t>(byte);
            BlockQ4_1 b1{};
            b1.d = f32_to_f16_bits(0.5f);
            b1.m = f32_to_f16_bits(-2.0f);
            b1.qs[j] = static_cast<uint8_t>(byte);
            const std::vector<float> w0 = dequantize_block(GgmlType::q4_0, b0);
            const std::vector<float> w1 = dequantize_block(GgmlType::q4_1, b1);
            const int lo = byte & 15, hi = byte >> 4;
            for (int e = 0; e < 32; ++e) {
                const int q = e == j ? lo : e == j + 16 ? hi : 0;
                if (w0[e] != -1.5f * static_cast<float>(q - 8) || w1[e] != 0.5f * static_cast<float>(q) - 2.0f) {
                    FAIL_CHECK("byte " << byte << " at " << j << ", element " << e);
                }
            }
        }
    }
    // Q5_0: bit j of qh (read as a little-endian uint32) is the 5th bit of element j.
    for (int j = 0; j < 32; ++j) {
        BlockQ5_0 b{};
        b.d = f32_to_f16_bits(0.25f);
        std::memset(b.qs, 0x53, 16);  // every element's low nibble: 3 for j < 16, 5 for j >= 16
        b.qh[j / 8] = static_cast<uint8_t>(1 << (j % 8));
        const std::vector<float> w = dequantize_block(GgmlType::q5_0, b);
        for (int e = 0; e < 32; ++e) {
            const int q = (e < 16 ? 3 : 5) | (e == j ? 16 : 0);
            CHECK(w[e] == 0.25f * static_cast<float>(q - 16));
        }
    }
    // Q8_0: every int8 value.
    for (int start = -128; start < 128; start += 32) {
        BlockQ8_0 b{};
        b.d = f32_to_f16_bits(0.125f);
        for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<int8_t>(start + i);
        const std::vector<float> w = dequantize_block(GgmlType::q8_0, b);
        for (int i = 0; i < 32; ++i) CHECK(w[i] == 0.125f * static_cast<float>(start + i));
    }
}

namespace {

// Rows of test data: normal values with a random spread, then blocks of special kinds.
enum class Data { normal, outliers, zero_blocks, constant_blocks };

std::vector<float> make_data(Data kind, int64_t n, std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n));
    const float spread = std::exp2(uniform(rng) * 8.0f);
    for (float& v : x) v = normal(rng) * spread;
    if (kind == Data::outliers) {
        for (int64_t i = 0; i + 100 <= n; i += 100) {  // one in every 100 values at +-12 sigma
            x[static_cast<size_t>(i) + rng() % 100] = (rng() % 2 ? 12.0f : -12.0f) * spread;
        }
    } else if (kind == Data::zero_blocks || kind == Data::constant_blocks) {
        for (int64_t b = 0; b < n / 256; b += 2) {  // every other run of 256 (whole K-quant super-blocks)
            const float c = kind == Data::zero_blocks ? 0.0f : uniform(rng) * spread;
            std::fill(x.begin() + b * 256, x.begin() + b * 256 + 256, c);
        }
    }
    return x;
}

double rel_rms_error(const std::vector<float>& x, const std::vector<float>& y) {
    double e = 0, s = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        e += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
        s += static_cast<double>(x[i]) * x[i];
    }
    return s > 0 ? std::sqrt(e / s) : std::sqrt(e);
}

}  // namespace

TEST_CASE("quant: quantise then dequantise stays within each format's error") {
    // Bounds on the RMS error relative to the RMS of the data, measured on these data and set
    // with margin (typical values in brackets, normal data / with outliers). Roughly, the error of
    // a uniform quantiser is step / sqrt(12):
    //   q8_0 (0.0053 / 0.0100): step amax/127 per 32 values;
    //   q4_0 (0.086 / 0.160): 16 levels over [-amax, amax] per 32 values;
    //   q4_k (0.070 / 0.095): 16 levels per 32 values over their own [min, max], 6-bit sub-scales;
    //   q6_k (0.0165 / 0.028): 64 levels per 16 values, 8-bit sub-scales.
    // An outlier (here one value in 100 at 12 sigma) widens the step of every value in its block.
    struct Bound {
        GgmlType type;
        double normal, outliers;
    };
    const Bound bounds[] = {{GgmlType::q8_0, 0.0058, 0.011},
                            {GgmlType::q4_0, 0.092, 0.170},
                            {GgmlType::q4_k, 0.075, 0.102},
                            {GgmlType::q6_k, 0.018, 0.031}};
    const uint64_t seed = fresh_seed();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    constexpr int64_t n = 256 * 64;
    for (const Bound& bound : bounds) {
        const std::string type_name = traits(bound.type).name;
        CAPTURE(type_name);
        for (Data kind : {Data::normal, Data::outliers, Data::zero_blocks, Data::constant_blocks}) {
            CAPTURE(static_cast<int>(kind));
            const std::vector<float> x = make_data(kind, n, rng);
            const std::vector<uint8_t> q = quantize(bound.type, x);
            REQUIRE(q.size() == row_bytes(bound.type, n));
            const std::vector<float> y = dequantize(bound.type, q, n);
            for (float v : y) REQUIRE(std::isfinite(v));
            const double err = rel_rms_error(x, y);
            CHECK(err < (kind == Data::outliers ? bound.outliers : bound.normal));
            if (kind == Data::zero_blocks) {
                for (int64_t b = 0; b < n / 256; b += 2) {
                    for (int64_t i = b * 256; i < b * 256 + 256; ++i) REQUIRE(y[i] == 0.0f);
                }
            }
        }
    }
}

TEST_CASE("quant: Q8_0 is within half a step of each value") {
    // |q d16 - x| <= |q d - x| + |q| |d16 - d| <= d / 2 + 127 d 2^-11, d = amax / 127, d16 = f16(d).
    std::mt19937_64 rng(fresh_seed());
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> x(32 * 200);
    for (float& v : x) v = normal(rng);
    const std::vector<float> y = dequantize(GgmlType::q8_0, quantize(GgmlType::q8_0, x), 32 * 200);
    for (size_t b = 0; b < x.size() / 32; ++b) {
        float amax = 0.0f;
        for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
        const double bound = amax / 127.0 * (0.5 + 127.0 / 2048.0) * (1 + 1e-6);
        for (size_t i = 32 * b; i < 32 * b + 32; ++i) REQUIRE(std::fabs(y[i] - x[i]) <= bound);
    }
}

TEST_CASE("quant: K-quants keep all-positive, all-negative, tiny and huge blocks finite and close") {
    std::mt19937_64 rng(fresh_seed());
    std::uniform_real_distribution<float> uniform(0.5f, 1.0f);
    for (GgmlType t : {GgmlType::q4_k, GgmlType::q6_k}) {
        CAPTURE(traits(t).name);
        for (float scale : {1.0f, -1.0f, 1e-3f, -30.0f, 5e4f}) {
            CAPTURE(scale);
            std::vector<float> x(256);
            for (float& v : x) v = uniform(rng) * scale;
            const std::vector<float> y = dequantize(t, quantize(t, x), 256);
            CHECK(rel_rms_error(x, y) < (t == GgmlType::q4_k ? 0.05 : 0.02));
        }
        std::vector<float> constant(256, -0.75f);
        const std::vector<float> y = dequantize(t, quantize(t, constant), 256);
        CHECK(rel_rms_error(constant, y) < 0.002);
    }
}

TEST_CASE("quant: Q8_1 activations round to nearest even and carry d * sum(q)") {
    // amax 127 makes d exactly 1, so x * (1 / d) is x and the halves show the tie rule.
    std::vector<float> x(64, 0.0f);
    const float firsts[] = {127.0f, 2.5f, 3.5f, -2.5f, -0.5f, 0.5f, 1.49f, -126.5f};
    std::copy(std::begin(firsts), std::end(firsts), x.begin());
    std::vector<int8_t> qs(64);
    std::vector<uint16_t> ds(4);
    quantize_q8_1(x.data(), 64, qs.data(), ds.data());
    const int8_t expect[] = {127, 2, 4, -2, 0, 0, 1, -126};
    int sum = 0;
    for (int i = 0; i < 8; ++i) {
        CHECK(qs[i] == expect[i]);
        sum += expect[i];
    }
    CHECK(ds[0] == f32_to_f16_bits(1.0f));
    CHECK(ds[1] == f32_to_f16_bits(static_cast<float>(sum)));
    for (int i = 32; i < 64; ++i) CHECK(qs[i] == 0);  // an all-zero block: d = 0, quants 0, s = 0
    CHECK(ds[2] == 0);
    CHECK(ds[3] == 0);

    // Random data: the quants are nearest to x / d, the largest is +-127, s is f16(d * sum q),
    // and dequantize_q8_1 gives q * f16(d).
    std::mt19937_64 rng(fresh_seed());
    std::normal_distribution<float> normal(0.0f, 2.0f);
    constexpr int k = 32 * 50;
    std::vector<float> a(k), back(k);
    for (float& v : a) v = normal(rng);
    std::vector<int8_t> q(k);
    std::vector<uint16_t> d(2 * k / 32);
    quantize_q8_1(a.data(), k, q.data(), d.data());
    dequantize_q8_1(q.data(), d.data(), k, back.data());
    for (int b = 0; b < k / 32; ++b) {
        float amax = 0.0f;
        int qsum = 0, qmax = 0;
        for (int i = 32 * b; i < 32 * b + 32; ++i) {
            amax = std::max(amax, std::fabs(a[i]));
            qsum += q[i];
            qmax = std::max(qmax, std::abs(static_cast<int>(q[i])));
        }
        const float db = amax / 127.0f;
        CHECK(d[2 * b] == f32_to_f16_bits(db));
        CHECK(d[2 * b + 1] == f32_to_f16_bits(db * static_cast<float>(qsum)));
        CHECK(qmax == 127);
        for (int i = 32 * b; i < 32 * b + 32; ++i) {
            REQUIRE(std::fabs(static_cast<float>(q[i]) - a[i] / db) <= 0.5f + 1e-4f);
            REQUIRE(back[i] == static_cast<float>(q[i]) * f16_bits_to_f32(d[2 * b]));
        }
    }
    CHECK(error_of([&] { quantize_q8_1(a.data(), 33, q.data(), d.data()); }).find("33") != std::string::npos);
}
