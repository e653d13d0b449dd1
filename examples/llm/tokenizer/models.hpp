// The two tokenizer kinds behind Tokenizer::create (internal to examples/llm/tokenizer).
#pragma once

#include <memory>

#include "tokenizer/tokenizer.hpp"

namespace llm {

// "llama": SentencePiece-style (spm.cpp).
std::unique_ptr<Tokenizer> make_spm_tokenizer(const VocabData& data);
// "gpt2": byte-level BPE (bpe.cpp).
std::unique_ptr<Tokenizer> make_bpe_tokenizer(const VocabData& data);

}  // namespace llm
