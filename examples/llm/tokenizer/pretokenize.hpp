// The pre-tokenisers of byte-level BPE vocabularies: each splits text into the pieces its regex
// would match, one after another, before BPE merges inside each piece. The regexes are written
// out in pretokenize.cpp beside hand-written matchers that follow them alternative by
// alternative (std::regex is too slow and knows no Unicode classes).
//
// The pieces cover the text exactly: concatenated, they give the input back, byte for byte.
// Ill-formed UTF-8 never stops a split: each maximal ill-formed unit counts as one character
// that is neither a letter, a number nor white space (as U+FFFD would be).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace llm {

enum class PreTokenizer {
    gpt2,    // GPT-2's regex; GGUF pre "default" and "gpt-2"
    llama3,  // Llama 3's regex; GGUF pre "llama-bpe" (also "llama3", "llama-v3")
    qwen2,   // Qwen2's regex; GGUF pre "qwen2"
};

// The pre-tokeniser for a tokenizer.ggml.pre value; an empty name means "default". nullopt for
// names this project does not implement.
std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name);
// The names pre_tokenizer_from_name accepts, for error messages: "default, gpt-2, ...".
const char* known_pre_tokenizer_names();

// Splits `text` into pieces that are views into it.
std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text);

}  // namespace llm
