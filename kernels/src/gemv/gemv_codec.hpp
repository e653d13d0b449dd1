// What a weight format contributes to the shared matrix-vector generator (gemv_build.cpp).
//
// A row of W is cut into units (32 weights for the quantised formats, 8 for f16), numbered 0..units-1
// in memory order; lane l of a warp takes units l, l + 32, l + 64, ... so that a warp's loads of one
// step are contiguous. For one unit the generator asks the codec to
//   1. load_weights   issue the weight loads of that unit of one row (raw words),
//   2. load_inputs    issue the loads of the matching elements of one input vector,
//   3. decode         turn the raw words into quants and scales (once per row, shared by vectors),
//      prepare_inputs whatever of a vector's unit all rows share (once per vector),
//   4. accumulate     add the unit's contribution to the row's dot product with one vector.
// Loads of several units and rows are issued before any decode so that many are in flight.
#pragma once

#include <memory>
#include <vector>

#include "kernels/gemv.hpp"
#include "ptxgen/builder.hpp"

namespace kernels::gemv {

using ptxgen::f32;
using ptxgen::GlobalPtr;
using ptxgen::KernelBuilder;
using ptxgen::Reg;
using ptxgen::s32;
using ptxgen::u32;

// Registers of one unit of one row: raw words as loaded, then what decode makes of them.
struct WeightUnit {
    std::vector<Reg<u32>> raw;
    std::vector<Reg<ptxgen::f16>> h;  // f16 scales as loaded
    std::vector<Reg<u32>> q;    // packed quants ready for dp4a (or for float conversion)
    std::vector<Reg<f32>> f;    // scales (and mins) of the unit
};

// Registers of one unit of one input vector.
struct InputUnit {
    std::vector<Reg<s32>> q;    // Q8_1 quants, four per word (dp4a)
    std::vector<Reg<f32>> f;    // f32 inputs (fma) or Q8_1 block scales (dp4a)
};

// Where the input vectors are: Q8_1 (xq: int8 [batch][k], xds: f16 pairs [batch][k/32]) or f32.
struct Inputs {
    GlobalPtr xq, xds, x;
    uint32_t k = 0;
};

class Codec {
public:
    virtual ~Codec() = default;
    // Options of every weight load (the plan's L1 policy for weights); set by make_codec.
    ptxgen::LdOpts weight_load{.nc = true};
    virtual uint32_t units_per_row() const = 0;
    // `row` points at the first byte of the row; `unit` is the unit index within the row.
    virtual void load_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit, WeightUnit& w) const = 0;
    // prefetch.global.L2 of the lines a unit's load_weights reads (a warp's 32 consecutive units
    // together cover every line of their blocks).
    virtual void prefetch_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit) const = 0;
    virtual void load_inputs(KernelBuilder& b, const Inputs& in, uint32_t vec, Reg<u32> unit, InputUnit& x) const = 0;
    virtual void decode(KernelBuilder& b, Reg<u32> unit, WeightUnit& w) const = 0;
    // Work on one vector's inputs shared by every row (sums of the quants), once per unit.
    virtual void prepare_inputs(KernelBuilder&, InputUnit&) const {}
    virtual void accumulate(KernelBuilder& b, const WeightUnit& w, const InputUnit& x, Reg<f32> acc) const = 0;
};

// The codec of a format and strategy; throws ptxsmith::Error for a pair without one.
std::unique_ptr<Codec> make_codec(quant::GgmlType weights, const GemvPlan& plan, uint32_t k);

// Shared pieces of the codecs (gemv_codec_common.cpp).
// n 32-bit words that start at a 2-byte-aligned address, in two steps so that a software
// pipeline can carry the loads across its back edge and permute only when they have arrived:
// load_words_align2 appends n + 1 loaded words and a selector to `raw` (4-byte loads from the
// aligned address below, the last a 16-bit load, so the read never goes past the last byte asked
// for); assemble_words_align2 makes the n words from raw[first .. first + n] with byte permutes.
void load_words_align2(KernelBuilder& b, GlobalPtr at, uint32_t n, ptxgen::LdOpts opts, std::vector<Reg<u32>>& raw);
std::vector<Reg<u32>> assemble_words_align2(KernelBuilder& b, const std::vector<Reg<u32>>& aligned, size_t first, uint32_t n,
                                            Reg<u32> selector);
// The prmt selector that takes bytes o .. o + 3 out of two aligned words (o = address & 3, 0 or 2).
Reg<u32> align2_selector(KernelBuilder& b, Reg<u32> o);
// Four 8-bit integers (bytes of `word`, unsigned) as exact f32 values, via the 2^23 trick.
std::vector<Reg<f32>> bytes_to_f32(KernelBuilder& b, Reg<u32> word, float bias);
// dp4a over n word pairs: sum of 4n products of u8 weights (or s8 when `signed_weights`) and s8
// inputs; dot_words_from adds them to `acc`.
Reg<s32> dot_words(KernelBuilder& b, const std::vector<Reg<u32>>& w, size_t w_first, const std::vector<Reg<s32>>& x,
                   size_t x_first, size_t n, bool signed_weights);
Reg<s32> dot_words_from(KernelBuilder& b, Reg<s32> acc, const std::vector<Reg<u32>>& w, size_t w_first,
                        const std::vector<Reg<s32>>& x, size_t x_first, size_t n, bool signed_weights);
// Sum of the 4n signed bytes of x's words [first, first + n).
Reg<s32> sum_bytes(KernelBuilder& b, const std::vector<Reg<s32>>& x, size_t first, size_t n);
// The f16 halves of a word as two f32 values {low, high}.
std::pair<Reg<f32>, Reg<f32>> half2_to_f32(KernelBuilder& b, Reg<u32> word);

}  // namespace kernels::gemv
