// decode_attention's host side: parameters, the plan, arguments, valid inputs and the CPU
// reference (softmax attention in double, plus the partials the kernel leaves in its scratch).
// The generator is in decode_attention_build.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "decode_attention_internal.hpp"
#include "kernels/decode_attention.hpp"
#include "kernels/shape.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"
#include "ptxgen/verifier.hpp"

namespace kernels {

using ptxgen::Type;

namespace {

constexpr double kLog2e = 1.4426950408889634;
constexpr uint32_t kDefaultChunk = 256;
// Up to this many query heads per KV head, each lane keeps every head's q slice and sums in
// registers and K and V stream from global memory; above it the staged variant takes over.
constexpr uint32_t kMaxRegisterGroup = 8;
// Staged variant: K plus V of a chunk take at most this much shared memory (chunk 64 at
// head_dim 64 and 128, 32 at 256), leaving room for the per-warp scores.
constexpr uint32_t kStagedKvBytes = 32 * 1024;
constexpr uint32_t kStagedMaxChunk = 64;
// The mma variant: while the length allows, each working CTA takes at least this many steps of 16
// positions, so that short caches use fewer CTAs (fewer partials to merge, longer runs per warp).
constexpr uint32_t kMmaMinSteps = 1;
constexpr uint32_t kMmaCtasPerSm = 2;  // what the mma variant's split count is sized for (plan_mma)

uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

// Groups above kMaxRegisterGroup: the chunk's K and V rows go to shared memory once, then each
// warp runs the scores, softmax and V product for its own query heads over the whole chunk.
DecodeAttentionPlan plan_staged(uint32_t head_dim, uint32_t group, uint32_t max_seq, uint32_t chunk) {
    DecodeAttentionPlan p;
    p.staged = true;
    p.warps = 4;
    p.lanes_per_row = head_dim / 8;
    p.rows_per_step = 32 / p.lanes_per_row;
    p.chunk = chunk != 0 ? chunk : std::min(kStagedMaxChunk, kStagedKvBytes / (4 * head_dim));
    p.max_splits = ceil_div(max_seq, p.chunk);
    p.heads_per_warp = ceil_div(group, p.warps);
    p.heads_per_pass = std::min(kMaxRegisterGroup, p.heads_per_warp);
    p.passes = ceil_div(p.heads_per_warp, p.heads_per_pass);
    p.unroll = 0;
    // Static shared memory: K and V [chunk][head_dim] f16, scores [warps][heads_per_pass][chunk], a flag.
    const uint32_t shared = 4 * p.chunk * head_dim + p.warps * p.heads_per_pass * p.chunk * 4 + 16;
    if (shared > ptxgen::kMaxStaticSharedBytes) {
        throw ptxsmith::Error(fmt::format("decode_attention: chunk {} with head_dim {} stages {} bytes of K and V and "
                                          "scores in shared memory (at most {}); use a smaller --chunk",
                                          p.chunk, head_dim, shared, ptxgen::kMaxStaticSharedBytes));
    }
    const uint64_t partial_bytes = uint64_t{group} * (head_dim + 2) * 4;
    const uint64_t kv_bytes = uint64_t{p.chunk} * head_dim * 4;
    p.why = fmt::format(
        "{} query heads per KV head (more than {}): staged. Chunk {} positions per CTA ({}), so max_splits = "
        "ceil({} / {}) = {} CTAs per KV head; the CTA copies the chunk's K and V rows into shared memory once "
        "({} bytes: every byte read from global memory once for all {} query heads), then warp w takes query heads "
        "[{} w, {} w + {}), {} at a time ({} pass{}, a device loop when more than one): scores, softmax and the V "
        "product for those heads over the whole chunk, {} lanes per position. Cost: each chunk writes partials of "
        "{} bytes, {:.0f}% of the K and V bytes it reads, which the combine reads back. Only positions "
        "[max(0, len - window), len) are read",
        group, kMaxRegisterGroup, p.chunk, chunk != 0 ? "--chunk" : "the most whose K and V fit in 32 KB, at most 64",
        max_seq, p.chunk, p.max_splits, 4 * p.chunk * head_dim, group, p.heads_per_warp, p.heads_per_warp,
        p.heads_per_warp, p.heads_per_pass, p.passes, p.passes == 1 ? "" : "es", p.lanes_per_row, partial_bytes,
        100.0 * static_cast<double>(partial_bytes) / static_cast<double>(kv_bytes));
    return p;
}

// The mma variant: per CTA W warps, each walking its slice of the chunk kKeyTile positions at a
// time through its own shared-memory ring of `stages` steps.
DecodeAttentionPlan plan_mma(const DecodeAttention& a) {
    const uint32_t head_dim = a.head_dim, group = a.group();
    if (head_dim > 128) throw ptxsmith::Error("decode_attention: --variant mma takes --head-dim 64 or 128");
    if (a.unroll) throw ptxsmith::Error("decode_attention: --unroll tunes the phased and online variants, not mma");
    if (a.stages == 1 || a.stages > 4) throw ptxsmith::Error(fmt::format("decode_attention: --stages {} is not 2, 3 or 4", a.stages));
    DecodeAttentionPlan p;
    p.mma = true;
    p.warps = 4;
    p.lanes_per_row = head_dim / 8;
    p.rows_per_step = 32 / p.lanes_per_row;
    p.unroll = 0;
    p.stages = a.stages ? a.stages : 2;
    p.min_steps = a.min_steps ? a.min_steps : kMmaMinSteps;
    const uint32_t unit = p.warps * decode_detail::kKeyTile;  // positions of one step of every warp
    const uint32_t shared = decode_detail::mma_shared_bytes(head_dim, p.warps, p.stages);
    // CTAs of this kernel one SM holds: registers allow 3 at head_dim 128 (ptxas 13.0, sm_90:
    // 157 per thread) and 4 at 64; shared memory (227 KB for a CTA's use, 1 KB of it reserved per
    // CTA) 3 at head_dim 128 with two stages (69,632 bytes each), 2 with three, 1 with four.
    const uint32_t fit = std::max(1u, std::min(head_dim == 128 ? 3u : 4u, 232448u / (shared + 1024)));
    // The split count is sized for at most 2 of them per SM: at 32/8 heads and head_dim 128 on the
    // H100 (2026-12-07, docs/benchmarks.md) 33 CTAs per KV head were faster than the 49 that fill
    // 3 per SM at every length timed (29.29 us against 29.76 at 16384, 17.78 against 18.28 at
    // 8192, 10.04 against 10.88 at 4096): fewer partials, and more steps per warp behind each wait.
    const uint32_t per_sm = std::min(fit, kMmaCtasPerSm);
    if (a.chunk != 0) {
        if (a.chunk % unit != 0) {
            throw ptxsmith::Error(fmt::format("decode_attention: --variant mma needs --chunk a multiple of {} ({} warps x "
                                              "{} positions per step); got {}",
                                              unit, p.warps, decode_detail::kKeyTile, a.chunk));
        }
        p.max_splits = ceil_div(a.max_seq, a.chunk);
    } else {
        p.max_splits = std::clamp(a.sms * per_sm / a.kv_heads, 1u, ceil_div(a.max_seq, unit));
    }
    // The longest span, at len = max_seq: whole steps dealt evenly to the S CTAs.
    p.chunk = ceil_div(ceil_div(a.max_seq, decode_detail::kKeyTile), p.max_splits) * decode_detail::kKeyTile;
    p.ctas_per_sm = a.ctas_per_sm;
    p.why = fmt::format(
        "mma: the group's {} query heads as the rows of m16n8k16 tensor-core products (scores Q K^T and P V, q and p "
        "split into f16 hi + lo); {} CTAs per KV head ({}), to which the attended positions are dealt at run time "
        "in whole steps of {} as evenly as they go (every SM the same work at any length; at most {} positions "
        "per CTA at len = {}); {} warps, each walking a quarter of its CTA's steps {} positions at a time through its own ring of {} steps of K "
        "and V rows in shared memory (cp.async, {} bytes per CTA){}. Only positions [max(0, len - window), len) are "
        "read",
        group, p.max_splits,
        a.chunk != 0 ? fmt::format("ceil({} / --chunk {})", a.max_seq, a.chunk)
                     : fmt::format("{} SMs x {} CTAs per SM / {} KV heads, at most ceil({} / {})", a.sms, per_sm,
                                   a.kv_heads, a.max_seq, unit),
        decode_detail::kKeyTile, p.chunk, a.max_seq, p.warps, decode_detail::kKeyTile, p.stages, shared,
        p.ctas_per_sm ? fmt::format(", at least {} CTAs per SM asked of ptxas", p.ctas_per_sm) : std::string());
    return p;
}

}  // namespace

namespace {

DecodeAttentionPlan plan_variant(const DecodeAttention& a) {
    const uint32_t head_dim = a.head_dim, group = a.group(), max_seq = a.max_seq, chunk = a.chunk;
    if (head_dim != 64 && head_dim != 128 && head_dim != 256) {
        throw ptxsmith::Error(fmt::format("decode_attention: --head-dim {} is not 64, 128 or 256", head_dim));
    }
    if (chunk != 0 && chunk % 32 != 0) {
        throw ptxsmith::Error(fmt::format("decode_attention: --chunk {} is not a multiple of 32", chunk));
    }
    if (group > kMaxRegisterGroup) {
        if (a.unroll || a.ctas_per_sm || a.stages || a.min_steps || a.variant != "auto") {
            throw ptxsmith::Error("decode_attention: --unroll, --ctas-per-sm, --stages, --min-steps and --variant tune groups of at most 8 query heads per KV head");
        }
        return plan_staged(head_dim, group, max_seq, chunk);
    }
    if (a.variant == "mma") return plan_mma(a);
    if (a.stages || a.min_steps) throw ptxsmith::Error("decode_attention: --stages and --min-steps tune the mma variant (--variant mma)");
    DecodeAttentionPlan p;
    p.warps = 4;
    p.lanes_per_row = head_dim / 8;
    p.rows_per_step = 32 / p.lanes_per_row;
    const uint32_t positions_per_step = p.warps * p.rows_per_step;
    p.chunk = chunk != 0 ? chunk : kDefaultChunk;
    p.max_splits = (max_seq + p.chunk - 1) / p.chunk;
    // Phased by default: the variant measured on the GPU (docs/benchmarks.md); online on request
    // until a GPU run has timed it against phased.
    p.online = a.variant == "online";
    // Static shared memory: scores [group][chunk] (phased only), the cross-warp sum
    // [warps][group][head_dim] (and {m, l} [warps][group], online only), a flag.
    const uint32_t shared = (p.online ? p.warps * group * 8 : group * p.chunk * 4) + p.warps * group * head_dim * 4 + 16;
    if (shared > ptxgen::kMaxStaticSharedBytes) {
        throw ptxsmith::Error(fmt::format("decode_attention: chunk {} with {} query heads per KV head and head_dim {} "
                                          "needs {} bytes of shared memory (at most {}); use a smaller --chunk",
                                          p.chunk, group, head_dim, shared, ptxgen::kMaxStaticSharedBytes));
    }
    const uint32_t steps = p.chunk / positions_per_step;  // load instructions per lane and phase
    if (a.unroll > 16) throw ptxsmith::Error(fmt::format("decode_attention: --unroll {} is more than 16", a.unroll));
    // Online: each load of K comes with one of V, so 2 per group keep as many bytes in flight as
    // the phased variant's 4.
    p.unroll = std::min(a.unroll ? a.unroll : p.online ? 2u : 4u, steps);
    // Up to 4 query heads per KV head, 4 CTAs of 128 threads fit an SM when ptxas keeps to 128
    // registers (it takes 168 unasked, so 3 fit): at 16384 positions in chunks of 256 the 512 CTAs
    // of 8 KV heads then run in one wave on 132 SMs instead of 1.3 (H100, see docs/benchmarks.md).
    // q slices and sums of 8 heads need 64 registers each: no cap there. At head_dim 256 the phased
    // variant spills under the cap at groups 1 and 2 (ptxas 13.0, sm_90): no cap there either.
    p.ctas_per_sm = a.ctas_per_sm ? a.ctas_per_sm : group <= 4 && head_dim <= 128 ? 4 : 0;
    p.why = fmt::format(
        "{}; chunk {} positions per CTA ({}), so max_splits = ceil({} / {}) = {} CTAs per KV head; "
        "{} warps, {} lanes per position (16-byte f16 loads), {} positions per warp and load, "
        "{} loads{} per lane in each of two groups in flight{}. Only positions [max(0, len - window), len) "
        "are read",
        p.online ? "online: K and V loaded together, a running softmax per lane, rows and warps merged at the end"
                 : "phased: the chunk's scores to shared memory, its softmax, then the V product",
        p.chunk, chunk != 0 ? "--chunk" : "fixed: enough CTAs to fill the GPU from len ~4096, few partials to combine",
        max_seq, p.chunk, p.max_splits, p.warps, p.lanes_per_row, p.rows_per_step, p.unroll, p.online ? " of K and of V" : "",
        p.ctas_per_sm ? fmt::format(", at least {} CTAs per SM asked of ptxas", p.ctas_per_sm) : std::string());
    return p;
}

}  // namespace

DecodeAttentionPlan plan_decode_attention(const DecodeAttention& a) {
    if (a.combine_group != 0 && (a.combine_group < 2 || !std::has_single_bit(a.combine_group))) {
        throw ptxsmith::Error(fmt::format("decode_attention: --combine-group {} is not a power of two from 2", a.combine_group));
    }
    DecodeAttentionPlan p = plan_variant(a);
    p.combine_group = a.combine_group ? a.combine_group : decode_detail::kCombineGroup;
    const uint32_t groups = decode_detail::combine_groups(p.max_splits, p.combine_group);
    p.why += groups > 1 ? fmt::format("; the combine has two levels: the last CTA of each group of {} chunks merges their "
                                      "partials into a group record, the last of the {} groups merges those",
                                      p.combine_group, groups)
                        : fmt::format("; the last CTA merges the partials, {} per round trip", decode_detail::kCombineBatch);
    return p;
}

FamilyInfo DecodeAttention::info() {
    auto shape = [](std::initializer_list<std::pair<const std::string, std::string>> v) { return ParamValues(v); };
    return {"decode_attention",
            "one query token per head against KV-cache positions [0, len) (len in device memory), f16 cache, "
            "GQA, sliding window, split across CTAs and combined by the last CTA to finish",
            {ParamSpec{"head-dim", ParamKind::choice, "elements per head", "128", 0, 0, {"64", "128", "256"}},
             ParamSpec{"q-heads", ParamKind::integer, "query heads", "32", 1, 1024, {}},
             ParamSpec{"kv-heads", ParamKind::integer, "KV heads (divides --q-heads)", "8", 1, 1024, {}},
             ParamSpec{"max-seq", ParamKind::integer, "positions in the cache (baked in)", "4096", 1, 1 << 20, {}},
             ParamSpec{"len", ParamKind::integer,
                       "cache length written into the len buffer by tests and benchmarks (0: --max-seq); "
                       "the kernel reads it from memory",
                       "0", 0, 1 << 20, {}},
             ParamSpec{"window", ParamKind::integer, "sliding window: attend to the last W positions (0: off)", "0", 0,
                       1 << 20, {}},
             ParamSpec{"scale", ParamKind::real, "score scale (0: 1 / sqrt(head_dim))", "0", 0, 1e4, {}},
             ParamSpec{"chunk", ParamKind::integer, "tuning: positions per CTA, a multiple of 32 (0: chosen)", "0", 0,
                       1024, {}},
             ParamSpec{"unroll", ParamKind::integer, "tuning: 16-byte loads per lane in a group, two groups in flight (0: chosen)",
                       "0", 0, 16, {}},
             ParamSpec{"ctas-per-sm", ParamKind::integer, "tuning: CTAs per SM asked of ptxas, capping registers (0: chosen)",
                       "0", 0, 32, {}},
             ParamSpec{"sms", ParamKind::integer,
                       "SMs of the GPU the mma variant's split count is sized for (the model runner passes its "
                       "device's; 132: an H100 SXM)",
                       "132", 1, 1024, {}},
             ParamSpec{"stages", ParamKind::integer,
                       "tuning, mma variant: steps of 16 positions in each warp's shared-memory ring, 2 to 4 (0: 2)", "0",
                       0, 4, {}},
             ParamSpec{"min-steps", ParamKind::integer,
                       "tuning, mma variant: the fewest steps of 16 positions a working CTA takes while the length "
                       "allows (0: chosen)",
                       "0", 0, 4096, {}},
             ParamSpec{"combine-group", ParamKind::integer,
                       "tuning: chunks whose partials the last of them merges first, a power of two (0: chosen, 8); "
                       "as many as the CTAs per KV head: one level of combine",
                       "0", 0, 1024, {}},
             ParamSpec{"variant", ParamKind::choice,
                       "tuning, groups up to 8: online (K and V together, a running softmax per lane), mma (tensor "
                       "cores, K and V staged by cp.async; head_dim up to 128) or phased "
                       "(the chunk's scores, its softmax, then V)",
                       "auto", 0, 0, {"auto", "online", "phased", "mma"}}},
            {shape({{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "4"}, {"max-seq", "64"}, {"len", "1"},
                    {"chunk", "32"}}),
             shape({{"head-dim", "128"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "64"}, {"len", "37"},
                    {"chunk", "32"}}),
             shape({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"max-seq", "100"}, {"len", "64"},
                    {"chunk", "32"}, {"scale", "0.3"}}),
             shape({{"head-dim", "128"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"max-seq", "96"}, {"len", "95"},
                    {"window", "40"}, {"chunk", "32"}}),
             shape({{"head-dim", "128"}, {"q-heads", "4"}, {"kv-heads", "4"}, {"max-seq", "64"}, {"len", "50"}}),
             shape({{"head-dim", "64"}, {"q-heads", "12"}, {"kv-heads", "3"}, {"max-seq", "200"}, {"len", "33"},
                    {"window", "7"}, {"chunk", "32"}}),
             shape({{"head-dim", "64"}, {"q-heads", "6"}, {"kv-heads", "2"}, {"max-seq", "64"}, {"len", "63"},
                    {"window", "100"}, {"chunk", "64"}}),
             shape({{"head-dim", "256"}, {"q-heads", "2"}, {"kv-heads", "1"}, {"max-seq", "48"}, {"len", "48"},
                    {"chunk", "32"}}),
             // Twenty chunks: the combine's two levels, the first group wholly outside the window.
             shape({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "640"}, {"len", "600"},
                    {"window", "100"}, {"chunk", "32"}}),
             // The online variant: ten chunks (two groups of the combine) under a window; head_dim 256.
             shape({{"head-dim", "128"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "300"}, {"len", "290"},
                    {"window", "200"}, {"chunk", "32"}, {"variant", "online"}}),
             shape({{"head-dim", "256"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"max-seq", "64"}, {"len", "50"},
                    {"variant", "online"}}),
             // The mma variant: several chunks and a partial last one, a window starting mid-step, a
             // group that is not a power of two, len 1.
             shape({{"head-dim", "128"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "200"}, {"len", "137"},
                    {"chunk", "64"}, {"variant", "mma"}}),
             shape({{"head-dim", "64"}, {"q-heads", "12"}, {"kv-heads", "3"}, {"max-seq", "200"}, {"len", "70"},
                    {"window", "7"}, {"chunk", "64"}, {"variant", "mma"}}),
             shape({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"max-seq", "64"}, {"len", "1"},
                    {"variant", "mma"}}),
             shape({{"head-dim", "128"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"max-seq", "300"}, {"len", "290"},
                    {"sms", "4"}, {"stages", "3"}, {"variant", "mma"}}),
             // 63 steps over at most 10 CTAs of at least 7 steps each (--min-steps): 9 CTAs work.
             shape({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "1000"}, {"len", "999"},
                    {"sms", "10"}, {"min-steps", "7"}, {"variant", "mma"}}),
             // 44 steps in one CTA per KV head, 11 per warp: every ring slot refilled.
             shape({{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"max-seq", "1200"}, {"len", "1111"},
                    {"window", "700"}, {"sms", "1"}, {"variant", "mma"}}),
             shape({{"head-dim", "64"}, {"q-heads", "6"}, {"kv-heads", "2"}, {"max-seq", "1200"}, {"len", "1111"},
                    {"window", "700"}, {"sms", "1"}, {"stages", "3"}, {"variant", "mma"}}),
             // Groups above 8 (the staged variant): one pass per warp, several passes, idle warps.
             shape({{"head-dim", "64"}, {"q-heads", "24"}, {"kv-heads", "2"}, {"max-seq", "100"}, {"len", "77"},
                    {"chunk", "32"}}),
             shape({{"head-dim", "128"}, {"q-heads", "16"}, {"kv-heads", "1"}, {"max-seq", "64"}, {"len", "50"}}),
             shape({{"head-dim", "128"}, {"q-heads", "9"}, {"kv-heads", "1"}, {"max-seq", "40"}, {"len", "40"},
                    {"window", "25"}, {"chunk", "32"}}),
             shape({{"head-dim", "256"}, {"q-heads", "32"}, {"kv-heads", "2"}, {"max-seq", "70"}, {"len", "61"}}),
             shape({{"head-dim", "64"}, {"q-heads", "64"}, {"kv-heads", "1"}, {"max-seq", "64"}, {"len", "45"},
                    {"chunk", "32"}, {"scale", "0.2"}})},
            {shape({{"max-seq", "16384"}}),
             shape({{"max-seq", "16384"}, {"len", "9000"}, {"variant", "online"}}),
             shape({{"max-seq", "16384"}, {"len", "16384"}, {"variant", "mma"}}),
             shape({{"max-seq", "8192"}, {"len", "5000"}, {"window", "3000"}, {"variant", "mma"}, {"chunk", "128"}}),
             shape({{"head-dim", "64"}, {"q-heads", "28"}, {"kv-heads", "4"}, {"max-seq", "4096"}, {"len", "4000"},
                    {"variant", "mma"}}),
             shape({{"max-seq", "4096"}}),
             shape({{"max-seq", "16384"}, {"len", "9000"}}),
             shape({{"max-seq", "8192"}, {"window", "4096"}}),
             shape({{"head-dim", "64"}, {"q-heads", "32"}, {"kv-heads", "4"}, {"max-seq", "8192"}, {"len", "5000"}}),
             shape({{"head-dim", "256"}, {"q-heads", "16"}, {"kv-heads", "16"}, {"max-seq", "4096"}, {"len", "3000"}}),
             shape({{"q-heads", "28"}, {"kv-heads", "4"}, {"max-seq", "32768"}, {"len", "20000"}}),
             shape({{"q-heads", "64"}, {"kv-heads", "4"}, {"max-seq", "8192"}, {"len", "5000"}}),
             shape({{"head-dim", "256"}, {"q-heads", "64"}, {"kv-heads", "1"}, {"max-seq", "4096"}, {"len", "4000"},
                    {"window", "1000"}})}};
}

DecodeAttention DecodeAttention::from(const ParamValues& v) {
    DecodeAttention a;
    a.head_dim = static_cast<uint32_t>(v.integer("head-dim"));
    a.q_heads = static_cast<uint32_t>(v.integer("q-heads"));
    a.kv_heads = static_cast<uint32_t>(v.integer("kv-heads"));
    a.max_seq = static_cast<uint32_t>(v.integer("max-seq"));
    const int64_t len = v.integer("len");
    a.len = len == 0 ? a.max_seq : static_cast<uint32_t>(len);
    a.window = static_cast<uint32_t>(v.integer("window"));
    a.scale = v.real("scale");
    a.chunk = static_cast<uint32_t>(v.integer("chunk"));
    a.unroll = static_cast<uint32_t>(v.integer("unroll"));
    a.ctas_per_sm = static_cast<uint32_t>(v.integer("ctas-per-sm"));
    a.variant = v.text("variant");
    a.sms = static_cast<uint32_t>(v.integer("sms"));
    a.stages = static_cast<uint32_t>(v.integer("stages"));
    a.combine_group = static_cast<uint32_t>(v.integer("combine-group"));
    a.min_steps = static_cast<uint32_t>(v.integer("min-steps"));
    if (a.q_heads % a.kv_heads != 0) {
        throw ptxsmith::Error(fmt::format("decode_attention: --q-heads {} is not a multiple of --kv-heads {}", a.q_heads,
                                          a.kv_heads));
    }
    if (a.len > a.max_seq) {
        throw ptxsmith::Error(fmt::format("decode_attention: --len {} is larger than --max-seq {}", a.len, a.max_seq));
    }
    a.plan = plan_decode_attention(a);
    return a;
}

double DecodeAttention::effective_scale() const {
    return scale != 0 ? scale : 1.0 / std::sqrt(static_cast<double>(head_dim));
}

std::string DecodeAttention::name() const {
    // The plan follows from the shape; tuning knobs that override it are named.
    return fmt::format("decode_attention_d{}_q{}_kv{}_s{}_w{}_sc{}_c{}{}{}{}{}{}", head_dim, q_heads, kv_heads, max_seq, window,
                       name_number(scale), plan.chunk,
                       plan.mma ? fmt::format("_p{}{}{}", plan.max_splits, stages ? fmt::format("_n{}", stages) : std::string(),
                                              min_steps ? fmt::format("_m{}", min_steps) : std::string())
                                : std::string(),
                       unroll ? fmt::format("_u{}", unroll) : std::string(),
                       ctas_per_sm ? fmt::format("_o{}", ctas_per_sm) : std::string(),
                       combine_group ? fmt::format("_g{}", combine_group) : std::string(),
                       variant != "auto" ? "_" + variant : std::string());
}

LaunchConfig DecodeAttention::launch_config() const {
    LaunchConfig c;
    c.grid = {plan.max_splits, kv_heads, 1};
    c.block = {32 * plan.warps, 1, 1};
    if (plan.mma) c.shared_bytes = decode_detail::mma_shared_bytes(head_dim, plan.warps, plan.stages);
    return c;
}

std::vector<ArgSpec> DecodeAttention::args() const {
    const size_t cache = size_t{kv_heads} * max_seq * head_dim;
    // Two levels of combine add a record per group of chunks, and a counter per group.
    const uint32_t groups = decode_detail::combine_groups(plan.max_splits, plan.combine_group);
    const size_t records = plan.max_splits + (groups > 1 ? groups : 0);
    const size_t partials = size_t{kv_heads} * records * group() * (head_dim + 2);
    return {{"q", Role::input, Type::f32, size_t{q_heads} * head_dim},
            {"k_cache", Role::input, Type::f16, cache, true},
            {"v_cache", Role::input, Type::f16, cache, true},
            {"len", Role::input, Type::s32, 1},
            {"out", Role::output, Type::f32, size_t{q_heads} * head_dim},
            {"partials", Role::inout, Type::f32, partials},
            {"counters", Role::inout, Type::u32, size_t{kv_heads} * (groups > 1 ? groups + 1 : 1)}};
}

void DecodeAttention::prepare_inputs(std::vector<HostBuffer>& args, uint64_t) const {
    // q and the caches keep their random values in [-1, 1]; the partials their random bytes (the
    // kernel overwrites the chunks it works on, the reference the same ones).
    const int32_t n = static_cast<int32_t>(len);
    std::memcpy(args[3].bytes.data(), &n, 4);
    std::fill(args[6].bytes.begin(), args[6].bytes.end(), uint8_t{0});
}

void DecodeAttention::reference(std::vector<HostBuffer>& args) const {
    const float* q = args[0].as<float>();
    const uint16_t* kc = args[1].as<uint16_t>();
    const uint16_t* vc = args[2].as<uint16_t>();
    int32_t len_value = 0;
    std::memcpy(&len_value, args[3].bytes.data(), 4);
    float* out = args[4].as<float>();
    float* partials = args[5].as<float>();
    const uint32_t n = static_cast<uint32_t>(std::clamp<int64_t>(len_value, 1, max_seq));
    const uint32_t lo = window != 0 && n > window ? n - window : 0;
    const uint32_t g = group();
    const uint32_t d = head_dim;
    const uint32_t S = plan.max_splits;
    const size_t ml_base = size_t{kv_heads} * S * g * d;
    const uint32_t NG = decode_detail::combine_groups(S, plan.combine_group);
    const size_t group_base = size_t{kv_heads} * S * g * (d + 2);
    const double scale_v = effective_scale();

    std::vector<double> s(n), kf(size_t{n} * d), vf(size_t{n} * d);
    for (uint32_t kv = 0; kv < kv_heads; ++kv) {
        for (uint32_t p = lo; p < n; ++p) {
            for (uint32_t i = 0; i < d; ++i) {
                const size_t at = (size_t{kv} * max_seq + p) * d + i;
                kf[size_t{p} * d + i] = ptxgen::f16_bits_to_f32(kc[at]);
                vf[size_t{p} * d + i] = ptxgen::f16_bits_to_f32(vc[at]);
            }
        }
        for (uint32_t h = 0; h < g; ++h) {
            const float* qh = q + (size_t{kv} * g + h) * d;
            for (uint32_t p = lo; p < n; ++p) {
                double dot = 0;
                for (uint32_t i = 0; i < d; ++i) dot += double{qh[i]} * kf[size_t{p} * d + i];
                s[p] = dot * scale_v;
            }
            // The whole softmax.
            double m = -INFINITY;
            for (uint32_t p = lo; p < n; ++p) m = std::max(m, s[p]);
            std::vector<double> acc(d, 0.0);
            double sum = 0;
            for (uint32_t p = lo; p < n; ++p) {
                const double w = std::exp(s[p] - m);
                sum += w;
                for (uint32_t i = 0; i < d; ++i) acc[i] += w * vf[size_t{p} * d + i];
            }
            for (uint32_t i = 0; i < d; ++i) out[(size_t{kv} * g + h) * d + i] = static_cast<float>(acc[i] / sum);
            // Each working chunk's partial, in log2 units, as the kernel leaves it; with two levels
            // of combine also each group's record, the partial of its working chunks together.
            auto write_partial = [&](uint32_t first, uint32_t last, size_t o_at, size_t ml_at) {
                double mc = -INFINITY;
                for (uint32_t p = first; p < last; ++p) mc = std::max(mc, s[p] * kLog2e);
                double lc = 0;
                std::vector<double> oc(d, 0.0);
                for (uint32_t p = first; p < last; ++p) {
                    const double w = std::exp2(s[p] * kLog2e - mc);
                    lc += w;
                    for (uint32_t i = 0; i < d; ++i) oc[i] += w * vf[size_t{p} * d + i];
                }
                for (uint32_t i = 0; i < d; ++i) partials[o_at + i] = static_cast<float>(oc[i]);
                partials[ml_at] = static_cast<float>(mc);
                partials[ml_at + 1] = static_cast<float>(lc);
            };
            const auto ranges = chunk_ranges(lo, n);
            for (const auto& [c, first, last] : ranges) {
                const size_t rec = (size_t{kv} * S + c) * g + h;
                write_partial(first, last, rec * d, ml_base + rec * 2);
            }
            if (NG > 1) {
                for (uint32_t grp = 0; grp < NG; ++grp) {
                    uint32_t first = n, last = lo;
                    for (const auto& r : ranges) {
                        if (r.split / plan.combine_group != grp) continue;
                        first = std::min(first, r.first);
                        last = std::max(last, r.last);
                    }
                    if (first >= last) continue;  // no working chunk: the kernel writes no record
                    const size_t rec = (size_t{kv} * NG + grp) * g + h;
                    write_partial(first, last, group_base + rec * d, group_base + size_t{kv_heads} * NG * g * d + rec * 2);
                }
            }
        }
    }
    std::fill(args[6].bytes.begin(), args[6].bytes.end(), uint8_t{0});
}

std::vector<DecodeAttention::ChunkRange> DecodeAttention::chunk_ranges(uint32_t lo, uint32_t n) const {
    std::vector<ChunkRange> ranges;
    if (plan.mma) {
        // Spans that follow the length (decode_attention_mma.cpp): the T steps of kKeyTile
        // positions from lo dealt to count = min(max_splits, T) CTAs as evenly as whole steps allow.
        const uint64_t steps = ceil_div(n - lo, decode_detail::kKeyTile);
        const uint64_t count = std::min<uint64_t>(plan.max_splits, ceil_div(static_cast<uint32_t>(steps), plan.min_steps));
        for (uint64_t c = 0; c < count; ++c) {
            const uint64_t first = lo + c * steps / count * decode_detail::kKeyTile;
            const uint64_t last = std::min<uint64_t>(n, lo + (c + 1) * steps / count * decode_detail::kKeyTile);
            ranges.push_back({static_cast<uint32_t>(c), static_cast<uint32_t>(first), static_cast<uint32_t>(last)});
        }
        return ranges;
    }
    const uint32_t C = plan.chunk;
    for (uint32_t c = lo / C; c <= (n - 1) / C; ++c) ranges.push_back({c, std::max(lo, c * C), std::min(n, (c + 1) * C)});
    return ranges;
}

std::string DecodeAttention::notes() const { return plan.why; }

BenchWork DecodeAttention::bench_work() const {
    const uint64_t lo = window != 0 && len > window ? len - window : 0;
    const uint64_t rows = len - lo;
    const uint64_t qo = uint64_t{q_heads} * head_dim * 4;
    BenchWork w;
    w.bytes = 2 * uint64_t{kv_heads} * rows * head_dim * 2 + 2 * qo + 4;
    w.what = fmt::format("K and V rows [{}, {}) of {} KV heads once, q read and out written (f32); "
                         "not the partials scratch",
                         lo, len, kv_heads);
    return w;
}

}  // namespace kernels
