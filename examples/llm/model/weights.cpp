#include "model/weights.hpp"

#include <fmt/format.h>

#include "kernels/quant.hpp"

namespace llm::model {

namespace quant = kernels::quant;

size_t TensorView::row_bytes() const { return quant::row_bytes(type, cols); }

std::span<const uint8_t> TensorView::row(int64_t r) const {
    const size_t n = row_bytes();
    return data.subspan(static_cast<size_t>(r) * n, n);
}

namespace {

std::string shape_text(std::span<const uint64_t> ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", ne[i]);
    return s + "]";
}

// "f32, f16, ...": the types kernels::quant::dequantize reads.
std::string supported_types() {
    std::string s;
    for (uint32_t id = 0; id < 64; ++id) {
        const quant::TypeTraits* t = quant::find_traits(id);
        if (t && t->dequantizable) s += fmt::format("{}{}", s.empty() ? "" : ", ", t->name);
    }
    return s;
}

class Locator {
public:
    explicit Locator(const gguf::Reader& r) : r_(r) {}

    bool has(const std::string& name) const { return r_.find_tensor(name) != nullptr; }

    // A matrix {cols, rows}; `why` names the hyper-parameters behind the expected shape.
    TensorView matrix(const std::string& name, int64_t cols, int64_t rows, const char* why) const {
        return view(name, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)}, why);
    }
    TensorView vector(const std::string& name, int64_t n, const char* why) const {
        return view(name, {static_cast<uint64_t>(n)}, why);
    }
    std::optional<TensorView> optional_vector(const std::string& name, int64_t n, const char* why) const {
        if (!has(name)) return std::nullopt;
        return vector(name, n, why);
    }

private:
    TensorView view(const std::string& name, std::vector<uint64_t> expected, const char* why) const {
        const gguf::TensorInfo* t = r_.find_tensor(name);
        if (!t) throw ptxsmith::Error(fmt::format("{}: tensor {} is missing", r_.path(), name));
        // Trailing dimensions of 1 say nothing: {n, 1} is the vector {n}.
        std::vector<uint64_t> ne = t->ne;
        while (ne.size() > expected.size() && ne.back() == 1) ne.pop_back();
        if (ne != expected) {
            throw ptxsmith::Error(fmt::format("{}: tensor {} has shape {} but the hyper-parameters call for {} ({})", r_.path(),
                                              name, shape_text(t->ne), shape_text(expected), why));
        }
        const quant::TypeTraits& tr = quant::traits(t->type);
        if (!tr.dequantizable) {
            throw ptxsmith::Error(fmt::format("{}: tensor {} has type {}, which ptxsmith's forward passes do not support (supported: {})",
                                              r_.path(), name, tr.name, supported_types()));
        }
        TensorView v;
        v.name = name;
        v.type = t->type;
        v.cols = static_cast<int64_t>(expected[0]);
        v.rows = expected.size() > 1 ? static_cast<int64_t>(expected[1]) : 1;
        v.data = r_.tensor_data(*t);
        return v;
    }

    const gguf::Reader& r_;
};

}  // namespace

Weights Weights::locate(const gguf::Reader& reader, const HParams& hp) {
    const Locator at(reader);
    Weights w;
    w.reader = &reader;
    w.hparams = hp;
    const int64_t embd = hp.n_embd, q_dim = hp.q_dim(), kv_dim = hp.kv_dim(), v_dim = hp.v_dim();
    const int64_t out_dim = int64_t{hp.n_head} * hp.head_dim_v;  // the heads' outputs, concatenated

    w.token_embd = at.matrix(tensor_name("token_embd"), embd, hp.n_vocab, "n_embd, n_vocab");
    w.output_norm = at.vector(tensor_name("output_norm"), embd, "n_embd");
    w.tied_output = hp.tied_output;
    w.output = w.tied_output ? w.token_embd : at.matrix(tensor_name("output"), embd, hp.n_vocab, "n_embd, n_vocab");
    w.rope_freqs = at.optional_vector("rope_freqs.weight", hp.n_rot / 2, "rope.dimension_count / 2");

    w.layers.reserve(static_cast<size_t>(hp.n_layer));
    for (int i = 0; i < hp.n_layer; ++i) {
        const auto name = [i](std::string_view role) { return tensor_name(role, i); };
        LayerWeights l;
        l.attn_norm = at.vector(name("attn_norm"), embd, "n_embd");
        l.wq = at.matrix(name("attn_q"), embd, q_dim, "n_embd, n_head * head_dim");
        l.wk = at.matrix(name("attn_k"), embd, kv_dim, "n_embd, n_head_kv * head_dim");
        l.wv = at.matrix(name("attn_v"), embd, v_dim, "n_embd, n_head_kv * head_dim_v");
        // Biases are required where the architecture has them (Qwen2) and used when present
        // elsewhere, as llama.cpp does for llama-architecture files.
        const auto bias = [&](std::string_view role, int64_t n, const char* why) {
            return hp.qkv_bias ? std::optional(at.vector(bias_name(role, i), n, why)) : at.optional_vector(bias_name(role, i), n, why);
        };
        l.bq = bias("attn_q", q_dim, "n_head * head_dim");
        l.bk = bias("attn_k", kv_dim, "n_head_kv * head_dim");
        l.bv = bias("attn_v", v_dim, "n_head_kv * head_dim_v");
        l.wo = at.matrix(name("attn_output"), out_dim, embd, "n_head * head_dim_v, n_embd");
        l.ffn_norm = at.vector(name("ffn_norm"), embd, "n_embd");
        l.ffn_gate = at.matrix(name("ffn_gate"), embd, hp.n_ff, "n_embd, n_ff");
        l.ffn_up = at.matrix(name("ffn_up"), embd, hp.n_ff, "n_embd, n_ff");
        l.ffn_down = at.matrix(name("ffn_down"), hp.n_ff, embd, "n_ff, n_embd");
        w.layers.push_back(std::move(l));
    }
    return w;
}

std::vector<const TensorView*> Weights::all() const {
    std::vector<const TensorView*> v = {&token_embd};
    for (const LayerWeights& l : layers) {
        for (const TensorView* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv}) v.push_back(t);
        for (const auto* b : {&l.bq, &l.bk, &l.bv}) {
            if (*b) v.push_back(&**b);
        }
        for (const TensorView* t : {&l.wo, &l.ffn_norm, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) v.push_back(t);
    }
    v.push_back(&output_norm);
    if (!tied_output) v.push_back(&output);
    if (rope_freqs) v.push_back(&*rope_freqs);
    return v;
}

uint64_t Weights::total_bytes() const {
    uint64_t n = 0;
    for (const TensorView* t : all()) n += t->data.size();
    return n;
}

}  // namespace llm::model
