#include "model/tokenizer_from_gguf.hpp"

#include <fmt/format.h>

#include <optional>

namespace llm::model {

namespace {

int32_t optional_id(const gguf::Reader& r, std::string_view key) {
    const std::optional<int32_t> id = r.get_optional<int32_t>(key);
    return id ? *id : -1;
}

// Pre-tokenisers whose models expect a BOS token although the byte-level family usually does not.
bool llama3_style(const std::string& pre) {
    return pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3";
}

}  // namespace

VocabData vocab_from_gguf(const gguf::Reader& r) {
    if (!r.has("tokenizer.ggml.model") || !r.has("tokenizer.ggml.tokens")) {
        throw ptxsmith::Error(fmt::format("{}: the file has no tokenizer (tokenizer.ggml.model and tokenizer.ggml.tokens are required)", r.path()));
    }
    VocabData d;
    d.model = r.get<std::string>("tokenizer.ggml.model");
    d.pre = r.get_optional<std::string>("tokenizer.ggml.pre").value_or("default");
    d.tokens = r.get_strings("tokenizer.ggml.tokens");
    if (r.has("tokenizer.ggml.scores")) d.scores = r.get_f32s("tokenizer.ggml.scores");
    if (r.has("tokenizer.ggml.token_type")) d.token_types = r.get_i32s("tokenizer.ggml.token_type");
    if (r.has("tokenizer.ggml.merges")) d.merges = r.get_strings("tokenizer.ggml.merges");
    d.bos = optional_id(r, "tokenizer.ggml.bos_token_id");
    d.eos = optional_id(r, "tokenizer.ggml.eos_token_id");
    d.eot = optional_id(r, "tokenizer.ggml.eot_token_id");
    d.unk = optional_id(r, "tokenizer.ggml.unknown_token_id");
    d.pad = optional_id(r, "tokenizer.ggml.padding_token_id");

    const bool default_bos = d.bos >= 0 && (d.model == "llama" || llama3_style(d.pre));
    d.add_bos = r.get_optional<bool>("tokenizer.ggml.add_bos_token").value_or(default_bos);
    d.add_eos = r.get_optional<bool>("tokenizer.ggml.add_eos_token").value_or(false);
    d.add_space_prefix = r.get_optional<bool>("tokenizer.ggml.add_space_prefix").value_or(true);
    return d;
}

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const gguf::Reader& reader) {
    const VocabData data = vocab_from_gguf(reader);
    try {
        return Tokenizer::create(data);
    } catch (const TokenizerError& e) {
        throw TokenizerError(fmt::format("{}: {}", reader.path(), e.what()));
    }
}

}  // namespace llm::model
