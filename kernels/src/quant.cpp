// The type table, row sizes, the dispatch to the per-format codecs, the plain float formats and
// ptxsmith's two-array Q8_1 activations.
#include "kernels/quant.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "quant_internal.hpp"

namespace kernels::quant {

namespace {

using ptxsmith::Error;

// Block sizes as ggml defines them; only the types dequantize() handles are marked so.
constexpr std::array<TypeTraits, 15> type_table{{
    {GgmlType::f32, "f32", 1, 4, true},
    {GgmlType::f16, "f16", 1, 2, true},
    {GgmlType::q4_0, "q4_0", qk, 18, true},
    {GgmlType::q4_1, "q4_1", qk, 20, true},
    {GgmlType::q5_0, "q5_0", qk, 22, true},
    {GgmlType::q5_1, "q5_1", qk, 24, false},
    {GgmlType::q8_0, "q8_0", qk, 34, true},
    {GgmlType::q8_1, "q8_1", qk, 36, false},
    {GgmlType::q2_k, "q2_K", qk_k, 84, false},
    {GgmlType::q3_k, "q3_K", qk_k, 110, false},
    {GgmlType::q4_k, "q4_K", qk_k, 144, true},
    {GgmlType::q5_k, "q5_K", qk_k, 176, false},
    {GgmlType::q6_k, "q6_K", qk_k, 210, true},
    {GgmlType::q8_k, "q8_K", qk_k, 292, false},
    {GgmlType::bf16, "bf16", 1, 2, true},
}};

// Checks n against the type's block size and returns the number of blocks.
int64_t block_count(const TypeTraits& tt, int64_t n, const char* what) {
    if (n < 0) throw Error(fmt::format("cannot {} {} elements of {}: the count is negative", what, n, tt.name));
    if (n % tt.block_elements != 0) {
        throw Error(fmt::format("cannot {} {} elements of {}: the count must be a multiple of its block size {}", what,
                                n, tt.name, tt.block_elements));
    }
    return n / tt.block_elements;
}

void f16_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = ptxgen::f16_bits_to_f32(h);
    }
}

void bf16_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = ptxgen::bf16_bits_to_f32(h);
    }
}

template <uint16_t (*convert)(float)>
void f32_to_16bit(const float* src, uint8_t* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = convert(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
    }
}

}  // namespace

const TypeTraits* find_traits(uint32_t type_id) {
    for (const TypeTraits& tt : type_table) {
        if (static_cast<uint32_t>(tt.type) == type_id) return &tt;
    }
    return nullptr;
}

const TypeTraits& traits(GgmlType t) {
    const TypeTraits* tt = find_traits(static_cast<uint32_t>(t));
    if (tt == nullptr) throw Error(fmt::format("unknown GGML type id {}", static_cast<uint32_t>(t)));
    return *tt;
}

size_t row_bytes(GgmlType t, int64_t elements) {
    const TypeTraits& tt = traits(t);
    const auto blocks = static_cast<uint64_t>(block_count(tt, elements, "size a row of"));
    const auto per_block = static_cast<uint64_t>(tt.block_bytes);
    if (blocks > std::numeric_limits<size_t>::max() / per_block) {
        throw Error(fmt::format("a row of {} elements of {} does not fit in memory ({} blocks of {} bytes)", elements,
                                tt.name, blocks, per_block));
    }
    return static_cast<size_t>(blocks * per_block);
}

void dequantize(GgmlType t, const void* src, float* dst, int64_t n) {
    const TypeTraits& tt = traits(t);
    const int64_t blocks = block_count(tt, n, "dequantize");
    const auto* s = static_cast<const uint8_t*>(src);
    switch (t) {
    case GgmlType::f32: if (n > 0) std::memcpy(dst, s, static_cast<size_t>(n) * 4); return;
    case GgmlType::f16: f16_to_f32(s, dst, n); return;
    case GgmlType::bf16: bf16_to_f32(s, dst, n); return;
    case GgmlType::q4_0: detail::dequantize_q4_0(s, dst, blocks); return;
    case GgmlType::q4_1: detail::dequantize_q4_1(s, dst, blocks); return;
    case GgmlType::q5_0: detail::dequantize_q5_0(s, dst, blocks); return;
    case GgmlType::q8_0: detail::dequantize_q8_0(s, dst, blocks); return;
    case GgmlType::q4_k: detail::dequantize_q4_k(s, dst, blocks); return;
    case GgmlType::q6_k: detail::dequantize_q6_k(s, dst, blocks); return;
    default: break;
    }
    throw Error(fmt::format("cannot dequantize {}: ptxsmith has no dequantiser for that type", tt.name));
}

void quantize(GgmlType t, const float* src, void* dst, int64_t n) {
    const TypeTraits& tt = traits(t);
    const int64_t blocks = block_count(tt, n, "quantize");
    auto* d = static_cast<uint8_t*>(dst);
    switch (t) {
    case GgmlType::f32: if (n > 0) std::memcpy(d, src, static_cast<size_t>(n) * 4); return;
    case GgmlType::f16: f32_to_16bit<ptxgen::f32_to_f16_bits>(src, d, n); return;
    case GgmlType::bf16: f32_to_16bit<ptxgen::f32_to_bf16_bits>(src, d, n); return;
    case GgmlType::q4_0: detail::quantize_q4_0(src, d, blocks); return;
    case GgmlType::q8_0: detail::quantize_q8_0(src, d, blocks); return;
    case GgmlType::q4_k: detail::quantize_q4_k(src, d, blocks); return;
    case GgmlType::q6_k: detail::quantize_q6_k(src, d, blocks); return;
    default: break;
    }
    throw Error(fmt::format("cannot quantize to {}: ptxsmith has no quantiser for that type", tt.name));
}

std::vector<uint8_t> quantize(GgmlType t, std::span<const float> src) {
    const auto n = static_cast<int64_t>(src.size());
    std::vector<uint8_t> out(row_bytes(t, n));
    quantize(t, src.data(), out.data(), n);
    return out;
}

std::vector<float> dequantize(GgmlType t, std::span<const uint8_t> src, int64_t n) {
    const size_t need = row_bytes(t, n);
    if (src.size() < need) {
        throw Error(fmt::format("cannot dequantize {} elements of {}: they need {} bytes, the source holds {}", n,
                                traits(t).name, need, src.size()));
    }
    std::vector<float> out(static_cast<size_t>(n));
    dequantize(t, src.data(), out.data(), n);
    return out;
}

namespace {

void check_q8_1_length(int64_t k, const char* what) {
    if (k < 0 || k % qk != 0) {
        throw Error(fmt::format("cannot {} a Q8_1 vector of {} elements: the length must be a non-negative multiple of {}",
                                what, k, qk));
    }
}

}  // namespace

void quantize_q8_1(const float* x, int64_t k, int8_t* qs, uint16_t* ds) {
    check_q8_1_length(k, "quantize");
    for (int64_t b = 0; b < k / qk; ++b) {
        const float* xb = x + b * qk;
        float amax = 0.0f;
        for (int i = 0; i < qk; ++i) amax = std::max(amax, std::fabs(xb[i]));
        // The GPU kernels compute exactly this: an f32 division, its reciprocal, and round-to-nearest-even.
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int i = 0; i < qk; ++i) {
            const float q = std::nearbyint(xb[i] * id);  // the default rounding mode: nearest, ties to even
            const int qi = static_cast<int>(q > -127.0f ? (q < 127.0f ? q : 127.0f) : -127.0f);
            qs[b * qk + i] = static_cast<int8_t>(qi);
            sum += qi;
        }
        ds[2 * b] = ptxgen::f32_to_f16_bits(d);
        ds[2 * b + 1] = ptxgen::f32_to_f16_bits(d * static_cast<float>(sum));
    }
}

void dequantize_q8_1(const int8_t* qs, const uint16_t* ds, int64_t k, float* dst) {
    check_q8_1_length(k, "dequantize");
    for (int64_t b = 0; b < k / qk; ++b) {
        const float d = ptxgen::f16_bits_to_f32(ds[2 * b]);
        for (int i = 0; i < qk; ++i) dst[b * qk + i] = static_cast<float>(qs[b * qk + i]) * d;
    }
}

uint16_t detail::scale_to_f16(float scale) {
    constexpr float f16_max = 65504.0f;
    return ptxgen::f32_to_f16_bits(scale < f16_max ? scale : f16_max);
}

}  // namespace kernels::quant
