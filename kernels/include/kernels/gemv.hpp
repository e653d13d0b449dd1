// Matrix-vector products with quantised weights: y[v][N] = W[N x K] x[v][K] for v < batch.
//
// W is in GGUF row layout (row r is K / block_elements consecutive blocks). The families
// q4k_gemv, q6k_gemv, q8_0_gemv and f16_gemv share one generator (kernels/src/gemv/); each weight
// format contributes a codec that loads and decodes one "unit" of a row (see gemv_codec.hpp).
//
// Strategies:
//   dp4a  the input vectors arrive as Q8_1 activations (kernels/quant.hpp, two arrays) and each
//         unit is an integer dot product (dp4a) scaled by the block scales;
//   fma   the input vectors arrive as f32 and each weight is dequantised to f32 and multiplied;
//   mma   (Q4_K and Q6_K, several vectors) Q8_1 activations as for dp4a, but each warp multiplies
//         16 or 32 rows by 8 vectors at a time on the tensor cores (mma.m16n8k32, s8 in, s32 out).
// Epilogues:
//   store     y = W x
//   residual  y += W x                    (attention output and FFN down products)
//   swiglu    y = silu(Wg x) * (Wu x)     (gate and up products in one pass; two weight matrices)
// Output: f32, or Q8_1 activations (two arrays) for the product that follows (N a multiple of 32).
#pragma once

#include <string>

#include "kernels/family.hpp"
#include "kernels/quant.hpp"

namespace kernels {

enum class GemvStrategy { automatic, dp4a, fma, mma };
enum class GemvEpilogue { store, residual, swiglu };
enum class GemvOutput { f32, q8_1 };

const char* strategy_name(GemvStrategy s);
const char* epilogue_name(GemvEpilogue e);
// Whether a strategy reads its input vectors as Q8_1 activations (xq, xds) rather than f32 (x).
bool reads_q8_1(GemvStrategy s);

// The most input vectors of one product (the mma strategy; the others take at most 8).
inline constexpr uint32_t kGemvMaxBatch = 64;

struct GemvShape {
    quant::GgmlType weights = quant::GgmlType::q4_k;
    uint32_t n = 4096;   // outputs (rows of W)
    uint32_t k = 4096;   // inputs (columns of W)
    uint32_t batch = 1;  // input vectors, 1..8 (1..kGemvMaxBatch with the mma strategy)
    GemvStrategy strategy = GemvStrategy::automatic;
    GemvEpilogue epilogue = GemvEpilogue::store;
    GemvOutput output = GemvOutput::f32;
    // Tuning overrides for benchmarks (0: plan_gemv chooses).
    uint32_t warps = 0, rows_per_warp = 0, unroll = 0, unit_weights = 0, k_split = 0;
    std::string weight_cache;  // "" (chosen), "normal", "evict_first" or "no_allocate"
    // -1: chosen; else the L2 prefetch size of the weight loads (0, 64, 128, 256 bytes) and the
    // groups of steps whose weights each lane prefetches into L2 ahead of loading them.
    int l2_fetch = -1, prefetch_ahead = -1;
    // -1: chosen; else the CTAs per SM asked of ptxas (.minnctapersm; 0: none), which sets its
    // register budget.
    int ctas_per_sm = -1;
    int stage = -1;  // -1: chosen; 0/1: Q6_K staging through shared memory off/on (units of 32, or mma)
};

// How a product is generated: the strategy and the thread tiling. plan_gemv is the one place
// where they are chosen; `why` says what decided it (shown by `ptxgen inspect`).
struct GemvPlan {
    GemvStrategy strategy = GemvStrategy::dp4a;
    uint32_t warps = 4;          // warps per CTA
    uint32_t rows_per_warp = 1;  // rows each warp computes (its lanes share the activations; mma: 16)
    uint32_t unroll = 2;         // units each lane loads before it computes
    uint32_t unit_weights = 32;  // weights per unit (Q4_K: 32 or 64; Q6_K: 32 or 64; mma: a super-block)
    uint32_t k_split = 1;        // warps sharing each row, each taking every k_split-th group of steps
    // L1 policy of the weight loads: weights stream through once, activations are reused.
    ptxgen::Evict weight_evict = ptxgen::Evict::none;
    // Bytes L2 fetches around a weight load's miss (.L2::128B and the like; 0: the default;
    // 256 becomes 128 below sm_80), and how many groups of steps ahead each lane prefetches its
    // weights into L2 (prefetch.global.L2, dp4a and fma only; 0: none).
    uint32_t l2_fetch = 0, prefetch_ahead = 0;
    // .minnctapersm (dp4a and fma; 0: none): at least this many CTAs per SM, so ptxas keeps to
    // 65536 / (ctas x threads) registers rather than a budget of its own.
    uint32_t ctas_per_sm = 0;
    // Q6_K, units of 32 weights, K % 1024 == 0: each warp reads a step's four blocks (840 bytes of a
    // row) with coalesced 8-byte loads into shared memory, and each lane picks its unit's fields
    // there (gemv/codec_q6k.cpp), instead of 13 scattered 4-byte global loads per unit.
    // The mma strategy, Q6_K, K % 1024 == 0 (--stage 1): each warp copies a step's super-block of
    // its 16 rows into a ring in dynamic shared memory with cp.async (gemv_mma.cpp).
    bool staged = false;
    uint32_t shared_bytes = 0;  // dynamic shared memory per CTA
    std::string why;
};

// Checks the shape (K a multiple of the format's block, batch 1..8 or up to kGemvMaxBatch for mma, the strategy available for the
// format, Q8_1 output needing N % 32 == 0) and chooses the plan. Throws ptxsmith::Error.
GemvPlan plan_gemv(const GemvShape& s);

// One product at one shape: the part of a family that does not depend on the weight format's name.
struct Gemv {
    GemvShape shape;
    GemvPlan plan;

    static Gemv make(const GemvShape& s);
    std::string family_name() const;
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    // Weights (one or two matrices), then the input (xq, xds or x), then the output (y, or yq, yds).
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const;
    double tolerance() const;
    std::string notes() const;
    std::vector<Companion> companions() const;
};

// The registered families: the same Gemv with the weight format fixed.
template <quant::GgmlType W> struct GemvFamily : Gemv {
    static FamilyInfo info();
    static GemvFamily from(const ParamValues& v);
};

using Q4kGemv = GemvFamily<quant::GgmlType::q4_k>;
using Q6kGemv = GemvFamily<quant::GgmlType::q6_k>;
using Q8_0Gemv = GemvFamily<quant::GgmlType::q8_0>;
using F16Gemv = GemvFamily<quant::GgmlType::f16>;

}  // namespace kernels
