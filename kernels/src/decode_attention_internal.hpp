// What decode_attention's two generators share: constants, f16 widening, and the arrival and
// combine that end every CTA (protocol: kernels/decode_attention.hpp).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "ptxgen/builder.hpp"

namespace kernels::decode_detail {

inline constexpr float kLog2e = 1.4426950408889634f;
inline constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
// Chunks whose partials the combine loads at once (16 x 6 registers per thread; the main
// phase's registers are dead by then, and ptxas 13.0 spills none under the 128-register cap).
inline constexpr uint32_t kCombineBatch = 16;
// With more chunks than this per KV head (the default of plan.combine_group) the combine has two
// levels: the last CTA of each group of that many chunks merges them into a group record while
// other CTAs may still work, and the last group merges the group records: two short merges instead
// of ceil(S / kCombineBatch) round trips through all the partials by one CTA.
inline constexpr uint32_t kCombineGroup = 8;
// Groups of the combine's first level (1: a single level).
inline uint32_t combine_groups(uint32_t max_splits, uint32_t group) {
    return max_splits > group ? (max_splits + group - 1) / group : 1;
}

// The mma variant (decode_attention_mma.cpp): positions per warp step, and the dynamic shared
// memory of a CTA (each warp's ring of `stages` steps of K and V rows).
inline constexpr uint32_t kKeyTile = 16;
uint32_t mma_shared_bytes(uint32_t head_dim, uint32_t warps, uint32_t stages);

inline uint32_t log2_exact(uint32_t v) { return static_cast<uint32_t>(std::countr_zero(v)); }

// The 8 f16 values of a 16-byte load, as f32.
std::vector<ptxgen::Reg<ptxgen::f32>> widen(ptxgen::KernelBuilder& b, const ptxgen::Regs<ptxgen::u32, 4>& packed);

struct CombineInputs {
    ptxgen::Reg<ptxgen::u32> tid, kv, split, first_split, last_split;  // first/last working chunk
    ptxgen::GlobalPtr out, partials, partials_ml, counters;             // partials_ml: the {m, l} part
    ptxgen::SharedArray last_flag;                                       // 4 bytes
    uint32_t head_dim, group, max_splits, threads, kv_heads, combine_group;
};

// What every variant starts with: the parameters, the CTA's place and the attended range.
struct Frame {
    ptxgen::GlobalPtr q, k_cache, v_cache, out, partials, partials_ml, counters;
    ptxgen::Reg<ptxgen::u32> tid, lane, warp, split, kv;  // split: the CTA's chunk
    ptxgen::Reg<ptxgen::u32> n, lo;                        // attended positions [lo, n)
    ptxgen::Reg<ptxgen::u32> first_split, last_split;      // the chunks that overlap them
    ptxgen::Pred working;                                  // this CTA's chunk is one of them
};

// Declares the parameters (q, k_cache, v_cache, len, out, partials, counters), the CTA size and
// its .minnctapersm (when ctas_per_sm), waits for the preceding kernel (programmatic dependent
// launch: everything after reads what earlier kernels write), reads len and finds the range.
struct FrameShape {
    uint32_t threads, max_seq, window, chunk, ctas_per_sm;
    uint64_t ml_base_bytes;  // where the {m, l} part of the partials starts
};
Frame begin_frame(ptxgen::KernelBuilder& b, const ptxgen::Target& target, const FrameShape& shape);

// Lane `col`'s 8-dim slices of the q of every head of KV head kv's group ([group][8]), pre-scaled
// by scale * log2(e) so that scores come out in log2 units.
std::vector<std::vector<ptxgen::Reg<ptxgen::f32>>> load_q_slices(ptxgen::KernelBuilder& b, ptxgen::GlobalPtr q,
                                                                 ptxgen::Reg<ptxgen::u32> kv, ptxgen::Reg<ptxgen::u32> col,
                                                                 uint32_t group, uint32_t head_dim, double scale);

// m with -inf replaced by 0: the reference point every 2^(x - m) takes, so that a state that has
// seen only -inf scores never computes -inf - -inf.
ptxgen::Reg<ptxgen::f32> finite_or_zero(ptxgen::KernelBuilder& b, ptxgen::Reg<ptxgen::f32> m);

// The end of the online and mma variants: each of the W warps has left its running softmax of the
// chunk in shared memory (o[G][D] f32 at o_base + w * o_warp_stride, {m, l}[G] at ml_base +
// w * ml_warp_stride); after a barrier thread t merges float4 t, t + 32 W, ... of the group's
// outputs over the warps and writes the chunk's partial (o, and {m, l} once per head).
struct WarpStates {
    ptxgen::Reg<ptxgen::u32> tid, kv, split;
    ptxgen::GlobalPtr partials, partials_ml;
    ptxgen::SharedPtr o_base;
    uint32_t o_warp_stride;
    ptxgen::SharedPtr ml_base;
    uint32_t ml_warp_stride;
    uint32_t head_dim, group, max_splits, warps;
};
void merge_warps_to_partial(ptxgen::KernelBuilder& b, const WarpStates& in);

// Every working CTA arrives after a barrier (the others leave); the last to arrive combines the
// partials into out for the group and sets the counters back to zero. One level (counters[kv]) up
// to kCombineGroup chunks per KV head, two above (protocol: decode_attention.hpp).
void emit_arrive_and_combine(ptxgen::KernelBuilder& b, const CombineInputs& in);

}  // namespace kernels::decode_detail
