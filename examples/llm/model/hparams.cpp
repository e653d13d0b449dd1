// HParams from GGUF metadata, through the architecture table.
#include "model/hparams.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "gguf/gguf.hpp"

namespace llm::model {

namespace {

// Defaults are those of the reference implementations' configurations: Llama's RMSNorm epsilon
// 1e-5 and RoPE base 10000; Qwen2's 1e-6 and 1000000.
constexpr std::array kArchitectures{
    ArchInfo{"llama", RopeStyle::normal, false, 1e-5f, 10000.0f},
    ArchInfo{"qwen2", RopeStyle::neox, true, 1e-6f, 1000000.0f},
};

std::string supported_names() {
    std::string s;
    for (const ArchInfo& a : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(a.name);
    return s;
}

// Reads "{arch}.{key}" values of one file, turning the reader's errors into messages that name
// the file and what the model needs.
class KeyReader {
public:
    KeyReader(const gguf::Reader& file, std::string arch) : file_(file), arch_(std::move(arch)) {}

    std::string key(std::string_view name) const { return fmt::format("{}.{}", arch_, name); }

    template <class T>
    std::optional<T> optional(std::string_view name) const {
        const std::string k = key(name);
        try {
            return file_.get_optional<T>(k);
        } catch (const ptxsmith::Error& e) {
            throw ptxsmith::Error(fmt::format("{}: metadata key {} cannot be read as the model needs: {}", file_.path(), k,
                                              e.what()));
        }
    }

    template <class T>
    T required(std::string_view name) const {
        if (auto v = optional<T>(name)) return *v;
        throw ptxsmith::Error(fmt::format("{}: metadata key {} is missing; a {} model needs it", file_.path(), key(name),
                                          arch_));
    }

    // A count: at least 1 and below 2^31.
    int count(std::string_view name, uint64_t v) const {
        if (v == 0 || v > static_cast<uint64_t>(INT32_MAX)) {
            throw ptxsmith::Error(fmt::format("{}: metadata key {} is {}; it must be between 1 and {}", file_.path(), key(name), v,
                                              INT32_MAX));
        }
        return static_cast<int>(v);
    }
    int required_count(std::string_view name) const { return count(name, required<uint64_t>(name)); }
    int optional_count(std::string_view name, int fallback) const {
        const auto v = optional<uint64_t>(name);
        return v ? count(name, *v) : fallback;
    }

private:
    const gguf::Reader& file_;
    std::string arch_;
};

// The vocabulary size: the key, else the token list, else token_embd's rows.
int vocab_size(const gguf::Reader& file, const KeyReader& keys) {
    if (const auto v = keys.optional<uint64_t>("vocab_size")) return keys.count("vocab_size", *v);
    if (const gguf::Value* tokens = file.find("tokenizer.ggml.tokens")) {
        if (const auto* a = std::get_if<gguf::Array>(&tokens->data); a != nullptr && !a->items.empty()) {
            return keys.count("vocab_size (the length of tokenizer.ggml.tokens)", a->items.size());
        }
    }
    if (const gguf::TensorInfo* t = file.find_tensor(tensor_name("token_embd")); t != nullptr && t->ne.size() >= 2) {
        return keys.count("vocab_size (token_embd.weight's rows)", t->ne[1]);
    }
    throw ptxsmith::Error(fmt::format("{}: cannot tell the vocabulary size: no {}, no tokenizer.ggml.tokens and no "
                                      "two-dimensional token_embd.weight",
                                      file.path(), keys.key("vocab_size")));
}

void check(bool ok, const gguf::Reader& file, const std::string& what) {
    if (!ok) throw ptxsmith::Error(fmt::format("{}: {}", file.path(), what));
}

}  // namespace

const char* rope_style_name(RopeStyle s) { return s == RopeStyle::neox ? "neox" : "normal"; }

std::span<const ArchInfo> architectures() { return kArchitectures; }

const ArchInfo* find_architecture(std::string_view name) {
    for (const ArchInfo& a : kArchitectures) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

HParams HParams::from_gguf(const gguf::Reader& file) {
    const auto arch = file.get_optional<std::string>("general.architecture");
    if (!arch) throw ptxsmith::Error(fmt::format("{}: metadata key general.architecture is missing", file.path()));
    const ArchInfo* info = find_architecture(*arch);
    if (info == nullptr) {
        throw ptxsmith::Error(fmt::format("{}: architecture '{}' (general.architecture) is not supported; supported: {}",
                                          file.path(), *arch, supported_names()));
    }
    const KeyReader keys(file, *arch);

    HParams h;
    h.arch = *arch;
    h.name = file.get_optional<std::string>("general.name").value_or("");
    h.rope_style = info->rope_style;
    h.qkv_bias = info->qkv_bias;

    h.n_ctx_train = keys.required_count("context_length");
    h.n_embd = keys.required_count("embedding_length");
    h.n_layer = keys.required_count("block_count");
    h.n_ff = keys.required_count("feed_forward_length");
    h.n_head = keys.required_count("attention.head_count");
    h.n_head_kv = keys.optional_count("attention.head_count_kv", h.n_head);
    check(h.n_head % h.n_head_kv == 0, file,
          fmt::format("{} heads cannot share {} key/value heads evenly ({} / {})", h.n_head, h.n_head_kv,
                      keys.key("attention.head_count"), keys.key("attention.head_count_kv")));

    const bool even_heads = h.n_embd % h.n_head == 0;
    const auto key_length = keys.optional<uint64_t>("attention.key_length");
    check(key_length.has_value() || even_heads, file,
          fmt::format("{} has no {} and its width {} is not a multiple of its {} heads", *arch,
                      keys.key("attention.key_length"), h.n_embd, h.n_head));
    h.head_dim = keys.optional_count("attention.key_length", h.n_embd / h.n_head);
    h.head_dim_v = keys.optional_count("attention.value_length", h.head_dim);
    h.n_rot = keys.optional_count("rope.dimension_count", h.head_dim);
    check(h.n_rot <= h.head_dim && h.n_rot % 2 == 0, file,
          fmt::format("{} = {} must be even and at most the head width {}", keys.key("rope.dimension_count"), h.n_rot,
                      h.head_dim));

    h.norm_eps = keys.optional<float>("attention.layer_norm_rms_epsilon").value_or(info->default_norm_eps);
    check(h.norm_eps > 0, file, fmt::format("{} = {} must be positive", keys.key("attention.layer_norm_rms_epsilon"), h.norm_eps));
    h.rope_base = keys.optional<float>("rope.freq_base").value_or(info->default_rope_base);
    check(h.rope_base > 0, file, fmt::format("{} = {} must be positive", keys.key("rope.freq_base"), h.rope_base));
    h.rope_scaling_type = keys.optional<std::string>("rope.scaling.type").value_or("");
    h.rope_scaling_factor = keys.optional<float>("rope.scaling.factor").value_or(0.0f);

    h.n_vocab = vocab_size(file, keys);
    h.tied_output = file.find_tensor(tensor_name("output")) == nullptr;
    return h;
}

std::string tensor_name(std::string_view role, int layer) {
    if (layer < 0) return fmt::format("{}.weight", role);
    return fmt::format("blk.{}.{}.weight", layer, role);
}

std::string bias_name(std::string_view role, int layer) { return fmt::format("blk.{}.{}.bias", layer, role); }

}  // namespace llm::model
