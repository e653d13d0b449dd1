#include "tokenizer/tokenizer.hpp"

#include <fmt/format.h>

#include <limits>

#include "tokenizer/models.hpp"
#include "tokenizer/special_tokens.hpp"

namespace llm {

namespace {

// The special ids of VocabData, checked: -1 or a token of the vocabulary.
void check_special_id(const char* name, int32_t id, size_t vocab_size) {
    if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= vocab_size)) {
        throw TokenizerError(fmt::format("the {} token id {} is outside the vocabulary of {} tokens", name, id, vocab_size));
    }
}

std::vector<TokenType> resolve_types(const VocabData& d) {
    const size_t n = d.tokens.size();
    std::vector<TokenType> types(n, TokenType::normal);
    if (!d.token_types.empty()) {
        if (d.token_types.size() != n) {
            throw TokenizerError(fmt::format("the vocabulary has {} tokens but {} token types", n, d.token_types.size()));
        }
        for (size_t i = 0; i < n; ++i) {
            const int32_t t = d.token_types[i];
            if (t < 0 || t > 6) {
                throw TokenizerError(fmt::format("token {} ('{}') has type {}, which is not a token type (0..6)", i, d.tokens[i], t));
            }
            types[i] = static_cast<TokenType>(t);
        }
        return types;
    }
    // No types in the file: the named special ids are what they are named for.
    for (const int32_t id : {d.bos, d.eos, d.eot, d.pad}) {
        if (id >= 0) types[static_cast<size_t>(id)] = TokenType::control;
    }
    if (d.unk >= 0) types[static_cast<size_t>(d.unk)] = TokenType::unknown;
    return types;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::create(const VocabData& data) {
    if (data.model == "llama") return make_spm_tokenizer(data);
    if (data.model == "gpt2") return make_bpe_tokenizer(data);
    throw TokenizerError(fmt::format("tokenizer model '{}' (tokenizer.ggml.model) is not supported; "
                                     "supported: llama (SentencePiece-style), gpt2 (byte-level BPE)", data.model));
}

Tokenizer::Tokenizer(const VocabData& data) : model_(data.model), texts_(data.tokens) {
    const size_t n = texts_.size();
    if (n == 0) throw TokenizerError(fmt::format("the {} vocabulary has no tokens", model_));
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) throw TokenizerError(fmt::format("the vocabulary has {} tokens, too many for 32-bit ids", n));
    check_special_id("BOS", data.bos, n);
    check_special_id("EOS", data.eos, n);
    check_special_id("EOT", data.eot, n);
    check_special_id("unknown", data.unk, n);
    check_special_id("padding", data.pad, n);
    if (data.add_bos && data.bos < 0) throw TokenizerError("add_bos is set but the vocabulary names no BOS token");
    if (data.add_eos && data.eos < 0) throw TokenizerError("add_eos is set but the vocabulary names no EOS token");
    types_ = resolve_types(data);
    bos_ = data.bos, eos_ = data.eos, eot_ = data.eot, unk_ = data.unk, pad_ = data.pad;
    add_bos_ = data.add_bos, add_eos_ = data.add_eos;

    ids_.reserve(n);
    specials_ = std::make_unique<SpecialTokenMatcher>();
    for (size_t i = 0; i < n; ++i) {
        const auto id = static_cast<int32_t>(i);
        ids_.try_emplace(texts_[i], id);
        switch (types_[i]) {
            case TokenType::control:
            case TokenType::unknown: specials_->add(texts_[i], id, false); break;
            case TokenType::user_defined: specials_->add(texts_[i], id, true); break;
            default: break;
        }
    }
}

Tokenizer::~Tokenizer() = default;

void Tokenizer::check_id(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= texts_.size()) {
        throw TokenizerError(fmt::format("token id {} is outside the vocabulary of {} tokens", id, texts_.size()));
    }
}

const std::string& Tokenizer::token_text(int32_t id) const {
    check_id(id);
    return texts_[static_cast<size_t>(id)];
}

TokenType Tokenizer::token_type(int32_t id) const {
    check_id(id);
    return types_[static_cast<size_t>(id)];
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
    check_id(id);
    return bytes_[static_cast<size_t>(id)];
}

bool Tokenizer::is_control(int32_t id) const {
    const TokenType t = token_type(id);
    return t == TokenType::control || t == TokenType::unknown || t == TokenType::unused;
}

int32_t Tokenizer::find_token(std::string_view text) const {
    const auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_special && add_bos_) out.push_back(bos_);
    bool after_special = true;
    for (size_t pos = 0; pos < text.size();) {
        const SpecialTokenMatcher::Match m = specials_->find(text, pos, parse_special);
        const size_t end = m.length > 0 ? m.begin : text.size();
        if (end > pos) {
            encode_text(text.substr(pos, end - pos), after_special, out);
            after_special = false;
        }
        if (m.length == 0) break;
        out.push_back(m.id);
        after_special = true;
        pos = m.begin + m.length;
    }
    if (add_special && add_eos_) out.push_back(eos_);
    return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
    std::string out;
    const bool strip = strips_prefix_space();
    bool after_special = true;  // mirrors encode: at the start and after each special token
    for (const int32_t id : ids) {
        check_id(id);
        const auto i = static_cast<size_t>(id);
        const TokenType t = types_[i];
        if (t == TokenType::control || t == TokenType::unknown || t == TokenType::unused || t == TokenType::user_defined) {
            if (render_special || t == TokenType::user_defined) out += bytes_[i];
            after_special = true;
            continue;
        }
        const std::string& b = bytes_[i];
        if (strip && after_special && !b.empty() && b[0] == ' ') {
            out.append(b, 1);
        } else {
            out += b;
        }
        after_special = false;
    }
    return out;
}

}  // namespace llm
