// flash_attention: causal prefill. The n queries of a chunk sit at positions [p0, p0 + n) and
// attend to cache positions [0, p0 + n); query i sees positions <= p0 + i. p0 is an s32 read from
// device memory, so one kernel serves whole prompts (p0 = 0) and every later chunk.
//   q    f16 [n][q_heads][head_dim], already rotated
//   k, v f16 [kv_heads][max_seq][head_dim] (the KV cache of one layer)
//   out  f32 [n][q_heads][head_dim]
// Query head h reads KV head h / (q_heads / kv_heads). Tensor cores (mma.sync m16n8k16, f16 in,
// f32 accumulate) need sm_80; on sm_75 the same code runs with the product emulated by shuffles.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct FlashAttention {
    uint32_t head_dim = 128;
    uint32_t q_heads = 32;
    uint32_t kv_heads = 8;
    uint32_t len = 256;       // n, the chunk length: sets the grid; rows past it are masked
    uint32_t pos = 0;         // p0 that prepare_inputs writes into the device buffer
    uint32_t max_seq = 4096;
    double scale = 0;         // 0: 1 / sqrt(head_dim)
    uint32_t warps = 4;       // 16 query rows per warp

    static FamilyInfo info();
    static FlashAttention from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const;
    void reference(std::vector<HostBuffer>& args) const;
    std::string notes() const;
    // Causal flops (4 * head_dim per attended query-key pair and query head) and the bytes of q,
    // the attended K and V rows and out, each once.
    BenchWork bench_work() const;
    // The probabilities are rounded to f16 before the product with V (relative 2^-11 each) and
    // ex2.approx adds 2 ulp; against a double reference over outputs of order 1.
    double tolerance() const { return 3e-3; }

    // The scale in effect (the default resolved).
    double effective_scale() const;
    uint32_t query_rows() const { return 16 * warps; }        // Br, query rows per CTA
    uint32_t key_rows() const { return head_dim > 128 ? 32 : 64; }  // Bc, keys per shared tile
};

}  // namespace kernels
