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

inline uint32_t log2_exact(uint32_t v) { return static_cast<uint32_t>(std::countr_zero(v)); }

// The 8 f16 values of a 16-byte load, as f32.
std::vector<ptxgen::Reg<ptxgen::f32>> widen(ptxgen::KernelBuilder& b, const ptxgen::Regs<ptxgen::u32, 4>& packed);

struct CombineInputs {
    ptxgen::Reg<ptxgen::u32> tid, kv, first_split, last_split;  // first/last working chunk
    ptxgen::GlobalPtr out, partials, partials_ml, counters;      // partials_ml: the {m, l} part
    ptxgen::SharedArray last_flag;                                // 4 bytes
    uint32_t head_dim, group, max_splits, threads;
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

// Every CTA arrives on counters[kv] after a barrier; the last to arrive combines the working
// chunks' partials into out for the group and sets the counter back to zero.
void emit_arrive_and_combine(ptxgen::KernelBuilder& b, const CombineInputs& in);

}  // namespace kernels::decode_detail
