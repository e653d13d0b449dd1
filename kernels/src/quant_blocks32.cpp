// The 32-element formats: Q4_0, Q4_1, Q5_0 and Q8_0 (formats.md, "Blocks of 32"). In the 4-bit
// ones byte j of qs holds element j (low nibble) and element j + 16 (high nibble); Q5_0's fifth
// bits are bit j of qh read as a little-endian uint32. Values: Q8_0 q * d, Q4_0 (q - 8) * d,
// Q4_1 d * q + m, Q5_0 (q - 16) * d.
//
// The dequantisers evaluate these as gguf's numpy reference does. Each product of an f16 scale
// (11 significant bits) and a quant (at most 8) is exact in f32, so the results agree with gguf
// bit for bit in any order of evaluation.
// The quantisers for Q4_0 and Q8_0 follow ggml's reference arithmetic step by step (it defines
// which bits the formats hold for given floats); tests/oracle checks both against gguf.
#include <bit>
#include <cmath>

#include "ptxgen/half.hpp"
#include "quant_internal.hpp"

// Q4_0's quantiser rounds x * id to f32 before adding 8.5, as the reference does; g++ and clang++
// would otherwise fuse the two into an FMA wherever the target has one, and a value near a
// truncation boundary could land on the other side.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace kernels::quant::detail {

static_assert(std::endian::native == std::endian::little, "GGML blocks are little-endian, as is every host we build for");

using ptxgen::f16_bits_to_f32;
using ptxgen::f32_to_f16_bits;

constexpr int half_block = qk / 2;

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ4_0), dst += qk) {
        const auto blk = load_block<BlockQ4_0>(src);
        const float d = f16_bits_to_f32(blk.d);
        for (int j = 0; j < half_block; ++j) {
            dst[j] = static_cast<float>((blk.qs[j] & 0x0F) - 8) * d;
            dst[j + half_block] = static_cast<float>((blk.qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantize_q4_1(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ4_1), dst += qk) {
        const auto blk = load_block<BlockQ4_1>(src);
        const float d = f16_bits_to_f32(blk.d);
        const float m = f16_bits_to_f32(blk.m);
        for (int j = 0; j < half_block; ++j) {
            dst[j] = d * static_cast<float>(blk.qs[j] & 0x0F) + m;
            dst[j + half_block] = d * static_cast<float>(blk.qs[j] >> 4) + m;
        }
    }
}

void dequantize_q5_0(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ5_0), dst += qk) {
        const auto blk = load_block<BlockQ5_0>(src);
        const float d = f16_bits_to_f32(blk.d);
        uint32_t qh;
        std::memcpy(&qh, blk.qh, 4);
        for (int j = 0; j < half_block; ++j) {
            const int lo = (blk.qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
            const int hi = (blk.qs[j] >> 4) | static_cast<int>(((qh >> (j + half_block)) & 1u) << 4);
            dst[j] = static_cast<float>(lo - 16) * d;
            dst[j + half_block] = static_cast<float>(hi - 16) * d;
        }
    }
}

void dequantize_q8_0(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ8_0), dst += qk) {
        const auto blk = load_block<BlockQ8_0>(src);
        const float d = f16_bits_to_f32(blk.d);
        for (int j = 0; j < qk; ++j) dst[j] = static_cast<float>(blk.qs[j]) * d;
    }
}

// d = (the value of largest magnitude, first of equals) / -8, so that it maps to quant 0 (-8),
// q = min(15, trunc(x / d + 8.5)).
void quantize_q4_0(const float* src, uint8_t* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += qk, dst += sizeof(BlockQ4_0)) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < qk; ++j) {
            if (std::fabs(src[j]) > amax) {
                amax = std::fabs(src[j]);
                max = src[j];
            }
        }
        if (amax == 0.0f) max = src[0];  // an all-zero block keeps the sign of its first zero in d
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ4_0 blk{};
        blk.d = f32_to_f16_bits(d);
        for (int j = 0; j < half_block; ++j) {
            uint8_t q[2];
            for (int h = 0; h < 2; ++h) {
                float v = src[j + h * half_block] * id + 8.5f;
                v = v > 0.0f ? v : 0.0f;
                v = v < 15.0f ? v : 15.0f;
                q[h] = static_cast<uint8_t>(v);  // truncation, as the reference does
            }
            blk.qs[j] = static_cast<uint8_t>(q[0] | (q[1] << 4));
        }
        store_block(blk, dst);
    }
}

// d = max|x| / 127, q = round-half-away-from-zero(x * (1 / d)).
void quantize_q8_0(const float* src, uint8_t* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += qk, dst += sizeof(BlockQ8_0)) {
        float amax = 0.0f;
        for (int j = 0; j < qk; ++j) amax = std::fmax(amax, std::fabs(src[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ8_0 blk{};
        blk.d = f32_to_f16_bits(d);
        for (int j = 0; j < qk; ++j) {
            float q = std::round(src[j] * id);
            q = q > -127.0f ? (q < 127.0f ? q : 127.0f) : -127.0f;  // |x * id| <= 127 up to rounding
            blk.qs[j] = static_cast<int8_t>(q);
        }
        store_block(blk, dst);
    }
}

}  // namespace kernels::quant::detail
