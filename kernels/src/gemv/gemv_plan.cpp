// The one place where a matrix-vector product's strategy and tiling are chosen (plan_gemv), and
// the shape checks that come before it.
#include <fmt/format.h>

#include <numeric>

#include "gemv_mma.hpp"
#include "kernels/gemv.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

const char* strategy_name(GemvStrategy s) {
    switch (s) {
    case GemvStrategy::automatic: return "auto";
    case GemvStrategy::dp4a: return "dp4a";
    case GemvStrategy::fma: return "fma";
    case GemvStrategy::mma: return "mma";
    }
    return "?";
}

const char* epilogue_name(GemvEpilogue e) {
    switch (e) {
    case GemvEpilogue::store: return "store";
    case GemvEpilogue::residual: return "residual";
    case GemvEpilogue::swiglu: return "swiglu";
    }
    return "?";
}

bool reads_q8_1(GemvStrategy s) { return s == GemvStrategy::dp4a || s == GemvStrategy::mma; }

namespace {

// The L2 prefetching knobs (--l2fetch, --ahead) over the plan's own choice.
void apply_prefetch_knobs(const GemvShape& s, GemvPlan& p) {
    if (s.l2_fetch >= 0) {
        if (s.l2_fetch != 0 && s.l2_fetch != 64 && s.l2_fetch != 128 && s.l2_fetch != 256) {
            throw ptxsmith::Error(fmt::format("--l2fetch {}: the L2 prefetch size is 0, 64, 128 or 256 bytes", s.l2_fetch));
        }
        p.l2_fetch = static_cast<uint32_t>(s.l2_fetch);
    }
    if (s.prefetch_ahead >= 0) {
        if (p.strategy == GemvStrategy::mma && s.prefetch_ahead > 0) {
            throw ptxsmith::Error("--ahead: the mma strategy does not prefetch groups ahead (dp4a and fma do)");
        }
        p.prefetch_ahead = static_cast<uint32_t>(s.prefetch_ahead);
    }
    if (p.l2_fetch || p.prefetch_ahead) {
        p.why += fmt::format("; weights: L2 fetch {} bytes, prefetched {} groups ahead", p.l2_fetch, p.prefetch_ahead);
    }
}

void check_shape(const GemvShape& s) {
    const quant::TypeTraits& t = quant::traits(s.weights);
    // Q8_1 activations come in blocks of 32; f16 units are 8 weights.
    const uint32_t k_multiple = std::max<uint32_t>(static_cast<uint32_t>(t.block_elements), s.weights == quant::GgmlType::f16 ? 8 : 32);
    if (s.k == 0 || s.k % k_multiple != 0) {
        throw ptxsmith::Error(fmt::format("{} weights need K (--k) to be a multiple of {}; got {}", t.name, k_multiple, s.k));
    }
    if (s.n == 0) throw ptxsmith::Error("--n (outputs) must be at least 1");
    if (s.batch < 1 || s.batch > kGemvMaxBatch) {
        throw ptxsmith::Error(fmt::format("--batch must be 1..{} (above 8: the mma strategy only); got {}", kGemvMaxBatch, s.batch));
    }
    if (s.output == GemvOutput::q8_1) {
        if (s.n % 32 != 0) throw ptxsmith::Error(fmt::format("Q8_1 output needs N (--n) to be a multiple of 32; got {}", s.n));
        if (s.epilogue == GemvEpilogue::residual) throw ptxsmith::Error("the residual epilogue writes f32 (--out f32)");
    }
    if (uint64_t{s.n} * s.batch >= (uint64_t{1} << 31) || uint64_t{s.k} * s.batch >= (uint64_t{1} << 31)) {
        throw ptxsmith::Error("N x batch and K x batch must stay below 2^31");
    }
}

// The tensor-core strategy (gemv_mma.cpp): a warp computes 16 or 32 rows (one or two m16 tiles)
// for every vector; each row's super-blocks are split over k_split warps.
GemvPlan plan_mma(const GemvShape& s, GemvPlan p) {
    if (s.weights != quant::GgmlType::q4_k && s.weights != quant::GgmlType::q6_k) {
        throw ptxsmith::Error(fmt::format("the mma strategy exists for Q4_K and Q6_K weights only (so far); {} has dp4a and fma",
                                          quant::traits(s.weights).name));
    }
    if (s.weights == quant::GgmlType::q6_k && s.rows_per_warp == 32) {
        throw ptxsmith::Error("mma: Q6_K takes one m16 tile per warp (--rows 16)");
    }
    if (s.unroll || s.unit_weights || s.ctas_per_sm >= 0) {
        throw ptxsmith::Error("the mma strategy steps one super-block at a time: only --rows (16 or 32), --warps, "
                              "--ksplit, --stage and --wcache tune it");
    }
    if (s.rows_per_warp && s.rows_per_warp != 16 && s.rows_per_warp != 32) {
        throw ptxsmith::Error(fmt::format("mma: --rows must be 16 or 32 (one or two m16 tiles); got {}", s.rows_per_warp));
    }
    const uint32_t superblocks = s.k / 256;
    const bool q8_out = s.output == GemvOutput::q8_1;
    // Measured on an H200 (tests/gpu/gemv_mma.sh, rotated weights; docs/benchmarks.md):
    // - Q4_K, 8 vectors: two m16 tiles per warp (they share the activations' loads) with each
    //   row's K range over 8 warps at 4096 rows (4096 x 14336: 16.6 us; one tile: 19.1 us at its
    //   best split of 4); one tile split 8 ways at 1024 rows (4.2 us against 5.6); two tiles split
    //   2 ways for the SwiGLU pair writing Q8_1 (14336 x 4096: 28.3 us against 29.3 unsplit).
    // - Q6_K: one tile (its raw blocks take 33 registers per row), split 4 ways (4096 x 14336,
    //   8 vectors: 31.8 us against 34.1 with 8; 64 vectors: 115.8 against 117.6), 8 at 1024 rows.
    // - Above 8 vectors the accumulators take the registers: one tile, split 4 ways (Q4_K 4096 x
    //   14336, 64 vectors: 78.2 us against 94.2 with 2).
    const bool few_rows = s.n <= 1024;
    const bool wide = s.batch > 8;
    const bool q6k = s.weights == quant::GgmlType::q6_k;
    p.rows_per_warp = s.rows_per_warp ? s.rows_per_warp : few_rows || wide || q6k ? 16 : 32;
    p.unit_weights = 256;
    p.unroll = 1;
    uint32_t split = q8_out ? p.rows_per_warp / 16 : few_rows ? 8 : q6k || wide ? 4 : 8;
    // Q8_1 output: a CTA makes one 32-row block per vector.
    const uint32_t groups = q8_out ? 32 / p.rows_per_warp : 1;
    // --warps without --ksplit: the split follows from the warps (Q8_1 output) or divides them.
    if (s.warps && !s.k_split) split = q8_out ? std::max(1u, s.warps / groups) : std::gcd(split, s.warps);
    split = std::min(s.k_split ? s.k_split : split, superblocks);
    // Slices of a split meet in static shared memory: 4 x tiles x n-tiles x matrices floats per
    // lane and warp, at most 48 KiB with the Q8_1 staging.
    const uint32_t mats = s.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    const uint32_t per_warp_bytes = 4 * (p.rows_per_warp / 16) * ((s.batch + 7) / 8) * mats * 32 * 4;
    const uint32_t staging = q8_out ? s.batch * 32 * 4 : 0;
    auto shared_bytes = [&](uint32_t k_split, uint32_t warps) { return (k_split > 1 ? warps * per_warp_bytes : 0) + staging; };
    while (!s.k_split && !s.warps && split > 1 && shared_bytes(split, groups * split) > 48 * 1024) split /= 2;
    p.k_split = split;
    p.warps = s.warps ? s.warps : groups * p.k_split;
    if (p.warps % p.k_split != 0 || (q8_out && p.warps / p.k_split * p.rows_per_warp != 32)) {
        throw ptxsmith::Error(fmt::format("mma: {} warps per CTA must be a multiple of the K split {}{}", p.warps, p.k_split,
                                          q8_out ? " with 32 rows per CTA for Q8_1 output" : ""));
    }
    if (shared_bytes(p.k_split, p.warps) > 48 * 1024) {
        throw ptxsmith::Error(fmt::format("mma: {} warps splitting K {} ways need {} bytes of shared memory for the partial "
                                          "sums, more than 48 KiB; use fewer warps or a smaller --ksplit",
                                          p.warps, p.k_split, shared_bytes(p.k_split, p.warps)));
    }
    if (p.warps * 32 > 1024) throw ptxsmith::Error(fmt::format("{} warps per CTA is more than 1024 threads", p.warps));
    p.weight_evict = s.weight_cache == "normal"        ? ptxgen::Evict::none
                     : s.weight_cache == "no_allocate" ? ptxgen::Evict::L1_no_allocate
                                                       : ptxgen::Evict::L1_evict_first;
    p.why += fmt::format("; {} warps x {} rows (m16 tiles) x {} vectors, K split {} ways, one super-block per step",
                         p.warps, p.rows_per_warp, s.batch, p.k_split);
    // Staged steps (Q6_K): the warp copies each step's blocks into shared memory with coalesced
    // cp.async, and the lanes read their 2-byte-aligned fields there rather than with 33 scattered
    // global loads per row, each touching 8 rows' cache lines.
    // Staged is the default up to 8 vectors (H100, rotated weights: 4096 x 14336 with 8 vectors
    // 30.10 us against 31.78, the SwiGLU pair 14336 x 4096 with Q8_1 output 63.02 against 68.40;
    // docs/benchmarks.md) where the ring and the static shared memory fit in 48 KB, which every
    // GPU grants without opting in (8 warps, as for 1024 rows, would need 72 KB: more than sm_75
    // has); more vectors are not timed yet.
    const bool can_stage = q6k && s.k % 1024 == 0;
    if (s.stage == 1 && !can_stage) throw ptxsmith::Error("--stage 1 with the mma strategy: staging is for Q6_K with K a multiple of 1024");
    const uint32_t staged_total = gemv::mma::staged_ring_bytes(p.warps, mats) + shared_bytes(p.k_split, p.warps);
    p.staged = s.stage == 1 || (s.stage == -1 && can_stage && s.batch <= 8 && staged_total <= 48 * 1024);
    if (p.staged) {
        p.shared_bytes = gemv::mma::staged_ring_bytes(p.warps, mats);
        p.why += fmt::format("; each step's blocks staged in shared memory by cp.async ({} bytes)", p.shared_bytes);
    }
    apply_prefetch_knobs(s, p);
    return p;
}

}  // namespace

GemvPlan plan_gemv(const GemvShape& s) {
    check_shape(s);
    GemvPlan p;
    const bool f16 = s.weights == quant::GgmlType::f16;
    if (s.strategy == GemvStrategy::automatic) {
        p.strategy = f16 ? GemvStrategy::fma : GemvStrategy::dp4a;
        p.why = f16 ? "f16 weights: fma (no integer form)"
                    : "quantised weights: dp4a on Q8_1 activations (the preceding kernel writes them)";
        // Q4_K with 4..8 vectors: the tensor cores (H200, 8 vectors, rotated weights: 4096 x 14336
        // 16.6 us against 25.0 with dp4a, the SwiGLU pair 14336 x 4096 28.3 against 57.3; with 2
        // vectors dp4a is as fast or faster).
        // Q6_K from 8 vectors (4096 x 14336: 31.8 us against 35.1; 4 vectors not measured).
        const uint32_t mma_from = s.weights == quant::GgmlType::q4_k ? 4 : s.weights == quant::GgmlType::q6_k ? 8 : 0;
        // Tuning knobs only dp4a has (--rows 1..8, --unroll, --unit) keep dp4a.
        const bool dp4a_knobs = (s.rows_per_warp && s.rows_per_warp <= 8) || s.unroll || s.unit_weights;
        if (mma_from && s.batch >= mma_from && !dp4a_knobs) {
            p.strategy = GemvStrategy::mma;
            p.why = fmt::format("{}, {} or more vectors: mma (tensor cores) on Q8_1 activations", quant::traits(s.weights).name, mma_from);
        }
    } else {
        if (f16 && s.strategy == GemvStrategy::dp4a) throw ptxsmith::Error("f16 weights have no dp4a strategy (use --strategy fma)");
        p.strategy = s.strategy;
        p.why = "strategy given";
    }
    if (p.strategy == GemvStrategy::mma) return plan_mma(s, p);
    if (s.batch > 8) {
        throw ptxsmith::Error(fmt::format("--batch {}: the {} strategy takes 1..8 vectors (more: --strategy mma, Q4_K and Q6_K only)",
                                          s.batch, strategy_name(p.strategy)));
    }
    const uint32_t mats = s.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    const bool kquant = s.weights == quant::GgmlType::q4_k || s.weights == quant::GgmlType::q6_k;
    // Measured on an H200 at 4096 x 14336 (tests/gpu/gemv_tune.sh; docs/benchmarks.md). With one
    // vector, Q4_K and Q6_K do best with two rows per warp sharing each activation load (the
    // activations' L1 traffic otherwise exceeds the weights'), one unit at a time, Q4_K with wide
    // units (half the scale decoding per weight); Q8_0 and F16 with each row's K range split over
    // 4 and 2 warps. With several vectors: 4 rows per warp at 3..8 vectors, 2 at 2.
    if (s.batch == 1) {
        p.rows_per_warp = 1;
        switch (s.weights) {
        case quant::GgmlType::q4_k:
            p.unit_weights = 64; p.unroll = 1; p.warps = 4; p.rows_per_warp = 2;
            // Short rows (K at most 4096: Q, K, V and the attention output) leave each warp few
            // steps; two units in flight per lane hide more latency (H200, rotated weights:
            // 4096 x 4096 4.36 us instead of 4.59, 6144 x 4096 6.10 instead of 6.98).
            if (s.k <= 4096) p.unroll = 2;
            break;
        case quant::GgmlType::q6_k:
            p.unit_weights = 32; p.unroll = 1; p.warps = 8; p.rows_per_warp = 2;
            // Few rows (1024 x 4096, a GQA model's K and V): 16 rows per CTA leave most SMs
            // idle, so each row's K range is split over 4 warps of a 4-warp CTA instead (H200:
            // 2.98 us instead of 4.64 us; at 4096 rows the default stays ahead, 6.68 us against
            // 7.70 us).
            if (s.n <= 1024 && s.epilogue != GemvEpilogue::swiglu) { p.warps = 4; p.k_split = 4; }
            // Many short rows (14336 x 4096, the 128256-row output head): CTAs of 4 warps, 8 per
            // SM (below), so the last of several waves leaves less of the GPU idle (H100, rotated:
            // 14336 x 4096 19.05 us, 84.5% of copy, against 21.76 us, 73.9%, with 8 warps;
            // 128256 x 4096 138.1 us against 141.9). At 4096 x 4096 8 warps stay ahead (6.54 us
            // against 6.83).
            else if (s.k <= 4096 && s.n > 4096 && s.epilogue != GemvEpilogue::swiglu) p.warps = 4;
            break;
        case quant::GgmlType::q8_0: p.unit_weights = 32; p.unroll = 1; p.warps = 4; p.k_split = 4; break;
        default: p.unit_weights = 8; p.unroll = 1; p.warps = 8; p.k_split = 2; break;
        }
    } else {
        p.rows_per_warp = s.batch == 2 ? 2 : 4;
        p.unroll = 1;
        p.warps = 2;
        p.unit_weights = kquant ? 32 : s.weights == quant::GgmlType::f16 ? 8 : 32;
    }
    if (mats == 2 && p.unroll > 1) p.unroll /= 2;  // two weight matrices in flight already
    // Tuning overrides (benchmarks).
    if (s.rows_per_warp > 8) throw ptxsmith::Error(fmt::format("--rows {}: at most 8 rows per warp for dp4a and fma", s.rows_per_warp));
    if (s.rows_per_warp) p.rows_per_warp = s.rows_per_warp;
    if (s.unroll) p.unroll = s.unroll;
    if (s.warps) p.warps = s.warps;
    if (s.unit_weights) {
        if (!kquant || (s.unit_weights != 32 && s.unit_weights != 64)) {
            throw ptxsmith::Error(fmt::format("--unit {}: only Q4_K and Q6_K have a choice of unit (32 or 64 weights)", s.unit_weights));
        }
        p.unit_weights = s.unit_weights;
    }
    // Weights pass through L1 once; marking them evict-first keeps the activations, which every
    // warp re-reads, in L1 (1-3% faster on the H200). no_allocate is worse where neighbouring
    // 4-byte loads share a sector (the 2-byte-aligned Q6_K and Q8_0 blocks): up to 4x slower.
    p.weight_evict = ptxgen::Evict::L1_evict_first;
    if (s.weight_cache == "evict_first") p.weight_evict = ptxgen::Evict::L1_evict_first;
    else if (s.weight_cache == "no_allocate") p.weight_evict = ptxgen::Evict::L1_no_allocate;
    else if (s.weight_cache == "normal") p.weight_evict = ptxgen::Evict::none;
    if (s.k_split) p.k_split = s.k_split;
    // A Q8_1 output block is 32 rows of one CTA: its warps are 32 / rows x k_split, at most 32.
    if (s.output == GemvOutput::q8_1 && !s.k_split) p.k_split = std::min(p.k_split, p.rows_per_warp);
    // Every slice of a K split needs a group of steps of its own.
    {
        const uint32_t units = s.k / (s.weights == quant::GgmlType::f16 ? 8u : p.unit_weights);
        const uint32_t groups = units / 32 / std::max(1u, std::min(p.unroll, units / 32));
        if (p.k_split > 1 && groups < p.k_split) p.k_split = std::max(1u, groups);
    }
    if (s.output == GemvOutput::q8_1) {
        // A CTA makes one Q8_1 block (32 rows) per vector.
        if (32 % p.rows_per_warp != 0) throw ptxsmith::Error("Q8_1 output needs rows per warp dividing 32");
        p.warps = 32 / p.rows_per_warp * p.k_split;
    }
    if (p.warps % p.k_split != 0) {
        throw ptxsmith::Error(fmt::format("{} warps per CTA do not split into groups of {} (--ksplit)", p.warps, p.k_split));
    }
    if (p.warps * 32 > 1024) throw ptxsmith::Error(fmt::format("{} warps per CTA is more than 1024 threads", p.warps));
    p.why += fmt::format("; {} warps x {} rows, K split {} ways, {} units of {} weights in flight per lane", p.warps,
                         p.rows_per_warp, p.k_split, p.unroll, p.unit_weights);

    // Q6_K's 210-byte blocks are only 2-byte aligned: read unit by unit, a warp's 4-byte loads
    // scatter over four blocks and cost L1 several wavefronts each. Staged, a step's four blocks
    // arrive in 13 coalesced 8-byte loads per warp and the fields are read from shared memory.
    const bool can_stage = s.weights == quant::GgmlType::q6_k && p.unit_weights == 32 && s.k % 1024 == 0;
    if (s.stage == 1 && !can_stage) {
        throw ptxsmith::Error("--stage 1: staging is for Q6_K with units of 32 weights (--unit 32) and K a multiple of 1024");
    }
    p.staged = s.stage == 1 || (s.stage == -1 && can_stage);
    if (p.staged) p.why += "; each step's four blocks staged in shared memory";
    // Register budget (.minnctapersm): left to itself ptxas picks one of its own (48 registers
    // for the unstaged Q6_K one-vector kernel with ptxas 13.0, 96 with the 580 driver's JIT) and
    // with a small one sinks the next group's loads down to their use, undoing the software
    // pipeline (gemv_build.cpp). By default 512 threads per SM (128 registers); measured on the
    // H100 (rotated weights, docs/benchmarks.md): Q4_K one vector 5 CTAs of 4 warps for K above
    // 4096 (4096 x 14336: 11.40 us against 12.85 with 4) and 8 up to 4096 (14336 x 4096: 12.35
    // against 13.35); Q6_K staged 3 CTAs of 8 warps (17.94 against 18.09 with 2), and 8 of 4
    // warps (many short rows, above); the SwiGLU pair writing Q8_1 (16 warps) 2 (24.92 against
    // 27.53). From 3 vectors the accumulators need more than 128 registers (Q6_K, 4 vectors,
    // spills), so the budget is ptxas's.
    if (s.ctas_per_sm >= 0) {
        p.ctas_per_sm = static_cast<uint32_t>(s.ctas_per_sm);
    } else if (s.batch <= 2) {
        p.ctas_per_sm = std::max(1u, 16 / p.warps);
        if (s.weights == quant::GgmlType::q4_k && s.batch == 1 && p.warps == 4) p.ctas_per_sm = s.k > 4096 ? 5 : 8;
        if (s.weights == quant::GgmlType::q6_k && s.batch == 1 && p.warps == 4 && p.k_split == 1) p.ctas_per_sm = 8;
        if (p.staged && p.warps == 8) p.ctas_per_sm = 3;
        if (mats == 2 && p.warps == 16) p.ctas_per_sm = 2;
    }
    if (p.ctas_per_sm) p.why += fmt::format("; at least {} CTAs per SM asked of ptxas", p.ctas_per_sm);
    apply_prefetch_knobs(s, p);
    return p;
}

}  // namespace kernels
