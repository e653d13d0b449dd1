// The model maker: presets, quantisation mixes, the tensor plan, metadata, and the streamed write.
#include "model/maker.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <filesystem>

#include "gguf/gguf.hpp"
#include "model/hparams.hpp"
#include "model/maker_pool.hpp"
#include "model/maker_weights.hpp"
#include "ptxgen/error.hpp"

namespace llm::model {

namespace {

// The 1b and 8b rows copy Llama-3.2-1B and Llama-3-8B; tiny keeps their proportions (GQA, a 3x
// feed-forward, 64-wide heads) at a size the interpreter runs in seconds.
constexpr std::array kPresets{
    ModelPreset{"tiny", "a 2-layer Llama-3-style model for tests", 2, 256, 4, 2, 768, 512, 2048, 500000.0f, false},
    ModelPreset{"1b", "Llama-3.2-1B shapes (tied output)", 16, 2048, 32, 8, 8192, 128256, 131072, 500000.0f, true},
    ModelPreset{"8b", "Llama-3-8B shapes", 32, 4096, 32, 8, 14336, 128256, 8192, 500000.0f, false},
};

// general.file_type values are llama.cpp's llama_ftype: F16 1, Q8_0 7, Q4_K_S 14, Q4_K_M 15,
// Q6_K 18. A uniform Q4_K file is closest to Q4_K_S.
constexpr std::array kMixes{
    QuantMixInfo{QuantMix::q4_k_m, "q4_k_m", 15},
    QuantMixInfo{QuantMix::q4_k, "q4_k", 14},
    QuantMixInfo{QuantMix::q6_k, "q6_k", 18},
    QuantMixInfo{QuantMix::q8_0, "q8_0", 7},
    QuantMixInfo{QuantMix::f16, "f16", 1},
};

template <class Table>
std::string names_of(const Table& table) {
    std::string s;
    for (const auto& row : table) s += (s.empty() ? "" : ", ") + std::string(row.name);
    return s;
}

GgmlType uniform_type(QuantMix mix) {
    switch (mix) {
        case QuantMix::q6_k: return GgmlType::q6_k;
        case QuantMix::q8_0: return GgmlType::q8_0;
        case QuantMix::f16: return GgmlType::f16;
        case QuantMix::q4_k:
        case QuantMix::q4_k_m: break;
    }
    return GgmlType::q4_k;
}

bool is_norm(std::string_view role) { return role.size() >= 5 && role.substr(role.size() - 5) == "_norm"; }

void set_metadata(gguf::Writer& w, const ModelPreset& p, const QuantMixInfo& mix, const VocabData& vocab, uint64_t seed) {
    using gguf::Value;
    const std::string arch = "llama";
    const auto key = [&](std::string_view name) { return fmt::format("{}.{}", arch, name); };
    w.set("general.architecture", Value::string(arch));
    w.set("general.name", Value::string(fmt::format("ptxsmith {} (random weights)", p.name)));
    w.set("general.file_type", Value::u32(mix.file_type));
    w.set("general.quantization_version", Value::u32(2));
    w.set(key("vocab_size"), Value::u32(p.n_vocab));
    w.set(key("context_length"), Value::u32(p.n_ctx));
    w.set(key("embedding_length"), Value::u32(p.n_embd));
    w.set(key("block_count"), Value::u32(p.n_layer));
    w.set(key("feed_forward_length"), Value::u32(p.n_ff));
    w.set(key("attention.head_count"), Value::u32(p.n_head));
    w.set(key("attention.head_count_kv"), Value::u32(p.n_head_kv));
    w.set(key("attention.key_length"), Value::u32(p.head_dim()));
    w.set(key("attention.value_length"), Value::u32(p.head_dim()));
    w.set(key("attention.layer_norm_rms_epsilon"), Value::f32(1e-5f));
    w.set(key("rope.freq_base"), Value::f32(p.rope_base));
    w.set(key("rope.dimension_count"), Value::u32(p.head_dim()));

    w.set("tokenizer.ggml.model", Value::string(vocab.model));
    w.set("tokenizer.ggml.pre", Value::string(vocab.pre));
    w.set("tokenizer.ggml.tokens", Value::strings(vocab.tokens));
    w.set("tokenizer.ggml.token_type", Value::i32s(vocab.token_types));
    w.set("tokenizer.ggml.merges", Value::strings(vocab.merges));
    w.set("tokenizer.ggml.bos_token_id", Value::u32(static_cast<uint32_t>(vocab.bos)));
    w.set("tokenizer.ggml.eos_token_id", Value::u32(static_cast<uint32_t>(vocab.eos)));
    w.set("tokenizer.ggml.eot_token_id", Value::u32(static_cast<uint32_t>(vocab.eot)));
    w.set("tokenizer.ggml.add_bos_token", Value::boolean(vocab.add_bos));
    w.set("tokenizer.ggml.add_eos_token", Value::boolean(vocab.add_eos));

    // How the file was made, so that `info` can say so and the file can be made again.
    w.set("ptxsmith.maker.preset", Value::string(std::string(p.name)));
    w.set("ptxsmith.maker.quant", Value::string(std::string(mix.name)));
    w.set("ptxsmith.maker.seed", Value::u64(seed));
}

}  // namespace

std::span<const ModelPreset> model_presets() { return kPresets; }

const ModelPreset& find_preset(std::string_view name) {
    for (const ModelPreset& p : kPresets) {
        if (p.name == name) return p;
    }
    throw ptxsmith::Error(fmt::format("unknown model preset '{}'; presets: {}", name, names_of(kPresets)));
}

std::span<const QuantMixInfo> quant_mixes() { return kMixes; }

const QuantMixInfo& find_quant_mix(std::string_view name) {
    for (const QuantMixInfo& m : kMixes) {
        if (m.name == name) return m;
    }
    throw ptxsmith::Error(fmt::format("unknown quantisation mix '{}'; mixes: {}", name, names_of(kMixes)));
}

bool uses_more_bits(uint32_t layer, uint32_t n_layer) {
    const uint32_t eighth = n_layer / 8;
    return layer < eighth || layer >= 7 * n_layer / 8 || (layer >= eighth && (layer - eighth) % 3 == 2);
}

GgmlType tensor_type(QuantMix mix, std::string_view role, uint32_t layer, uint32_t n_layer, bool tied_output) {
    if (is_norm(role)) return GgmlType::f32;
    if (mix != QuantMix::q4_k_m) return uniform_type(mix);
    if (role == "output" || (role == "token_embd" && tied_output)) return GgmlType::q6_k;
    if ((role == "attn_v" || role == "ffn_down") && uses_more_bits(layer, n_layer)) return GgmlType::q6_k;
    return GgmlType::q4_k;
}

uint64_t TensorPlan::elements() const {
    uint64_t n = 1;
    for (const uint64_t d : ne) n *= d;
    return n;
}

// Standard deviations keep the activations near unit scale through any depth: a matrix applied to
// an RMSNorm'd (unit-RMS) input has std 1/sqrt(in), so each of its outputs has variance ~1; the
// two projections that write into the residual stream (attn_output, ffn_down) are further scaled
// by 1/sqrt(2 * n_layer), so that the 2 * n_layer branches sum to about unit variance and no layer
// drowns the others. The output projection (token_embd when tied) has std 1/sqrt(n_embd), giving
// logits of std ~1: a spread-out but not flat next-token distribution. Norm weights are 1 + 0.02 z.
std::vector<TensorPlan> plan_tensors(const ModelPreset& p, QuantMix mix) {
    const uint64_t e = p.n_embd, hd = p.head_dim(), q = uint64_t{p.n_head} * hd, kv = uint64_t{p.n_head_kv} * hd;
    const float residual = 1.0f / std::sqrt(2.0f * static_cast<float>(p.n_layer));
    const auto inv_sqrt = [](uint64_t in) { return 1.0f / std::sqrt(static_cast<float>(in)); };

    std::vector<TensorPlan> out;
    const auto add = [&](std::string_view role, int layer, std::vector<uint64_t> ne, float stddev) {
        const GgmlType type = tensor_type(mix, role, layer < 0 ? 0 : static_cast<uint32_t>(layer), p.n_layer, p.tied_output);
        const float mean = is_norm(role) ? 1.0f : 0.0f;
        out.push_back(TensorPlan{tensor_name(role, layer), std::move(ne), type, mean, stddev});
    };
    constexpr float norm_noise = 0.02f;
    add("token_embd", -1, {e, p.n_vocab}, inv_sqrt(e));
    for (int l = 0; l < static_cast<int>(p.n_layer); ++l) {
        add("attn_norm", l, {e}, norm_noise);
        add("attn_q", l, {e, q}, inv_sqrt(e));
        add("attn_k", l, {e, kv}, inv_sqrt(e));
        add("attn_v", l, {e, kv}, inv_sqrt(e));
        add("attn_output", l, {q, e}, inv_sqrt(q) * residual);
        add("ffn_norm", l, {e}, norm_noise);
        add("ffn_gate", l, {e, p.n_ff}, inv_sqrt(e));
        add("ffn_up", l, {e, p.n_ff}, inv_sqrt(e));
        add("ffn_down", l, {p.n_ff, e}, inv_sqrt(p.n_ff) * residual);
    }
    add("output_norm", -1, {e}, norm_noise);
    if (!p.tied_output) add("output", -1, {e, p.n_vocab}, inv_sqrt(e));
    return out;
}

MakerSummary make_model(const MakerOptions& options, const std::string& path,
                        const std::function<void(const MakerProgress&)>& progress) {
    const ModelPreset& preset = find_preset(options.preset);
    const QuantMixInfo& mix = find_quant_mix(options.quant);
    const std::vector<TensorPlan> plans = plan_tensors(preset, mix.mix);

    gguf::Writer writer;
    set_metadata(writer, preset, mix, make_vocab(preset.n_vocab), options.seed);

    WorkerPool pool(options.threads);
    MakerProgress state;
    state.tensors = plans.size();
    const auto report = [&] {
        if (progress) progress(state);
    };
    MakerSummary summary;
    summary.tensors = plans.size();
    for (size_t i = 0; i < plans.size(); ++i) {
        const TensorPlan& t = plans[i];
        summary.parameters += t.elements();
        // The writer calls each fill in file order, on this thread, just before writing its bytes.
        writer.add_tensor_deferred(t.name, t.ne, t.type, [&, i](uint8_t* out) {
            state.tensor = i + 1;
            state.name = plans[i].name;
            report();
            fill_tensor(plans[i], options.seed, pool, out);
        });
    }
    writer.write(path, [&](uint64_t done, uint64_t total) {
        state.bytes_done = done;
        state.bytes_total = total;
        report();
    });
    summary.bytes = std::filesystem::file_size(path);
    return summary;
}

}  // namespace llm::model
