// Small Llama-family GGUF models built in memory for the forward-pass tests: random or
// hand-set f32 weights, optionally stored quantised, with the metadata HParams reads.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "kernels/quant.hpp"

namespace model_test {

using kernels::quant::GgmlType;

struct Spec {
    std::string arch = "llama";
    int n_embd = 16, n_head = 4, n_head_kv = 2, head_dim = 4, n_ff = 24, n_layer = 1, n_vocab = 20;
    int n_rot = 4;         // rope.dimension_count
    int context = 64;
    float eps = 1e-5f, rope_base = 10000.0f;
    bool biases = false;   // Q/K/V biases (written whatever the architecture)
    bool tied = false;     // no output tensor: the head reuses token_embd
    bool rope_freqs = false;
    GgmlType matrix_type = GgmlType::f32;  // storage of every 2-D tensor
};

struct Tensor {
    std::vector<uint64_t> ne;
    std::vector<float> values;  // what the file holds, as f32 (dequantised when stored quantised)
};

// A model: the tensors by GGUF name, and the file.
struct Model {
    Spec spec;
    std::map<std::string, Tensor> tensors;

    const std::vector<float>& at(const std::string& name) const { return tensors.at(name).values; }
    bool has(const std::string& name) const { return tensors.count(name) != 0; }

    void set(const std::string& name, std::vector<uint64_t> ne, std::vector<float> values) {
        tensors[name] = Tensor{std::move(ne), std::move(values)};
    }

    // Metadata plus tensors; 2-D tensors are stored as spec.matrix_type (and `values` replaced by
    // what that storage reads back as, so a reference computed from `values` matches the file).
    std::vector<uint8_t> to_gguf() {
        llm::gguf::Writer w;
        const std::string a = spec.arch;
        w.set("general.architecture", llm::gguf::Value::string(a));
        w.set(a + ".context_length", llm::gguf::Value::u32(static_cast<uint32_t>(spec.context)));
        w.set(a + ".embedding_length", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_embd)));
        w.set(a + ".block_count", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_layer)));
        w.set(a + ".feed_forward_length", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_ff)));
        w.set(a + ".attention.head_count", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_head)));
        w.set(a + ".attention.head_count_kv", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_head_kv)));
        w.set(a + ".attention.key_length", llm::gguf::Value::u32(static_cast<uint32_t>(spec.head_dim)));
        w.set(a + ".attention.value_length", llm::gguf::Value::u32(static_cast<uint32_t>(spec.head_dim)));
        w.set(a + ".attention.layer_norm_rms_epsilon", llm::gguf::Value::f32(spec.eps));
        w.set(a + ".rope.freq_base", llm::gguf::Value::f32(spec.rope_base));
        w.set(a + ".rope.dimension_count", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_rot)));
        w.set(a + ".vocab_size", llm::gguf::Value::u32(static_cast<uint32_t>(spec.n_vocab)));
        std::vector<std::string> tokens;
        for (int i = 0; i < spec.n_vocab; ++i) tokens.push_back("t" + std::to_string(i));
        w.set("tokenizer.ggml.model", llm::gguf::Value::string("llama"));
        w.set("tokenizer.ggml.tokens", llm::gguf::Value::strings(tokens));
        w.set("tokenizer.ggml.scores", llm::gguf::Value::f32s(std::vector<float>(tokens.size(), 0.0f)));
        for (auto& [name, t] : tensors) {
            const GgmlType type = t.ne.size() == 2 ? spec.matrix_type : GgmlType::f32;
            std::vector<uint8_t> bytes = kernels::quant::quantize(type, t.values);
            t.values = kernels::quant::dequantize(type, bytes, static_cast<int64_t>(t.values.size()));
            w.add_tensor(name, t.ne, type, std::move(bytes));
        }
        return w.to_bytes();
    }
};

inline std::vector<float> random_values(std::mt19937& rng, size_t n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

// Every tensor the spec calls for, with random values; norms near 1.
inline Model random_model(const Spec& spec, uint64_t seed) {
    std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
    Model m;
    m.spec = spec;
    const auto u = [](int v) { return static_cast<uint64_t>(v); };
    const int q_dim = spec.n_head * spec.head_dim, kv_dim = spec.n_head_kv * spec.head_dim;
    const auto matrix = [&](const std::string& name, int cols, int rows) {
        m.set(name, {u(cols), u(rows)}, random_values(rng, static_cast<size_t>(cols) * static_cast<size_t>(rows), 1.0f / std::sqrt(static_cast<float>(cols))));
    };
    const auto norm = [&](const std::string& name, int n) {
        std::vector<float> v = random_values(rng, static_cast<size_t>(n), 0.2f);
        for (float& x : v) x += 1.0f;
        m.set(name, {u(n)}, std::move(v));
    };
    m.set("token_embd.weight", {u(spec.n_embd), u(spec.n_vocab)}, random_values(rng, static_cast<size_t>(spec.n_embd * spec.n_vocab), 1.0f));
    norm("output_norm.weight", spec.n_embd);
    if (!spec.tied) matrix("output.weight", spec.n_embd, spec.n_vocab);
    if (spec.rope_freqs) {
        std::vector<float> f(static_cast<size_t>(spec.n_rot / 2));
        for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + static_cast<float>(i % 3);
        m.set("rope_freqs.weight", {f.size()}, f);
    }
    for (int l = 0; l < spec.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        norm(p + "attn_norm.weight", spec.n_embd);
        matrix(p + "attn_q.weight", spec.n_embd, q_dim);
        matrix(p + "attn_k.weight", spec.n_embd, kv_dim);
        matrix(p + "attn_v.weight", spec.n_embd, kv_dim);
        if (spec.biases) {
            m.set(p + "attn_q.bias", {u(q_dim)}, random_values(rng, static_cast<size_t>(q_dim), 0.5f));
            m.set(p + "attn_k.bias", {u(kv_dim)}, random_values(rng, static_cast<size_t>(kv_dim), 0.5f));
            m.set(p + "attn_v.bias", {u(kv_dim)}, random_values(rng, static_cast<size_t>(kv_dim), 0.5f));
        }
        matrix(p + "attn_output.weight", q_dim, spec.n_embd);
        norm(p + "ffn_norm.weight", spec.n_embd);
        matrix(p + "ffn_gate.weight", spec.n_embd, spec.n_ff);
        matrix(p + "ffn_up.weight", spec.n_embd, spec.n_ff);
        matrix(p + "ffn_down.weight", spec.n_ff, spec.n_embd);
    }
    return m;
}

}  // namespace model_test
