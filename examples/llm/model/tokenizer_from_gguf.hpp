// The tokenizer.ggml.* keys of a GGUF file as a VocabData (see tokenizer/tokenizer.hpp).
#pragma once

#include <memory>

#include "gguf/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

namespace llm::model {

// Reads tokenizer.ggml.model and .tokens (required), .pre, .scores, .token_type, .merges, the
// special token ids and the add_bos_token / add_eos_token / add_space_prefix flags (optional).
// Missing ids are -1 (none). Missing flags take llama.cpp's defaults: add_bos for llama
// vocabularies and for gpt2 ones with a Llama-3 pre-tokeniser (only when a BOS id exists),
// add_eos off, add_space_prefix on. Throws gguf::GgufError for a key of the wrong type and
// ptxsmith::Error when a required key is missing.
VocabData vocab_from_gguf(const gguf::Reader& reader);

// vocab_from_gguf, then Tokenizer::create; errors name the file.
std::unique_ptr<Tokenizer> tokenizer_from_gguf(const gguf::Reader& reader);

}  // namespace llm::model
