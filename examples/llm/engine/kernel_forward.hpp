// The forward pass on generated kernels: the same model as CpuForward, run by the kernels of
// kernels/ on any runtime device (a GPU, or the CPU interpreter, which executes exactly the
// kernels a GPU would).
//
// One decode step (rows = 1), per layer:
//   rmsnorm_q8_1 -> Q, K, V products -> rope_kv_scatter (+ Qwen2 biases) -> decode_attention
//   -> quantize_q8_1 -> output product (residual epilogue: x += Wo a)
//   -> rmsnorm_q8_1 -> gate/up product with SwiGLU, Q8_1 out -> down product (residual epilogue)
// then rmsnorm_q8_1, the output head and argmax. Products whose plan reads f32 (f16 weights) get
// f32 activations instead (rmsnorm, f32 SwiGLU output). The token, position and length live in
// device memory, so the step is captured once as a graph and replayed for every token.
//
// Prefill runs the prompt in chunks of up to max_chunk tokens, each padded to a power of two of
// at least 8 rows: products in batches of up to 64 vectors for Q4_K and Q6_K (tensor cores) and 8 for the
// other formats (the weights read once per batch), RoPE and
// the cache writes for the whole chunk, flash_attention over it. Padding rows repeat the last
// token at the following positions; their cache rows lie past the prompt and are overwritten
// before anything attends to them, which is why the cache holds ctx + max_chunk rows.
//
// Memory: the weights (DeviceWeights), the KV cache (per layer K and V, f16
// [n_head_kv][ctx + max_chunk][head_dim]) and one arena of activations sized for a whole chunk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/device_weights.hpp"
#include "engine/kernel_set.hpp"
#include "model/forward.hpp"
#include "model/weights.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace llm::engine {

struct Op;  // one launch of a planned pass (kernel_forward.cpp)

struct KernelForwardOptions {
    int ctx = 4096;        // positions the cache holds: 1 .. the model's context length
    int max_chunk = 512;   // prefill rows per pass: a power of two, 8 .. 4096
    bool graph = true;     // replay the decode step as a captured graph
    // From this position on, decode attention uses the plan's chunk size; below it, smaller
    // chunks that spread a short cache over more CTAs (two graphs; kernel_forward.cpp).
    int long_attention_from = 1024;
};

// One launch of a profiled decode step.
struct KernelTime {
    std::string kernel;
    double ms = 0;
    uint64_t weight_bytes = 0;  // the weights it reads (matrix-vector products), else 0
};

struct MemoryUse {
    uint64_t weights = 0, kv_cache = 0, activations = 0;
    uint64_t total() const { return weights + kv_cache + activations; }
};

// Why the kernels cannot run this model (a tensor format, a head size, ...), or nullopt when they
// can: what KernelForward's constructor would refuse it for, asked beforehand.
std::optional<std::string> unsupported_reason(const model::Weights& weights);

class KernelForward final : public model::Forward {
public:
    // Uploads the weights (progress to `progress`), allocates the cache and activations, and
    // generates and compiles every kernel the model needs. Throws ptxsmith::Error for a model
    // the kernels cannot run (naming the tensor or hyper-parameter and what is supported).
    KernelForward(ptxsmith::runtime::Device& dev, const model::Weights& weights, const KernelForwardOptions& options,
                  const UploadProgress& progress = {});
    ~KernelForward() override;

    std::span<const float> step(int32_t token, int pos) override;
    int32_t step_greedy(int32_t token, int pos) override;
    std::span<const float> prefill(std::span<const int32_t> tokens, int start) override;
    void reset() override { filled_ = 0; }
    int ctx() const override { return ctx_; }
    int n_vocab() const override;

    MemoryUse memory() const;
    const KernelSet& kernels() const;
    // Bytes of weights one decode step reads (every matrix once, the embedding row aside).
    uint64_t decode_weight_bytes() const { return decode_weight_bytes_; }
    // Device milliseconds of each kernel of one decode step at `pos`, in step order: after the
    // step has run once, each kernel's launches (one per layer, say) are replayed in turn from a
    // graph, at least 20 launches, and each is charged the mean. Positions up to pos must be
    // filled; afterwards positions up to pos - 1 remain (row pos and the activations are garbage).
    std::vector<KernelTime> profile_step(int32_t token, int pos);

    struct Impl;

private:
    void check_step(int32_t token, int pos) const;
    void run_step(int32_t token, int pos);
    // Launches ops in order; while tracing (and `traced`), copies each traced output back after
    // its op.
    void run(const std::vector<Op>& ops, bool traced = true);

    std::unique_ptr<Impl> impl_;
    int ctx_ = 0;
    int filled_ = 0;
    uint64_t decode_weight_bytes_ = 0;
};

}  // namespace llm::engine
