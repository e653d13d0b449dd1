// The model maker: GGUF files of Llama-shaped models with random weights, for tests and benchmarks
// that need a real model's shapes and quantisation mix but not its knowledge.
//
// A file holds the llama metadata of formats.md, a byte-level BPE vocabulary (make_vocab), and
// the tensors of plan_tensors(), each generated from (seed, tensor name, row) alone, so that the
// bytes depend on the seed and nothing else (not on the thread count). Tensors are generated and
// quantised on all cores, one tensor at a time, and streamed to disk: memory stays at about the
// largest tensor, whatever the model's size.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/quant.hpp"
#include "tokenizer/tokenizer.hpp"

namespace llm::model {

using kernels::quant::GgmlType;

// The shapes of a model the maker can write.
struct ModelPreset {
    std::string_view name;          // "tiny", "1b", "8b"
    std::string_view description;   // what it imitates
    uint32_t n_layer;
    uint32_t n_embd;
    uint32_t n_head;
    uint32_t n_head_kv;             // fewer than n_head: grouped-query attention
    uint32_t n_ff;
    uint32_t n_vocab;               // tokens, the three special ones included
    uint32_t n_ctx;                 // context_length as written (runners cap what they allocate)
    float rope_base;
    bool tied_output;               // no output.weight: logits use token_embd

    uint32_t head_dim() const { return n_embd / n_head; }
};

// tiny, 1b, 8b, in that order.
std::span<const ModelPreset> model_presets();
// Throws ptxsmith::Error naming the known presets.
const ModelPreset& find_preset(std::string_view name);

// Which GGML type each tensor gets.
enum class QuantMix {
    q4_k_m,   // llama.cpp's Q4_K_M (formats.md): Q4_K, with Q6_K for output and for attn_v/ffn_down
              // of the layers uses_more_bits() picks
    q4_k,     // every matrix Q4_K
    q6_k,     // every matrix Q6_K
    q8_0,     // every matrix Q8_0
    f16,      // every matrix F16
};
struct QuantMixInfo {
    QuantMix mix;
    std::string_view name;   // as --quant spells it
    uint32_t file_type;      // general.file_type (llama.cpp's llama_ftype)
};
std::span<const QuantMixInfo> quant_mixes();
// Throws ptxsmith::Error naming the known mixes.
const QuantMixInfo& find_quant_mix(std::string_view name);

// llama.cpp's choice of the Q4_K_M layers that keep more bits: the first and last eighth of the
// layers, and every third layer between them.
bool uses_more_bits(uint32_t layer, uint32_t n_layer);
// The type of tensor `role` ("token_embd", "output", "attn_q", "ffn_norm", ...) of layer `layer`
// (ignored for the global tensors). Norms are always F32. With a tied output, token_embd serves as
// the output too and takes the output's type, as llama.cpp does.
GgmlType tensor_type(QuantMix mix, std::string_view role, uint32_t layer, uint32_t n_layer, bool tied_output);

// One tensor of a model: its name, shape (ne[0] = in_features, the row length), type, and the
// distribution its values come from: mean + stddev * z, z ~ N(0, 1) (approximately; see
// generate_rows).
struct TensorPlan {
    std::string name;
    std::vector<uint64_t> ne;
    GgmlType type = GgmlType::f32;
    float mean = 0;
    float stddev = 0;

    uint64_t elements() const;
    uint64_t rows() const { return elements() / ne[0]; }
};

// Every tensor of a preset in file order: token_embd, then each layer's attn_norm, attn_q,
// attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down, then output_norm and (unless
// tied) output.
std::vector<TensorPlan> plan_tensors(const ModelPreset& preset, QuantMix mix);

// The f32 values of rows [first_row, first_row + rows) of tensor `t` for `seed` (rows * ne[0]
// values). Each row depends only on (seed, t.name, row).
void generate_rows(const TensorPlan& t, uint64_t seed, uint64_t first_row, uint64_t rows, float* out);

// A byte-level BPE vocabulary ("gpt2", pre-tokeniser "llama-bpe") of exactly n_vocab tokens
// (at least 259): the 256 byte tokens, merged tokens, then <|begin_of_text|> (bos),
// <|end_of_text|> (eos) and <|eot_id|> (eot), all three control tokens. Deterministic.
VocabData make_vocab(uint32_t n_vocab);

struct MakerOptions {
    std::string preset = "tiny";
    std::string quant = "q4_k_m";
    uint64_t seed = 0;
    unsigned threads = 0;   // worker threads; 0: every core
};

// Where a write stands: called on the writing thread, after each tensor is generated and
// whenever bytes reach the file.
struct MakerProgress {
    size_t tensor = 0;           // 1-based index of the tensor being generated or written
    size_t tensors = 0;
    std::string_view name;       // its name
    uint64_t bytes_done = 0;     // bytes of the file written so far
    uint64_t bytes_total = 0;
};

struct MakerSummary {
    size_t tensors = 0;
    uint64_t parameters = 0;
    uint64_t bytes = 0;          // the file's size
};

// Writes the model to `path` (through a temporary file and a rename). Throws ptxsmith::Error for
// an unknown preset or mix, or when the file cannot be written.
MakerSummary make_model(const MakerOptions& options, const std::string& path,
                        const std::function<void(const MakerProgress&)>& progress = {});

}  // namespace llm::model
