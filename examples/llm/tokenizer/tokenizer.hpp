// Tokenizers of GGUF models: SentencePiece-style ("llama": score-driven merges, U+2581 for
// spaces, byte-fallback tokens <0xNN>) and byte-level BPE ("gpt2": ranked merges over GPT-2's
// byte-to-unicode alphabet, after a regex pre-tokeniser). Both are built from a VocabData, which
// holds exactly what the tokenizer.ggml.* keys of a GGUF file hold; the model loader fills it.
//
// encode() first cuts out special tokens (user-defined tokens always, control and unknown
// tokens when parse_special), leftmost-longest, then encodes the text between them, and adds
// BOS/EOS as the metadata says. decode() turns ids back into text. A Tokenizer is immutable
// after create(): encode and decode may run on several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ptxgen/error.hpp"
#include "tokenizer/string_map.hpp"

namespace llm {

class SpecialTokenMatcher;

class TokenizerError : public ptxsmith::Error {
public:
    using ptxsmith::Error::Error;
};

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
    undefined = 0,
    normal = 1,
    unknown = 2,
    control = 3,
    user_defined = 4,
    unused = 5,
    byte = 6,
};

struct VocabData {
    std::string model;                  // "llama" (SentencePiece-style) or "gpt2" (byte-level BPE)
    std::string pre;                    // pre-tokeniser, gpt2 only: "default", "llama-bpe", "qwen2", ...
    std::vector<std::string> tokens;    // token texts; gpt2 texts are in GPT-2's byte alphabet
    std::vector<float> scores;          // required for llama; may be empty for gpt2
    std::vector<int32_t> token_types;   // TokenType values; empty: all normal, except that the
                                        // bos/eos/eot/pad ids count as control and unk as unknown
    std::vector<std::string> merges;    // "a b" pairs in rank order, gpt2 only
    int32_t bos = -1, eos = -1, eot = -1, unk = -1, pad = -1;  // -1: none
    // The loader applies the model's defaults where the file has no key (GGUF: add_bos_token,
    // add_eos_token, add_space_prefix).
    bool add_bos = true, add_eos = false;
    bool add_space_prefix = true;       // llama only: prefix text with a space (one U+2581)
};

class Tokenizer {
public:
    // Checks the data (sizes agree, ids in range, merges name tokens of the vocabulary, the
    // model and pre-tokeniser are known) and builds the tokenizer; throws TokenizerError.
    static std::unique_ptr<Tokenizer> create(const VocabData& data);
    virtual ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // add_special: BOS and EOS as add_bos / add_eos say. parse_special: text spelling a control
    // (or the unknown) token becomes that token; when false it is encoded as plain text.
    // User-defined tokens are matched either way.
    std::vector<int32_t> encode(std::string_view text, bool add_special = true, bool parse_special = true) const;

    // The bytes a token stands for: U+2581 read back as spaces and <0xNN> as the byte (llama),
    // GPT-2's alphabet mapped back to bytes (gpt2), the text itself for control, unknown, unused
    // and user-defined tokens. Not necessarily valid UTF-8 on its own. Throws for an id out of range.
    const std::string& token_bytes(int32_t id) const;

    // The concatenated bytes of `ids`. Control, unknown and unused tokens give their text only when
    // render_special. For llama with add_space_prefix, the space that encode put in front of the
    // text (at the start, and after each special token) is dropped again, so that
    // decode(encode(s)) == s (except that U+2581 in the input comes back as a space).
    std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

    // Token properties; an id out of range throws.
    const std::string& token_text(int32_t id) const;  // as stored in the vocabulary
    TokenType token_type(int32_t id) const;
    // Control, unknown or unused: no text of its own (decode shows it only when render_special).
    bool is_control(int32_t id) const;
    // The id whose text is `text` (lowest id on duplicates), or -1.
    int32_t find_token(std::string_view text) const;

    const std::string& model() const { return model_; }
    size_t vocab_size() const { return texts_.size(); }
    int32_t bos() const { return bos_; }
    int32_t eos() const { return eos_; }
    int32_t eot() const { return eot_; }
    int32_t unk() const { return unk_; }
    int32_t pad() const { return pad_; }
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    // Generation stops here: EOS or EOT.
    bool is_end(int32_t id) const { return id >= 0 && (id == eos_ || id == eot_); }

protected:
    explicit Tokenizer(const VocabData& data);

    // Encodes one stretch of plain text (no special tokens in it). `after_special` is true at
    // the start of the input and right after a special token.
    virtual void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const = 0;
    // Whether decode drops one leading space after the start and after special tokens.
    virtual bool strips_prefix_space() const { return false; }

    void check_id(int32_t id) const;

    // Filled by the derived constructors: bytes_[id] is what token_bytes returns.
    std::vector<std::string> bytes_;

private:
    std::string model_;
    std::vector<std::string> texts_;
    std::vector<TokenType> types_;
    StringMap<int32_t> ids_;  // every token's text -> lowest id with it
    std::unique_ptr<SpecialTokenMatcher> specials_;
    int32_t bos_ = -1, eos_ = -1, eot_ = -1, unk_ = -1, pad_ = -1;
    bool add_bos_ = false, add_eos_ = false;
};

}  // namespace llm
