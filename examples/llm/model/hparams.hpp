// What a GGUF file says about its model: the hyper-parameters of a Llama-family decoder, read from
// the metadata through one table of supported architectures.
//
// The table (architectures()) holds what differs between architectures and is not stored in the
// file: the rotary style, whether Q/K/V carry biases, and the defaults of optional keys. Adding an
// architecture is adding a row, never a branch. Keys are "{arch}.NAME" (formats.md):
//   required  context_length, embedding_length, block_count, feed_forward_length,
//             attention.head_count
//   optional  attention.head_count_kv (default: head_count), attention.key_length (default:
//             embedding_length / head_count), attention.value_length (default: key_length),
//             rope.dimension_count (default: key_length), attention.layer_norm_rms_epsilon and
//             rope.freq_base (defaults: the table's), vocab_size (else the length of
//             tokenizer.ggml.tokens, else token_embd's second dimension), rope.scaling.type and
//             rope.scaling.factor (recorded, not applied here).
// Integer keys may be u32 or u64 (any integer type in range is accepted).
//
// Tensor names are the ".weight"/".bias" names real files use: tensor_name("attn_q", 3) is
// "blk.3.attn_q.weight". The output projection is tied to token_embd when "output.weight" is absent.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ptxgen/error.hpp"

namespace llm::gguf {
class Reader;
}

namespace llm::model {

// How RoPE pairs the values of a head (formats.md): normal rotates (x[2i], x[2i+1]) (GGUF llama
// weights were permuted for it at conversion); neox rotates (x[i], x[i + n_rot/2]).
enum class RopeStyle { normal, neox };
const char* rope_style_name(RopeStyle s);  // "normal", "neox"

// One row of the architecture table.
struct ArchInfo {
    std::string_view name;          // general.architecture
    RopeStyle rope_style;
    bool qkv_bias;                  // blk.N.attn_q/k/v.bias exist
    float default_norm_eps;         // when attention.layer_norm_rms_epsilon is absent
    float default_rope_base;        // when rope.freq_base is absent
};

// Every supported architecture, in a fixed order.
std::span<const ArchInfo> architectures();
// The row for `name`, or nullptr.
const ArchInfo* find_architecture(std::string_view name);

struct HParams {
    std::string arch;               // general.architecture
    std::string name;               // general.name, or "" when absent
    RopeStyle rope_style = RopeStyle::normal;
    bool qkv_bias = false;

    // Counts are ints, each checked at read to be in [1, 2^31) (n_rot may not be 0 either).
    int n_layer = 0;                // block_count
    int n_embd = 0;                 // embedding_length: the residual stream's width
    int n_head = 0;                 // query heads
    int n_head_kv = 0;              // key/value heads (n_head / n_head_kv query heads share one)
    int head_dim = 0;               // key_length: width of a query/key head
    int head_dim_v = 0;             // value_length: width of a value head
    int n_rot = 0;                  // rope.dimension_count: leading values of a head that rotate
    int n_ff = 0;                   // feed_forward_length
    int n_vocab = 0;
    int n_ctx_train = 0;            // context_length: what the model was trained for (runners cap it)
    float norm_eps = 0;             // RMSNorm epsilon
    float rope_base = 0;            // rope.freq_base
    std::string rope_scaling_type;  // rope.scaling.type, "" when absent
    float rope_scaling_factor = 0;  // rope.scaling.factor, 0 when absent
    bool tied_output = false;       // no output.weight: logits use token_embd

    int64_t q_dim() const { return int64_t{n_head} * head_dim; }        // attn_q's output width
    int64_t kv_dim() const { return int64_t{n_head_kv} * head_dim; }    // attn_k's output width
    int64_t v_dim() const { return int64_t{n_head_kv} * head_dim_v; }   // attn_v's output width
    int gqa_group() const { return n_head / n_head_kv; }                // query heads per KV head

    // Reads and checks the metadata of `file` (an unsupported architecture, a missing required
    // key, a zero or inconsistent value: ptxsmith::Error naming the file and the key).
    static HParams from_gguf(const gguf::Reader& file);
};

// "token_embd.weight", "output_norm.weight", "output.weight" (layer < 0), or
// "blk.{layer}.{role}.weight" for a per-layer role ("attn_q", "ffn_down", ...).
std::string tensor_name(std::string_view role, int layer = -1);
// "blk.{layer}.{role}.bias".
std::string bias_name(std::string_view role, int layer);

}  // namespace llm::model
