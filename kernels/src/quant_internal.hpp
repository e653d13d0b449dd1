// Per-format block codecs behind kernels/quant.hpp. Each works on whole blocks: `blocks` blocks of
// raw bytes (no alignment assumed: blocks are copied out with memcpy) to or from floats.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "kernels/quant.hpp"

namespace kernels::quant::detail {

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t blocks);
void dequantize_q4_1(const uint8_t* src, float* dst, int64_t blocks);
void dequantize_q5_0(const uint8_t* src, float* dst, int64_t blocks);
void dequantize_q8_0(const uint8_t* src, float* dst, int64_t blocks);
void dequantize_q4_k(const uint8_t* src, float* dst, int64_t blocks);
void dequantize_q6_k(const uint8_t* src, float* dst, int64_t blocks);

void quantize_q4_0(const float* src, uint8_t* dst, int64_t blocks);
void quantize_q8_0(const float* src, uint8_t* dst, int64_t blocks);
void quantize_q4_k(const float* src, uint8_t* dst, int64_t blocks);
void quantize_q6_k(const float* src, uint8_t* dst, int64_t blocks);

template <class Block>
Block load_block(const uint8_t* p) {
    Block b;
    std::memcpy(&b, p, sizeof(Block));
    return b;
}

template <class Block>
void store_block(const Block& b, uint8_t* p) {
    std::memcpy(p, &b, sizeof(Block));
}

// Four floats in one SIMD register (GCC/Clang vector extension: SSE on x86-64, NEON on ARM), for
// the quantisers' searches, which run the same few operations over every element many times.
using f32x4 = float __attribute__((vector_size(16)));

inline f32x4 splat(float v) { return f32x4{v, v, v, v}; }

inline f32x4 load4(const float* p) {
    f32x4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline float lane_sum(f32x4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// The integer nearest v (ties to even), clamped to [0, top], as a float: the quantisers' inner
// step. Rounding by adding and subtracting 1.5 * 2^23 (exact for |v| < 2^22; larger values clamp
// anyway) keeps it a pure float computation and defined for every v (NaN goes to 0).
// Callers must not enable value-unsafe math (-ffast-math would fold the rounding away).
inline f32x4 round_clamped(f32x4 v, f32x4 top) {
    const f32x4 magic = splat(12582912.0f);
    const f32x4 r = (v + magic) - magic;
#if defined(__SSE__)
    // maxps/minps return the second operand when either is NaN: the same as the selects below,
    // in one instruction each (compilers emit compare-and-mask sequences for the selects).
    return _mm_min_ps(_mm_max_ps(r, _mm_setzero_ps()), top);
#else
    const f32x4 zero = {};
    const f32x4 pos = r > zero ? r : zero;
    return pos < top ? pos : top;
#endif
}

inline float round_clamped(float v, float top) { return round_clamped(splat(v), splat(top))[0]; }

// The f16 nearest to a non-negative scale, saturating at the largest finite f16 rather than
// overflowing to infinity (a block of huge values then clips instead of turning into inf/NaN).
uint16_t scale_to_f16(float scale);

}  // namespace kernels::quant::detail
