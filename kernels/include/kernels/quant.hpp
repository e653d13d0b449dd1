// The GGML quantisation formats on the host: block layouts, dequantisers and quantisers.
//
// One definition serves the kernels' CPU references, the model maker and the CPU forward pass.
// Layouts follow ../shared/formats.md (and ggml's reference code where the two would differ).
//
// Q8_1 activations: ptxsmith's kernels exchange quantised activation vectors as two arrays of
// their own rather than ggml's 36-byte block array, so that the int8 quants are 16-byte aligned
// for vector loads: a vector of k values (k a multiple of 32) is
//     int8  qs[k]             the quants, in element order
//     f16   ds[2 * k / 32]    per 32-block: d = max|x| / 127, then s = d * sum(qs of the block)
// s is "d times the sum of the quants" (ggml's convention), so that a weight block's min term
// uses exactly the values the quants represent. Rounding, shared with the GPU kernels:
// d = amax / 127 (f32 division), q = round-half-even(x * (1 / d)) (0 when d is 0),
// ds = {f16(d), f16(d * sum q)}, each rounded to nearest even.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kernels::quant {

// GGML type ids, as stored in GGUF tensor infos.
enum class GgmlType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q5_0 = 6,
    q5_1 = 7,
    q8_0 = 8,
    q8_1 = 9,
    q2_k = 10,
    q3_k = 11,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    q8_k = 15,
    bf16 = 30,
};

inline constexpr int qk_k = 256;  // elements per K-quant super-block
inline constexpr int qk = 32;     // elements per block of the 32-element formats

struct BlockQ4K {
    uint16_t d;           // f16 super-block scale
    uint16_t dmin;        // f16 super-block min scale
    uint8_t scales[12];   // eight 6-bit scales and eight 6-bit mins, packed
    uint8_t qs[128];      // 4-bit quants
};
static_assert(sizeof(BlockQ4K) == 144);

struct BlockQ6K {
    uint8_t ql[128];      // low 4 bits
    uint8_t qh[64];       // high 2 bits
    int8_t scales[16];    // one per 16 elements
    uint16_t d;           // f16 super-block scale
};
static_assert(sizeof(BlockQ6K) == 210);

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22);

// Facts about a type: its name as GGUF tools print it, elements per block, bytes per block.
struct TypeTraits {
    GgmlType type;
    const char* name;          // "q4_K", "f16", ... (ggml's spelling)
    int block_elements;        // 1 for f32/f16/bf16
    int block_bytes;
    bool dequantizable;        // whether dequantize() supports it
};

// The traits of a known type id; nullptr for an id this project does not know.
const TypeTraits* find_traits(uint32_t type_id);
// The traits of a type; throws ptxsmith::Error for an unknown one.
const TypeTraits& traits(GgmlType t);

// Bytes of a row of `elements` values; throws ptxsmith::Error when elements is not a multiple of
// the block size (the message names the type and the block size).
size_t row_bytes(GgmlType t, int64_t elements);

// Dequantises `n` elements (a multiple of the block size) from `src` to f32. Supports f32, f16,
// bf16, q4_0, q4_1, q5_0, q8_0, q4_k, q6_k; other types throw ptxsmith::Error.
void dequantize(GgmlType t, const void* src, float* dst, int64_t n);

// Quantises `n` f32 values (a multiple of the block size) into `dst` (row_bytes(t, n) bytes).
// Supports f32, f16, bf16, q4_0, q8_0, q4_k, q6_k.
void quantize(GgmlType t, const float* src, void* dst, int64_t n);

// Convenience forms.
std::vector<uint8_t> quantize(GgmlType t, std::span<const float> src);
std::vector<float> dequantize(GgmlType t, std::span<const uint8_t> src, int64_t n);

// Q8_1 activations in ptxsmith's two-array layout (see the top of this file); k a multiple of 32.
void quantize_q8_1(const float* x, int64_t k, int8_t* qs, uint16_t* ds);
// The values the quants represent: qs[i] * d of its block (d read back from f16).
void dequantize_q8_1(const int8_t* qs, const uint16_t* ds, int64_t k, float* dst);

}  // namespace kernels::quant
