// rope_kv_scatter: applies RoPE to the Q and K projections of `tokens` new tokens, writes K and V
// (f16, round to nearest) into the KV cache at each token's position and the rotated Q out (f32 or f16).
//
// Buffers, in launch order:
//   q        f32 [tokens][q_heads * head_dim]     input
//   k, v     f32 [tokens][kv_heads * head_dim]    input
//   bq       f32 [q_heads * head_dim]             input, only with bias: one per element, every token
//   bk, bv   f32 [kv_heads * head_dim]            input, only with bias
//   pos      s32 [tokens]                         input (device memory: a graph replays unchanged)
//   k_cache  f16 [kv_heads][max_seq][head_dim]    inout: only rows pos[t] of each head are written
//   v_cache  f16 [kv_heads][max_seq][head_dim]    inout
//   q_out    f32 or f16 [tokens][q_heads][head_dim]  output (f16: round to nearest)
// With bias, q + bq, k + bk and v + bv (f32 adds, round to nearest) replace q, k and v before
// anything else: the rotation sees the biased values and V is stored biased.
// RoPE with rotary dimension n_rot (even, <= head_dim) and frequency base b: pair i < n_rot/2 turns
// by theta = pos * b^(-2i / n_rot); "normal" pairs (x[2i], x[2i+1]), "neox" pairs (x[i], x[i + n_rot/2]).
// Dimensions >= n_rot pass through unchanged: x0' = x0 cos - x1 sin, x1' = x0 sin + x1 cos.
// A position outside [0, max_seq) writes nothing to either cache (that token's K and V are dropped);
// its Q is still rotated by that position and written.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

enum class RopeStyle { normal, neox };

struct RopeKvScatter {
    uint32_t head_dim = 128;
    uint32_t q_heads = 32;
    uint32_t kv_heads = 8;
    uint32_t tokens = 1;
    uint32_t max_seq = 4096;
    RopeStyle style = RopeStyle::normal;
    uint32_t rot_dim = 0;   // 0: head_dim
    double base = 500000;
    bool q_out_f16 = false;  // q_out in f16 (the prefill attention's input) rather than f32
    bool bias = false;       // three bias buffers follow v

    static FamilyInfo info();
    static RopeKvScatter from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    // The caches hold f16: where the f32 kernel and the double reference fall on either side of a
    // rounding midpoint they differ by one half-precision ulp, at most 2^-10 of the largest value.
    // An f32 q_out is much closer (about 2e-6; tests/test_rope_kv_scatter.cpp checks it apart); an
    // f16 one is held to the caches' bound.
    double tolerance() const { return 1.0 / 1024; }
    // Distinct random positions in [0, max_seq), the last token at max_seq - 1 (a cache write
    // racing another to one row would have no single right answer).
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const;
    std::string notes() const;
    // The bytes it must move: per token, q in and out, k and v in, their f16 cache rows and the
    // position; the biases once. Not the whole caches, which it only scatters rows into.
    BenchWork bench_work() const;

    // Positions of the arguments after v in args() (the biases, when present, come first).
    size_t pos_arg() const { return bias ? 6 : 3; }
    size_t k_cache_arg() const { return pos_arg() + 1; }
    size_t v_cache_arg() const { return pos_arg() + 2; }
    size_t q_out_arg() const { return pos_arg() + 3; }

    uint32_t n_rot() const { return rot_dim == 0 ? head_dim : rot_dim; }
    // Threads per head: one per rotation pair, rounded up to whole warps.
    uint32_t lanes_per_head() const { return (head_dim / 2 + 31) / 32 * 32; }
    // Head slots (each query head, then each KV head doing K and V) per CTA.
    uint32_t heads_per_cta() const;
    // Turns per position of pair i, as a 0.64 fixed-point fraction: round(2^64 * b^(-2i/n_rot) / 2pi).
    uint64_t turns_fixed(uint32_t pair) const;
};

}  // namespace kernels
