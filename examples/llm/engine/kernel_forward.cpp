#include "engine/kernel_forward.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <optional>

#include "kernels/gemv.hpp"
#include "kernels/quant.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/error.hpp"

namespace llm::engine {

using kernels::ParamValues;
using model::TensorView;
using ptxsmith::runtime::Args;
namespace quant = kernels::quant;

namespace {

// Vectors per product launch: the tensor-core (mma) products of Q4_K and Q6_K take up to 64 and
// decode each weight once for all of them; the other formats' batched products take 8.
int max_batch(quant::GgmlType t) {
    const bool kquant = t == quant::GgmlType::q4_k || t == quant::GgmlType::q6_k;
    return kquant ? static_cast<int>(kernels::kGemvMaxBatch) : 8;
}
constexpr int kMinChunk = 8;   // prefill chunks are padded to at least this many rows
// Decode attention comes in two variants, one graph each: below options.long_attention_from
// positions, chunks of 64 positions per CTA, so that a short cache still spreads over many CTAs;
// from there on, chunks of 128 while the cache holds at most 8192 rows, else the plan's own
// (256). Measured on an H200, 32/8 heads, head_dim 128, cache of 4608 rows, weights rotated:
//   length 64: 4.26 us (chunk 64), 5.96 (128), 8.38 (256); 512: 5.51, 6.18, 8.23;
//   2048: 10.92, 9.92, 12.15; 4096: 17.03, 13.07, 13.78.
constexpr uint32_t kShortChunk = 64, kLongChunk = 128, kLongChunkMaxRows = 8192;

// A vector of activations in the forms its readers need: f32, or Q8_1 (int8 quants, then f16
// {d, s} pairs per 32 values: k/8 bytes a row). Zero addresses are forms nobody reads.
struct Act {
    uint64_t f32 = 0, q = 0, ds = 0;
};

// What trace mode copies back after an op: a vector of `count` values, f32 at a, or Q8_1 at
// (a, b) dequantised.
struct TracePoint {
    std::string point;
    int layer = -1;
    enum Form { none, f32, q8_1 } form = none;
    uint64_t a = 0, b = 0;
    size_t count = 0;
};

}  // namespace

// One launch of a pass: a kernel of the set with its arguments (device addresses fixed when the
// pass is planned, so a pass replays unchanged).
struct Op {
    size_t kernel = 0;
    Args args;
    TracePoint trace;
    uint64_t weight_bytes = 0;  // weight bytes the launch reads (products), for profiles
    std::vector<TracePoint> more_traces = {};  // a merged product's other outputs
};

namespace {

std::string word(double v) { return fmt::format("{}", v); }
std::string word(int64_t v) { return fmt::format("{}", v); }

const char* type_word(quant::GgmlType t) {
    switch (t) {
        case quant::GgmlType::q4_k: return "q4_k";
        case quant::GgmlType::q6_k: return "q6_k";
        case quant::GgmlType::q8_0: return "q8_0";
        case quant::GgmlType::f16: return "f16";
        default: return nullptr;
    }
}

const char* family_of(quant::GgmlType t) {
    switch (t) {
        case quant::GgmlType::q4_k: return "q4k_gemv";
        case quant::GgmlType::q6_k: return "q6k_gemv";
        case quant::GgmlType::q8_0: return "q8_0_gemv";
        case quant::GgmlType::f16: return "f16_gemv";
        default: return nullptr;
    }
}

std::unique_ptr<kernels::KernelInstance> instance(const char* family, const ParamValues& params) {
    return kernels::instantiate(kernels::find_family(family), params);
}

ParamValues gemv_params(const TensorView& w, int batch, const char* epilogue, const char* out) {
    return {{"n", word(w.rows)}, {"k", word(w.cols)}, {"batch", word(int64_t{batch})}, {"epilogue", epilogue}, {"out", out}};
}

// Whether the product of w reads Q8_1 activations (its plan is dp4a) rather than f32.
bool reads_q8(const TensorView& w) {
    const auto args = instance(family_of(w.type), gemv_params(w, 1, "store", "f32"))->args();
    return std::any_of(args.begin(), args.end(), [](const kernels::ArgSpec& a) { return a.name == "xq"; });
}

void require(bool ok, const std::string& what) {
    if (!ok) throw ptxsmith::Error(what);
}

// Refuses, with the reason, a model these kernels cannot run.
void check_model(const model::Weights& w) {
    const auto biased = [](const model::LayerWeights& l) { return int{l.bq.has_value()} + int{l.bk.has_value()} + int{l.bv.has_value()}; };
    const model::HParams& hp = w.hparams;
    const auto matrix = [&](const TensorView& t) {
        require(family_of(t.type) != nullptr,
                fmt::format("{} is {}: the kernel forward reads Q4_K, Q6_K, Q8_0 and F16 matrices", t.name,
                            quant::traits(t.type).name));
    };
    require(type_word(w.token_embd.type) != nullptr,
            fmt::format("{} is {}: the embedding lookup reads Q4_K, Q6_K, Q8_0 and F16 tables", w.token_embd.name,
                        quant::traits(w.token_embd.type).name));
    matrix(w.output);
    for (const model::LayerWeights& l : w.layers) {
        for (const TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) matrix(*t);
        require(biased(l) == 0 || biased(l) == 3,
                fmt::format("{}: Q, K and V biases come all three or none in the kernel forward", l.wq.name));
        require(l.ffn_gate.type == l.ffn_up.type,
                fmt::format("{} is {} but {} is {}: the fused SwiGLU product reads both in one format", l.ffn_gate.name,
                            quant::traits(l.ffn_gate.type).name, l.ffn_up.name, quant::traits(l.ffn_up.type).name));
    }
    require(hp.head_dim == hp.head_dim_v,
            fmt::format("key heads of {} and value heads of {} values: the attention kernels need them equal", hp.head_dim,
                        hp.head_dim_v));
    require(hp.head_dim == 64 || hp.head_dim == 128 || hp.head_dim == 256,
            fmt::format("heads of {} values: the attention kernels take 64, 128 or 256", hp.head_dim));
    require(hp.n_embd % 32 == 0 && hp.n_ff % 32 == 0 && hp.q_dim() % 32 == 0,
            fmt::format("widths {} (embedding), {} (feed-forward) and {} (attention) must be multiples of 32 (Q8_1 blocks)",
                        hp.n_embd, hp.n_ff, hp.q_dim()));
    require(!w.rope_freqs, "per-pair RoPE frequency factors (rope_freqs) are not supported by the kernel forward yet");
    require(hp.rope_scaling_type.empty() || hp.rope_scaling_type == "none" ||
                (hp.rope_scaling_type == "linear" && (hp.rope_scaling_factor == 0 || hp.rope_scaling_factor == 1)),
            fmt::format("RoPE scaling '{}' (factor {}) is not supported by the kernel forward yet", hp.rope_scaling_type,
                        hp.rope_scaling_factor));
}

// The projections of one layer that one decode launch computes together: Q, K and V when they
// share a format, else Q and K when those do (the maker's Q4_K_M mix gives some layers a Q6_K V),
// else none. They are stored back to back (DeviceWeights) and read as one taller matrix.
std::vector<const TensorView*> fused_projections(const model::LayerWeights& l) {
    const auto same = [](const TensorView& a, const TensorView& b) { return a.type == b.type && a.cols == b.cols; };
    if (same(l.wq, l.wk) && same(l.wq, l.wv)) return {&l.wq, &l.wk, &l.wv};
    if (same(l.wq, l.wk)) return {&l.wq, &l.wk};
    return {};
}

std::vector<std::vector<const TensorView*>> fused_groups(const model::Weights& w) {
    std::vector<std::vector<const TensorView*>> groups;
    for (const model::LayerWeights& l : w.layers) {
        if (auto g = fused_projections(l); !g.empty()) groups.push_back(std::move(g));
    }
    return groups;
}

}  // namespace

std::optional<std::string> unsupported_reason(const model::Weights& weights) {
    try {
        check_model(weights);
    } catch (const ptxsmith::Error& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

struct KernelForward::Impl {
    ptxsmith::runtime::Device& dev;
    const model::Weights& w;
    const model::HParams& hp;
    KernelForwardOptions opt;
    DeviceWeights weights;
    KernelSet set;
    int cache_rows = 0;

    uint64_t cache_base = 0, cache_bytes = 0;
    std::vector<uint64_t> k_cache, v_cache;  // per layer
    std::unique_ptr<ptxsmith::runtime::Arena> arena;

    // Activations, each sized for a whole prefill chunk (rows R = max_chunk).
    uint64_t x = 0;              // f32 [R][n_embd]: the residual stream
    Act xn;                      // the normalised stream: [R][n_embd]
    uint64_t q = 0, k = 0, v = 0;  // f32 projections [R][q_dim | kv_dim]
    uint64_t q_rot = 0;          // f32 [1][q_dim] (decode) or f16 [R][q_dim] (prefill)
    uint64_t att = 0;            // f32 [R][q_dim]
    Act att_in;                  // att as the output product reads it
    Act hidden;                  // silu(gate) * up, [R][n_ff]
    uint64_t logits = 0, next = 0;
    uint64_t partials = 0, counters = 0;  // decode_attention's scratch
    uint64_t decode_ctl = 0;     // s32 {token, pos, len}
    uint64_t prefill_ctl = 0;    // s32 ids[R], then positions[R]
    int32_t* host_ctl = nullptr; // page-locked: 3 + 2R values

    std::vector<Op> decode_ops[2];                      // short and long caches
    std::unique_ptr<ptxsmith::runtime::Graph> graph[2];
    std::map<int, std::vector<Op>> prefill_ops;  // by padded chunk length
    std::vector<float> host_logits;

    Impl(ptxsmith::runtime::Device& d, const model::Weights& weights_, const KernelForwardOptions& o, const UploadProgress& progress)
        : dev(d), w(weights_), hp(weights_.hparams), opt(o), weights(d, weights_, progress, fused_groups(weights_)), set(d) {}

    // Nothing here may throw: after a device error the frees fail too, and the error that
    // caused the unwinding is the one to report.
    ~Impl() {
        const auto quietly = [](auto&& release) {
            try {
                release();
            } catch (...) {
            }
        };
        for (auto& g : graph) quietly([&] { g.reset(); });
        if (host_ctl) quietly([&] { dev.free_host(host_ctl); });
        quietly([&] { arena.reset(); });
        if (cache_base) quietly([&] { dev.free(cache_base); });
    }

    size_t add_kernel(const char* family, const ParamValues& params) {
        std::shared_ptr<kernels::KernelInstance> made = instance(family, params);
        return set.add(made->name(), made->launch_config(), [made](const ptxgen::Target& t) { return made->build(t); });
    }

    // Allocates the cache and the activations.
    void allocate() {
        const auto R = static_cast<uint64_t>(opt.max_chunk);
        const auto E = static_cast<uint64_t>(hp.n_embd), Q = static_cast<uint64_t>(hp.q_dim()),
                   KV = static_cast<uint64_t>(hp.kv_dim()), F = static_cast<uint64_t>(hp.n_ff);
        const uint64_t per_cache = static_cast<uint64_t>(hp.n_head_kv) * static_cast<uint64_t>(cache_rows) *
                                   static_cast<uint64_t>(hp.head_dim) * 2;
        cache_bytes = per_cache * 2 * static_cast<uint64_t>(hp.n_layer);
        cache_base = dev.alloc(cache_bytes, "KV cache");
        for (int l = 0; l < hp.n_layer; ++l) {
            k_cache.push_back(cache_base + per_cache * (2 * static_cast<uint64_t>(l)));
            v_cache.push_back(cache_base + per_cache * (2 * static_cast<uint64_t>(l) + 1));
        }

        uint64_t partial_bytes = 0, counter_bytes = 0;
        for (const uint32_t chunk : {decode_chunk(0), decode_chunk(1)}) {
            const auto decode = instance("decode_attention", decode_params(chunk))->args();
            partial_bytes = std::max<uint64_t>(partial_bytes, decode[5].count * 4);
            counter_bytes = std::max<uint64_t>(counter_bytes, decode[6].count * 4);
        }
        const auto q8 = [&](uint64_t width) { return R * width + R * width / 8; };
        const uint64_t bytes = R * E * 4 * 2 + q8(E) + R * (Q + 2 * KV) * 4 + R * Q * 4 * 2 + q8(Q) + R * F * 4 + q8(F) +
                               static_cast<uint64_t>(hp.n_vocab) * 4 + partial_bytes + counter_bytes + (3 + 2 * R) * 4 * 2 +
                               32 * 256;
        arena = std::make_unique<ptxsmith::runtime::Arena>(dev, bytes, "activations");
        auto take = [&](uint64_t n) { return arena->take(n); };
        x = take(R * E * 4);
        xn = {take(R * E * 4), take(R * E), take(R * E / 8)};
        q = take(R * Q * 4);
        k = take(R * KV * 4);
        v = take(R * KV * 4);
        q_rot = take(R * Q * 4);
        att = take(R * Q * 4);
        att_in = {att, take(R * Q), take(R * Q / 8)};
        hidden = {take(R * F * 4), take(R * F), take(R * F / 8)};
        logits = take(static_cast<uint64_t>(hp.n_vocab) * 4);
        next = take(4);
        partials = take(partial_bytes);
        counters = take(counter_bytes);
        decode_ctl = take(3 * 4);
        prefill_ctl = take(2 * R * 4);
        // Poisoned with NaN (0xff bytes, in f32 and f16 alike): a kernel reading a cache row or an
        // activation nobody wrote shows up as NaN logits instead of plausible numbers.
        dev.memset(cache_base, 0xff, cache_bytes);
        dev.memset(x, 0xff, arena->used());
        dev.memset(counters, 0, counter_bytes);  // decode_attention leaves them zero after each launch
        host_ctl = static_cast<int32_t*>(dev.alloc_host((3 + 2 * R) * 4));
        host_logits.resize(static_cast<size_t>(hp.n_vocab));
    }

    // The decode attention chunk of a variant (0: short caches, 1: long; 0 lets the plan choose).
    uint32_t decode_chunk(int variant) const {
        if (hp.gqa_group() > 8) return 0;  // the staged variant for large groups picks its own
        if (variant == 0) return kShortChunk;
        return cache_rows <= static_cast<int>(kLongChunkMaxRows) ? kLongChunk : 0;
    }
    // Groups up to 8 at head_dim up to 128 take decode attention's mma variant, whose split
    // follows the length and this device's SMs (H100, 32/8 heads, head_dim 128, 33 CTAs per KV
    // head: 10.04 us at len 4096 against the phased variant's 13.6 at its best chunk, 17.78
    // against 19.6 at 8192, 29.29 against 28.65 at 16384; docs/benchmarks.md), so both variants
    // are that one kernel and the chunk is unused; the others keep the chunks above.
    bool mma_decode() const { return hp.gqa_group() <= 8 && hp.head_dim <= 128; }
    ParamValues decode_params(uint32_t chunk) const {
        ParamValues p = attention_params();
        if (mma_decode()) {
            p.set("variant", "mma");
            p.set("sms", word(int64_t{std::max(1, dev.info().sm_count)}));
            return p;
        }
        p.set("chunk", word(int64_t{chunk}));
        return p;
    }

    ParamValues attention_params() const {
        return {{"head-dim", word(int64_t{hp.head_dim})}, {"q-heads", word(int64_t{hp.n_head})},
                {"kv-heads", word(int64_t{hp.n_head_kv})}, {"max-seq", word(int64_t{cache_rows})}};
    }

    // rows of x -> rmsnorm(x) * weight, in the forms `f32` and `q8` say.
    void norm(std::vector<Op>& ops, int rows, uint64_t src, const TensorView& weight, bool want_f32, bool want_q8,
              const char* point, int layer) {
        const ParamValues p{{"rows", word(int64_t{rows})}, {"k", word(int64_t{hp.n_embd})}, {"eps", word(double{hp.norm_eps})}};
        if (want_q8) {
            ops.push_back({add_kernel("rmsnorm_q8_1", p), Args().ptr(src).ptr(weights[weight]).ptr(xn.q).ptr(xn.ds),
                           {point, layer, TracePoint::q8_1, xn.q, xn.ds, static_cast<size_t>(hp.n_embd)}});
        }
        if (want_f32) {
            ops.push_back({add_kernel("rmsnorm", p), Args().ptr(src).ptr(weights[weight]).ptr(xn.f32),
                           {want_q8 ? "" : point, layer, want_q8 ? TracePoint::none : TracePoint::f32, xn.f32, 0,
                            static_cast<size_t>(hp.n_embd)}});
        }
    }

    // rows of `in` -> y = W in (epilogue store / residual) or silu(W in) * (W2 in) (swiglu), in
    // launches of up to max_batch rows. `out` gives the output: y.f32, or (y.q, y.ds) for Q8_1.
    // weight_bytes: what the launch reads, when wt stands for several matrices back to back.
    void product(std::vector<Op>& ops, int rows, const TensorView& wt, const TensorView* up, const char* epilogue,
                 const Act& in, const Act& out, TracePoint trace, uint64_t weight_bytes = 0) {
        if (weight_bytes == 0) weight_bytes = wt.data.size() + (up ? up->data.size() : 0);
        const bool q8_out = out.q != 0;
        const bool q8_in = reads_q8(wt);
        const auto K = static_cast<uint64_t>(wt.cols), N = static_cast<uint64_t>(wt.rows);
        const int most = max_batch(wt.type);
        for (int r = 0; r < rows; r += most) {
            const int batch = std::min(most, rows - r);
            const auto row = static_cast<uint64_t>(r);
            Args a;
            a.ptr(weights[wt]);
            if (up) a.ptr(weights[*up]);
            if (q8_in) a.ptr(in.q + row * K).ptr(in.ds + row * K / 8);
            else a.ptr(in.f32 + row * K * 4);
            if (q8_out) a.ptr(out.q + row * N).ptr(out.ds + row * N / 8);
            else a.ptr(out.f32 + row * N * 4);
            ops.push_back({add_kernel(family_of(wt.type), gemv_params(wt, batch, epilogue, q8_out ? "q8_1" : "f32")),
                           std::move(a), r == 0 ? trace : TracePoint{}, weight_bytes});
        }
    }

    TracePoint f32_point(const char* point, int layer, uint64_t at, int64_t count) const {
        return {point, layer, TracePoint::f32, at, 0, static_cast<size_t>(count)};
    }

    // The layers of a pass over `rows` new tokens (1: a decode step with decode attention in
    // chunks of `decode_chunk`; else a padded prefill chunk).
    std::vector<Op> plan_layers(int rows, uint32_t decode_chunk = 0) {
        std::vector<Op> ops;
        const bool decode = rows == 1;
        const uint64_t ids = decode ? decode_ctl : prefill_ctl;
        const uint64_t pos = decode ? decode_ctl + 4 : prefill_ctl + 4 * static_cast<uint64_t>(opt.max_chunk);
        const TensorView& table = w.token_embd;
        ops.push_back({add_kernel("embed_rows", {{"type", type_word(table.type)}, {"k", word(table.cols)},
                                                 {"vocab", word(table.rows)}, {"tokens", word(int64_t{rows})}}),
                       Args().ptr(weights[table]).ptr(ids).ptr(x), f32_point("embd", -1, x, hp.n_embd)});

        const std::string style = hp.rope_style == model::RopeStyle::neox ? "neox" : "normal";
        for (int l = 0; l < hp.n_layer; ++l) {
            const model::LayerWeights& lw = w.layers[static_cast<size_t>(l)];
            const bool qkv_q8 = reads_q8(lw.wq) || reads_q8(lw.wk) || reads_q8(lw.wv);
            const bool qkv_f32 = !reads_q8(lw.wq) || !reads_q8(lw.wk) || !reads_q8(lw.wv);
            norm(ops, rows, x, lw.attn_norm, qkv_f32, qkv_q8, "attn_in", l);
            // A decode step keeps q, k and v back to back in q's buffer, so that the fused
            // projections write them with one launch; a chunk keeps them apart ([rows][width] each).
            const uint64_t k_at = decode ? q + static_cast<uint64_t>(hp.q_dim()) * 4 : k;
            const uint64_t v_at = decode ? k_at + static_cast<uint64_t>(hp.kv_dim()) * 4 : v;
            const std::vector<const TensorView*> fused = decode ? fused_projections(lw) : std::vector<const TensorView*>{};
            if (!fused.empty()) {
                // The group, read as one matrix from wq's device address (its host view is wq's:
                // only the shape and the device address are used).
                TensorView merged = lw.wq;
                merged.rows = 0;
                uint64_t bytes = 0;
                for (const TensorView* t : fused) merged.rows += t->rows, bytes += t->data.size();
                product(ops, rows, merged, nullptr, "store", xn, {q}, f32_point("q", l, q, hp.q_dim()), bytes);
                ops.back().more_traces.push_back(f32_point("k", l, k_at, hp.kv_dim()));
                if (fused.size() == 3) ops.back().more_traces.push_back(f32_point("v", l, v_at, hp.v_dim()));
            } else {
                product(ops, rows, lw.wq, nullptr, "store", xn, {q}, f32_point("q", l, q, hp.q_dim()));
                product(ops, rows, lw.wk, nullptr, "store", xn, {k_at}, f32_point("k", l, k_at, hp.kv_dim()));
            }
            if (fused.size() < 3) product(ops, rows, lw.wv, nullptr, "store", xn, {v_at}, f32_point("v", l, v_at, hp.v_dim()));

            // RoPE, the cache writes and the biases in one kernel; Q comes out f32 for decode
            // attention, f16 for flash attention.
            ParamValues rope = attention_params();
            rope.set("tokens", word(int64_t{rows}));
            rope.set("rope", style);
            rope.set("rot-dim", word(int64_t{hp.n_rot}));
            rope.set("base", word(double{hp.rope_base}));
            rope.set("q-out", decode ? "f32" : "f16");
            rope.set("bias", lw.bq ? "1" : "0");
            Args ra;
            ra.ptr(q).ptr(k_at).ptr(v_at);
            if (lw.bq) {
                require(lw.bk && lw.bv, fmt::format("layer {} has a Q bias but no K or V bias", l));
                ra.ptr(weights[*lw.bq]).ptr(weights[*lw.bk]).ptr(weights[*lw.bv]);
            }
            const auto layer = static_cast<size_t>(l);
            ra.ptr(pos).ptr(k_cache[layer]).ptr(v_cache[layer]).ptr(q_rot);
            // Traced in a decode step only, where Q comes out f32.
            ops.push_back({add_kernel("rope_kv_scatter", rope), std::move(ra),
                           decode ? f32_point("q_rope", l, q_rot, hp.q_dim()) : TracePoint{}});

            if (decode) {
                ops.push_back({add_kernel("decode_attention", decode_params(decode_chunk)),
                               Args().ptr(q_rot).ptr(k_cache[layer]).ptr(v_cache[layer]).ptr(decode_ctl + 8).ptr(att)
                                   .ptr(partials).ptr(counters),
                               f32_point("attn", l, att, hp.q_dim())});
            } else {
                ParamValues flash = attention_params();
                flash.set("len", word(int64_t{rows}));
                ops.push_back({add_kernel("flash_attention", flash),
                               Args().ptr(q_rot).ptr(k_cache[layer]).ptr(v_cache[layer]).ptr(pos).ptr(att), {}});
            }
            if (reads_q8(lw.wo)) {
                ops.push_back({add_kernel("quantize_q8_1", {{"rows", word(int64_t{rows})}, {"k", word(hp.q_dim())}}),
                               Args().ptr(att).ptr(att_in.q).ptr(att_in.ds), {}});
            }
            product(ops, rows, lw.wo, nullptr, "residual", att_in, {x}, f32_point("x_attn", l, x, hp.n_embd));

            const bool ffn_q8 = reads_q8(lw.ffn_gate);
            norm(ops, rows, x, lw.ffn_norm, !ffn_q8, ffn_q8, "ffn_in", l);
            const bool down_q8 = reads_q8(lw.ffn_down);
            const Act h = down_q8 ? Act{0, hidden.q, hidden.ds} : Act{hidden.f32};
            product(ops, rows, lw.ffn_gate, &lw.ffn_up, "swiglu", xn, h,
                    down_q8 ? TracePoint{"ffn_act", l, TracePoint::q8_1, hidden.q, hidden.ds, static_cast<size_t>(hp.n_ff)}
                            : f32_point("ffn_act", l, hidden.f32, hp.n_ff));
            product(ops, rows, lw.ffn_down, nullptr, "residual", hidden, {x}, f32_point("x_ffn", l, x, hp.n_embd));
        }
        return ops;
    }

    // The final norm and the output head on row `row` of x, then argmax into `next`.
    std::vector<Op> plan_head(int row) {
        std::vector<Op> ops;
        const bool q8 = reads_q8(w.output);
        norm(ops, 1, x + static_cast<uint64_t>(row) * static_cast<uint64_t>(hp.n_embd) * 4, w.output_norm, !q8, q8,
             "out_in", -1);
        product(ops, 1, w.output, nullptr, "store", xn, {logits}, f32_point("logits", -1, logits, hp.n_vocab));
        ops.push_back({add_kernel("argmax", {{"n", word(int64_t{hp.n_vocab})}}), Args().ptr(logits).ptr(next), {}});
        return ops;
    }

    static int chunk_rows(int n) { return std::max(kMinChunk, static_cast<int>(std::bit_ceil(static_cast<unsigned>(n)))); }
};

KernelForward::KernelForward(ptxsmith::runtime::Device& dev, const model::Weights& weights,
                             const KernelForwardOptions& options, const UploadProgress& progress) {
    const model::HParams& hp = weights.hparams;
    if (options.ctx < 1 || (hp.n_ctx_train > 0 && options.ctx > hp.n_ctx_train)) {
        throw ptxsmith::Error(fmt::format("context of {} positions is outside 1 .. {} (the model's context length)", options.ctx,
                                          hp.n_ctx_train));
    }
    if (options.max_chunk < kMinChunk || options.max_chunk > 4096 || !std::has_single_bit(static_cast<unsigned>(options.max_chunk))) {
        throw ptxsmith::Error(fmt::format("prefill chunk of {} rows: it must be a power of two from {} to 4096", options.max_chunk, kMinChunk));
    }
    check_model(weights);
    impl_ = std::make_unique<Impl>(dev, weights, options, progress);
    Impl& m = *impl_;
    ctx_ = options.ctx;
    m.cache_rows = options.ctx + options.max_chunk;
    m.allocate();

    for (int variant = 0; variant < 2; ++variant) {
        m.decode_ops[variant] = m.plan_layers(1, m.decode_chunk(variant));
        for (Op& op : m.plan_head(0)) m.decode_ops[variant].push_back(std::move(op));
    }
    for (int rows = kMinChunk; rows <= options.max_chunk; rows *= 2) m.prefill_ops[rows] = m.plan_layers(rows);
    m.set.compile();

    for (const TensorView* t : weights.all()) {
        if (t != &weights.token_embd || weights.tied_output) decode_weight_bytes_ += is_vector(*t) ? 0 : t->data.size();
    }
}

KernelForward::~KernelForward() = default;

int KernelForward::n_vocab() const { return impl_->hp.n_vocab; }

const KernelSet& KernelForward::kernels() const { return impl_->set; }

MemoryUse KernelForward::memory() const {
    return {impl_->weights.bytes(), impl_->cache_bytes, impl_->arena->capacity()};
}

void KernelForward::run(const std::vector<Op>& ops, bool traced) {
    Impl& m = *impl_;
    std::vector<float> values;
    for (const Op& op : ops) {
        const Launchable& k = m.set[op.kernel];
        m.dev.launch(*k.kernel, k.dims, op.args);
        if (!traced || !tracing()) continue;
        std::vector<const TracePoint*> points{&op.trace};
        for (const TracePoint& t : op.more_traces) points.push_back(&t);
        for (const TracePoint* p : points) {
            const TracePoint& t = *p;
            if (t.form == TracePoint::none) continue;
            values.resize(t.count);
            if (t.form == TracePoint::f32) {
                m.dev.download(values.data(), t.a, t.count * 4);
            } else {
                std::vector<int8_t> qs(t.count);
                std::vector<uint16_t> ds(t.count / 16);
                m.dev.download(qs.data(), t.a, qs.size());
                m.dev.download(ds.data(), t.b, ds.size() * 2);
                quant::dequantize_q8_1(qs.data(), ds.data(), static_cast<int64_t>(t.count), values.data());
            }
            trace(t.point, t.layer, values);
        }
    }
}

void KernelForward::check_step(int32_t token, int pos) const {
    if (token < 0 || token >= impl_->hp.n_vocab) {
        throw ptxsmith::Error(fmt::format("token {} is outside the model's vocabulary of {} tokens", token, impl_->hp.n_vocab));
    }
    if (pos < 0 || pos > filled_ || pos >= ctx_) {
        throw ptxsmith::Error(fmt::format("position {} cannot run: {} positions are cached, the context holds {}", pos, filled_, ctx_));
    }
}

void KernelForward::run_step(int32_t token, int pos) {
    check_step(token, pos);
    Impl& m = *impl_;
    m.host_ctl[0] = token;
    m.host_ctl[1] = pos;
    m.host_ctl[2] = pos + 1;
    m.dev.upload_async(m.decode_ctl, m.host_ctl, 3 * 4);
    const int variant = pos < m.opt.long_attention_from ? 0 : 1;
    const std::vector<Op>& ops = m.decode_ops[variant];
    if (tracing() || !m.opt.graph) {
        run(ops);
    } else {
        std::unique_ptr<ptxsmith::runtime::Graph>& graph = m.graph[variant];
        if (!graph) {
            m.dev.synchronize();  // the control values are in place before the capture starts
            m.dev.begin_capture();
            try {
                run(ops);
            } catch (...) {
                try {
                    m.dev.end_capture();  // leave capture mode; the launch's error is the one to report
                } catch (...) {
                }
                throw;
            }
            graph = m.dev.end_capture();
        }
        graph->replay();
    }
    filled_ = pos + 1;
}

std::span<const float> KernelForward::step(int32_t token, int pos) {
    run_step(token, pos);
    impl_->dev.download(impl_->host_logits.data(), impl_->logits, impl_->host_logits.size() * 4);
    return impl_->host_logits;
}

int32_t KernelForward::step_greedy(int32_t token, int pos) {
    run_step(token, pos);
    int32_t id = 0;
    impl_->dev.download(&id, impl_->next, 4);
    return id;
}

std::span<const float> KernelForward::prefill(std::span<const int32_t> tokens, int start) {
    if (tokens.empty()) throw ptxsmith::Error("prefill needs at least one token");
    Impl& m = *impl_;
    for (const int32_t t : tokens) check_step(t, start);  // every token in range; the first position valid
    if (start + static_cast<int64_t>(tokens.size()) > ctx_) {
        throw ptxsmith::Error(fmt::format("{} tokens from position {} do not fit a context of {}", tokens.size(), start, ctx_));
    }
    if (tokens.size() == 1) return step(tokens[0], start);
    size_t done = 0;
    int last_row = 0;
    while (done < tokens.size()) {
        const int n = static_cast<int>(std::min<size_t>(tokens.size() - done, static_cast<size_t>(m.opt.max_chunk)));
        const int rows = Impl::chunk_rows(n);
        const int p0 = start + static_cast<int>(done);
        int32_t* ids = m.host_ctl + 3;
        int32_t* positions = ids + m.opt.max_chunk;
        for (int i = 0; i < rows; ++i) {
            ids[i] = tokens[done + static_cast<size_t>(std::min(i, n - 1))];
            positions[i] = p0 + i;
        }
        m.dev.upload_async(m.prefill_ctl, ids, 2 * static_cast<size_t>(m.opt.max_chunk) * 4);
        run(m.prefill_ops.at(rows), false);  // traces are of decode steps: one token
        m.dev.synchronize();  // the control buffer is rewritten by the next chunk
        done += static_cast<size_t>(n);
        last_row = n - 1;
        filled_ = p0 + n;
    }
    run(m.plan_head(last_row), false);
    m.dev.download(m.host_logits.data(), m.logits, m.host_logits.size() * 4);
    return m.host_logits;
}

std::vector<KernelTime> KernelForward::profile_step(int32_t token, int pos) {
    run_step(token, pos);
    Impl& m = *impl_;
    const std::vector<Op>& ops = m.decode_ops[pos < m.opt.long_attention_from ? 0 : 1];
    // The launches of one kernel (one shape: the same product in every layer, say) are timed
    // together, replayed from a graph as the step replays them: each of them in turn, round robin,
    // at least kMinLaunches launches, so that a layer's weights are evicted from L2 by the other
    // layers' before they come round again (as in a step). Each launch is then charged the mean.
    constexpr size_t kMinLaunches = 20;
    std::map<size_t, std::vector<const Op*>> by_kernel;
    for (const Op& op : ops) by_kernel[op.kernel].push_back(&op);
    std::map<size_t, double> ms_per_launch;
    for (const auto& [kernel, instances] : by_kernel) {
        const Launchable& k = m.set[kernel];
        const size_t launches = std::max(kMinLaunches, instances.size());
        m.dev.begin_capture();
        std::unique_ptr<ptxsmith::runtime::Graph> repeated;
        try {
            for (size_t i = 0; i < launches; ++i) m.dev.launch(*k.kernel, k.dims, instances[i % instances.size()]->args);
        } catch (...) {
            try {
                m.dev.end_capture();
            } catch (...) {
            }
            throw;
        }
        repeated = m.dev.end_capture();
        repeated->replay();  // warm-up
        ms_per_launch[kernel] = m.dev.measure_ms([&] { repeated->replay(); }) / static_cast<double>(launches);
    }
    std::vector<KernelTime> times;
    for (const Op& op : ops) times.push_back({m.set[op.kernel].name, ms_per_launch.at(op.kernel), op.weight_bytes});
    filled_ = pos;  // the repeated launches rewrote row pos with whatever the activations held
    return times;
}

}  // namespace llm::engine
