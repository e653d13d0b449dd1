// The reference forward pass: plain f32 C++ loops, obviously right rather than fast, against
// which the generated kernels are checked.
//
// Memory: the weights stay in the file's mapping in their stored type; each matrix row is
// dequantised to f32 just before it is used (a row per thread), so a model needs its file size
// plus the KV cache (n_layer * ctx * n_head_kv * (head_dim + head_dim_v) floats), never an f32
// copy of the weights. Norm weights, biases and RoPE frequency factors are small and dequantised
// once.
//
// One step: x = embedding(token); per layer
//   x += Wo * attention(rope(Wq n + bq), rope(Wk n + bk), Wv n + bv)  with n = rmsnorm(x) * attn_norm
//   x += Wdown * (silu(Wgate n) * Wup n)                              with n = rmsnorm(x) * ffn_norm
// then logits = Wout * (rmsnorm(x) * output_norm). Dot products accumulate in double; matrix
// products run on a RowPool, each row whole on one thread, so the logits do not depend on the
// number of threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/forward.hpp"
#include "model/row_pool.hpp"
#include "model/weights.hpp"

namespace llm::model {

class CpuForward final : public Forward {
public:
    // ctx: positions the KV cache holds, 1 .. the model's context length. threads 0: one per
    // hardware thread. Throws ptxsmith::Error for a ctx out of range.
    CpuForward(const Weights& weights, int ctx, unsigned threads = 0);

    // Runs `token` at position `pos` and returns the logits (n_vocab values, valid until the
    // next call). Positions 0 .. pos-1 must have been run since the last reset(); pos may go back
    // (the cache entries from pos on are overwritten). Throws for a token outside the vocabulary
    // or a position that is past the filled cache or ctx.
    std::span<const float> step(int32_t token, int pos) override;
    // Runs tokens at positions start, start+1, ... and returns the logits of the last one.
    std::span<const float> prefill(std::span<const int32_t> tokens, int start) override;
    // Forgets every position.
    void reset() override { filled_ = 0; }

    int ctx() const override { return ctx_; }
    int n_vocab() const override { return hp_.n_vocab; }
    // Positions in the cache (the next step may run at any position up to this).
    int positions() const { return filled_; }
    unsigned threads() const { return pool_.threads(); }

private:
    struct LayerConst {
        std::vector<float> attn_norm, ffn_norm, bq, bk, bv;  // biases empty when absent
    };

    // y[rows] = W x[cols], rows spread over the pool.
    void matvec(const TensorView& w, const float* x, float* y);
    void attention(int layer, int pos);

    const Weights& w_;
    const HParams& hp_;
    int ctx_;
    int filled_ = 0;
    RowPool pool_;
    std::vector<LayerConst> layer_const_;
    std::vector<float> output_norm_;
    std::vector<double> inv_freq_;  // per rotated pair: base^(-2i / n_rot) / freq_factor[i]

    // KV cache: per layer, ctx rows of n_head_kv * head_dim (K) and n_head_kv * head_dim_v (V).
    std::vector<std::vector<float>> k_cache_, v_cache_;
    // Activations of the step in progress.
    std::vector<float> x_, xn_, q_, k_, v_, att_, ffn_gate_, ffn_up_, logits_;
};

// The building blocks, exposed for the tests.
namespace cpu {
// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out);
// Rotates the first 2 * inv_freq.size() values of one head in place by pos * inv_freq[i]:
// pairs (x[2i], x[2i+1]) for normal, (x[i], x[i + n_rot/2]) for neox.
void rope(std::span<float> head, int pos, std::span<const double> inv_freq, RopeStyle style);
// Softmax in place over all values.
void softmax(std::span<float> x);
// silu(gate) * up, element by element, into gate.
void swiglu(std::span<float> gate, std::span<const float> up);
}  // namespace cpu

}  // namespace llm::model
