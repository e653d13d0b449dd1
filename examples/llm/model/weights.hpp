// The tensors of a Llama-family model, found by role in a GGUF file and checked against the
// hyper-parameters: every forward pass (CPU reference, interpreter, CUDA) starts from here.
//
// Nothing is copied or converted: each TensorView points into the Reader's mapping, which must
// outlive the Weights. Shapes follow ../shared/formats.md: a matrix {ne0 = in, ne1 = out}
// computes y[out] = W x[in], one row of W per output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "model/hparams.hpp"

namespace llm::model {

struct TensorView {
    std::string name;
    kernels::quant::GgmlType type = kernels::quant::GgmlType::f32;
    int64_t cols = 0;   // ne0: elements per row
    int64_t rows = 1;   // ne1: 1 for a vector
    std::span<const uint8_t> data;

    size_t row_bytes() const;
    // The bytes of row r (0 <= r < rows).
    std::span<const uint8_t> row(int64_t r) const;
};

struct LayerWeights {
    TensorView attn_norm;              // {n_embd}
    TensorView wq;                     // {n_embd, n_head * head_dim}
    TensorView wk;                     // {n_embd, n_head_kv * head_dim}
    TensorView wv;                     // {n_embd, n_head_kv * head_dim_v}
    std::optional<TensorView> bq, bk, bv;  // Q/K/V biases (Qwen2): {rows of wq / wk / wv}
    TensorView wo;                     // {n_head * head_dim_v, n_embd}
    TensorView ffn_norm;               // {n_embd}
    TensorView ffn_gate, ffn_up;       // {n_embd, n_ff}
    TensorView ffn_down;               // {n_ff, n_embd}
};

struct Weights {
    // Finds every tensor the architecture needs and checks its shape and type. Throws
    // ptxsmith::Error naming the file and the tensor: missing, of the wrong shape (with the
    // shape expected and the hyper-parameters behind it), or of a type the forward passes cannot
    // read (anything kernels::quant::dequantize does not support).
    static Weights locate(const gguf::Reader& reader, const HParams& hparams);

    const gguf::Reader* reader = nullptr;
    HParams hparams;
    TensorView token_embd;              // {n_embd, n_vocab}: row t is token t's embedding
    std::vector<LayerWeights> layers;
    TensorView output_norm;             // {n_embd}
    TensorView output;                  // {n_embd, n_vocab}; token_embd itself when tied
    bool tied_output = false;           // hparams.tied_output
    std::optional<TensorView> rope_freqs;  // {n_rot / 2}: per-pair frequency divisors (Llama 3.1+)

    // Every located tensor once (a tied output is token_embd), in file-role order.
    std::vector<const TensorView*> all() const;
    // Bytes of all().
    uint64_t total_bytes() const;
};

}  // namespace llm::model
