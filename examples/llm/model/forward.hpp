// What every forward pass offers the generation loop: run one token at a position, get logits.
// Implementations: CpuForward (the f32 reference) and engine::KernelForward (the generated
// kernels, on a GPU or on the interpreter).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <utility>

namespace llm::model {

// A named intermediate vector of one step, for layer-by-layer comparisons between forward passes.
// Points, in the order a step reaches them (layer is -1 for embd, out_in and logits):
//   embd      the token's embedding row
//   attn_in   rmsnorm(x) * attn_norm           q, k, v   the projections, before bias and RoPE
//   q_rope    q with its bias and RoPE
//   attn      attention output (all heads)     x_attn    the residual stream after attention
//   ffn_in    rmsnorm(x) * ffn_norm            ffn_act   silu(gate) * up
//   x_ffn     the residual stream after the feed-forward block
//   out_in    rmsnorm(x) * output_norm         logits
// A forward reports the points it can observe; quantised activations are reported dequantised.
using TraceFn = std::function<void(std::string_view point, int layer, std::span<const float> values)>;

class Forward {
public:
    virtual ~Forward() = default;
    // The logits (n_vocab values, valid until the next call) of `token` at `pos`, after positions
    // 0 .. pos-1 have run since the last reset().
    virtual std::span<const float> step(int32_t token, int pos) = 0;
    // The greedy choice after `token` at `pos`: the index of the largest logit, ties to the
    // smallest index (as Sampler's greedy). A forward on a device overrides it to choose there
    // and copy one number back instead of the logits.
    virtual int32_t step_greedy(int32_t token, int pos) {
        const std::span<const float> logits = step(token, pos);
        return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    // Runs tokens at positions start, start+1, ... and returns the logits of the last one.
    virtual std::span<const float> prefill(std::span<const int32_t> tokens, int start) = 0;
    virtual void reset() = 0;
    virtual int ctx() const = 0;
    virtual int n_vocab() const = 0;

    // Reports the trace points of every following step to fn (nullptr: stop). A forward may run
    // slower while tracing (one kernel at a time, each output copied back). Traces are of single
    // steps: a kernel forward's chunked prefill reports nothing.
    void set_trace(TraceFn fn) { trace_ = std::move(fn); }

protected:
    bool tracing() const { return static_cast<bool>(trace_); }
    void trace(std::string_view point, int layer, std::span<const float> values) const {
        if (trace_) trace_(point, layer, values);
    }

private:
    TraceFn trace_;
};

}  // namespace llm::model
