// decode_attention: one new query token per query head against positions [0, len) of the KV cache
// (flash-decoding), len read from device memory so that a CUDA graph can replay the step.
//
//   q        f32 [q_heads][head_dim], already rotated
//   k_cache  f16 [kv_heads][max_seq][head_dim]   (a weight: rotated past L2 by benchmarks)
//   v_cache  f16 [kv_heads][max_seq][head_dim]   (a weight)
//   len      s32 [1], 1 <= len <= max_seq (clamped to that range on the device)
//   out      f32 [q_heads][head_dim]
//   partials f32 scratch, inout (see below)
//   counters u32 scratch, inout: [kv_heads], or [kv_heads][groups + 1] with two levels of combine
//            (below); zero before the first launch, and each launch leaves them zero
//
// Query head h uses KV head h / group (group = q_heads / kv_heads, any ratio: above 8 the chunk's
// K and V are staged in shared memory, see DecodeAttentionPlan::staged). With a sliding window
// W > 0 only positions [len - W, len) are attended to.
//
// The grid is fixed at build time: max_splits x kv_heads CTAs (plan.chunk positions each). CTA
// (c, kv) reads len, and when chunk c overlaps the attended range it computes the chunk's partial
// for every query head of the group and writes it to `partials`:
//   output part, offset 0:                        o[kv][c][g][d]  (unnormalised: sum of 2^(s - m) v)
//   max/sum part, offset kv_heads*S*group*head_dim: {m, l}[kv][c][g] (m: the chunk's largest score
//                                                 in log2 units, s = q.k * scale * log2(e); l: sum of 2^(s - m))
//   with two levels of combine, then the group records in the same two parts:
//                                                 o[kv][grp][g][d], then {m, l}[kv][grp][g]
// Every working CTA (the others leave at once) then arrives on a counter (atom.add between
// fence.acq_rel.gpu), and the last to arrive merges what the others wrote with the running-max
// method; the arrivals to wait for follow from the working chunks [first, last] of this launch:
//   one level (max_splits <= plan.combine_group): on counters[kv]; the last CTA merges the
//     partials of the chunks in the range, writes out[] for the group and sets the counter to 0;
//   two levels (above): CTA c is in group grp = c / combine_group of its KV head (groups =
//     ceil(max_splits / combine_group)) and arrives on counters[kv][grp]; the group's last working
//     CTA merges the group's working chunks into the group record grp, sets that counter to 0 and
//     arrives on counters[kv][groups]; the last of those merges the records of the groups that
//     hold working chunks into out[] and sets its counter to 0. Groups without working chunks
//     see no arrival.
#pragma once

#include <string>

#include "kernels/family.hpp"

namespace kernels {

// How a shape is generated: chosen in one place (plan_decode_attention), shown by notes().
struct DecodeAttentionPlan {
    uint32_t chunk = 256;        // positions per CTA
    uint32_t max_splits = 1;     // ceil(max_seq / chunk): the grid's x size
    uint32_t warps = 4;          // warps per CTA
    uint32_t lanes_per_row = 16; // head_dim / 8: lanes that share one position (16-byte f16 loads)
    uint32_t rows_per_step = 2;  // positions a warp covers per load instruction (32 / lanes_per_row)
    uint32_t unroll = 4;         // load instructions per lane in a group (two groups in flight)
    uint32_t ctas_per_sm = 0;    // .minnctapersm asked of ptxas (0: none), which caps the registers
    // Groups up to 8: the online variant (K and V loaded together, a running softmax per lane, see
    // decode_attention_online.cpp) or the phased one (all scores of the chunk, its softmax, then V).
    bool online = false;
    // Groups up to 8 at head_dim up to 128: the mma variant (scores and V product on the tensor
    // cores, K and V rows staged in shared memory by cp.async; decode_attention_mma.cpp).
    bool mma = false;
    uint32_t stages = 0;  // mma: steps of 16 positions in each warp's shared-memory ring
    uint32_t min_steps = 1;  // mma: the fewest steps a working CTA takes while the length allows
    // Chunks per group of the combine's first level (a power of two); at least max_splits: one level.
    uint32_t combine_group = 8;
    // Groups above 8: the chunk's K and V are staged in shared memory once, then each warp takes
    // its own query heads over the whole chunk, heads_per_pass at a time (see
    // decode_attention_staged.cpp; unroll is unused there).
    bool staged = false;
    uint32_t heads_per_warp = 0;  // ceil(group / warps)
    uint32_t heads_per_pass = 0;  // at most 8: each lane keeps 8 q values and 8 sums per head
    uint32_t passes = 0;          // ceil(heads_per_warp / heads_per_pass), a device loop when > 1
    std::string why;
};

struct DecodeAttention {
    uint32_t head_dim = 128;
    uint32_t q_heads = 32;
    uint32_t kv_heads = 8;
    uint32_t max_seq = 4096;
    uint32_t len = 4096;      // only what prepare_inputs writes into the len buffer
    uint32_t window = 0;      // 0: no sliding window
    double scale = 0;         // 0: 1 / sqrt(head_dim)
    uint32_t chunk = 0;       // tuning: positions per CTA (0: chosen by the plan)
    uint32_t unroll = 0;      // tuning: loads per lane in a group (0: chosen)
    uint32_t ctas_per_sm = 0; // tuning: CTAs per SM asked of ptxas (0: chosen)
    uint32_t sms = 132;       // the GPU's SMs, which size the mma variant's split count (an H100's by default)
    uint32_t stages = 0;      // tuning, mma: steps in each warp's ring (0: chosen, 2)
    uint32_t min_steps = 0;   // tuning, mma: fewest steps of 16 per working CTA (0: chosen)
    uint32_t combine_group = 0;  // tuning: chunks per group of the combine's first level (0: chosen, 8)
    std::string variant = "auto";  // tuning: auto, online, phased or mma (groups up to 8)
    DecodeAttentionPlan plan;

    static FamilyInfo info();
    static DecodeAttention from(const ParamValues& v);
    uint32_t group() const { return q_heads / kv_heads; }
    double effective_scale() const;
    // Every parameter that changes the code; len is data (read from the len buffer), not shape.
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    // q, k_cache, v_cache, len, out, partials, counters.
    std::vector<ArgSpec> args() const;
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const;
    void reference(std::vector<HostBuffer>& args) const;
    // f32 dot products and sums (in another order than the double reference), ex2.approx.
    double tolerance() const { return 1e-4; }
    std::string notes() const;
    // K and V rows [lo, len) of every KV head, q read and out written once (scratch not counted).
    BenchWork bench_work() const;

    // The chunks that hold the attended positions [lo, n): split c covers [first, last).
    struct ChunkRange {
        uint32_t split, first, last;
    };
    std::vector<ChunkRange> chunk_ranges(uint32_t lo, uint32_t n) const;

private:
    ptxgen::Kernel build_staged(const ptxgen::Target& target) const;  // plan.staged
    ptxgen::Kernel build_online(const ptxgen::Target& target) const;  // plan.online
    ptxgen::Kernel build_mma(const ptxgen::Target& target) const;     // plan.mma
};

// Checks the shape and chooses chunk size, split count and thread tiling; the tuning fields of
// `a` (chunk, unroll, ctas_per_sm) override the choice when nonzero. Throws ptxsmith::Error.
DecodeAttentionPlan plan_decode_attention(const DecodeAttention& a);

}  // namespace kernels
