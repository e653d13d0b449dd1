// Byte-level BPE ("gpt2" vocabularies: GPT-2, Llama 3, Qwen2, ...).
//
// Encoding one stretch of text:
//   1. The pre-tokeniser (pretokenize.hpp) splits it into pieces.
//   2. Each piece starts as one symbol per byte: the token of that byte's character in GPT-2's
//      alphabet (byte_level.hpp).
//   3. Every adjacent pair listed in the merges goes into a priority queue ordered by merge rank
//      (lowest first; equal ranks, which only a repeated pair has: leftmost first). Popping
//      merges the pair into the merge's result token, unless a side has changed since it was
//      queued, and queues the new symbol's pairs with its neighbours. O(n log n) per piece.
//   4. With ignore_merges (Llama 3's tokenizer sets it), a piece that is itself a token is that
//      token, without merging.
// Pieces repeat a lot in real text, so one encode call remembers each distinct piece's tokens.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <unordered_map>

#include "tokenizer/byte_level.hpp"
#include "tokenizer/models.hpp"
#include "tokenizer/pretokenize.hpp"

namespace llm {

namespace {

uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

class BpeTokenizer final : public Tokenizer {
public:
    explicit BpeTokenizer(const VocabData& d) : Tokenizer(d) {
        const auto pre = pre_tokenizer_from_name(d.pre);
        if (!pre) {
            throw TokenizerError(fmt::format("pre-tokeniser '{}' (tokenizer.ggml.pre) is not supported; supported: {}",
                                             d.pre, known_pre_tokenizer_names()));
        }
        pre_ = *pre;
        ignore_merges_ = pre_ == PreTokenizer::llama3;
        const size_t n = vocab_size();
        if (!d.scores.empty() && d.scores.size() != n) {
            throw TokenizerError(fmt::format("the gpt2 vocabulary has {} tokens but {} scores", n, d.scores.size()));
        }

        bytes_.resize(n);
        vocab_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            const auto id = static_cast<int32_t>(i);
            const TokenType type = token_type(id);
            if (type == TokenType::normal || type == TokenType::undefined || type == TokenType::byte) {
                vocab_.try_emplace(d.tokens[i], id);
                bytes_[i] = byte_level_decode(d.tokens[i]);
            } else {
                bytes_[i] = d.tokens[i];  // added tokens are stored as plain text
            }
        }
        for (uint32_t b = 0; b < 256; ++b) {
            const auto it = vocab_.find(byte_level_encode(std::string(1, static_cast<char>(b))));
            byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
        }

        merges_.reserve(d.merges.size());
        for (size_t rank = 0; rank < d.merges.size(); ++rank) {
            const std::string& m = d.merges[rank];
            const size_t space = m.find(' ');
            if (space == std::string::npos || space == 0 || space + 1 == m.size() || m.find(' ', space + 1) != std::string::npos) {
                throw TokenizerError(fmt::format("merge {} ('{}') is not two tokens separated by one space", rank, m));
            }
            const std::string_view left = std::string_view(m).substr(0, space);
            const std::string_view right = std::string_view(m).substr(space + 1);
            const int32_t l = lookup(left), r = lookup(right);
            const int32_t result = lookup(std::string(left) + std::string(right));
            if (l < 0 || r < 0 || result < 0) {
                throw TokenizerError(fmt::format("merge {} ('{}') names '{}', which is not a token of the vocabulary", rank, m,
                                                 l < 0 ? std::string(left) : r < 0 ? std::string(right) : std::string(left) + std::string(right)));
            }
            // A pair listed twice keeps its first (best) rank.
            merges_.try_emplace(pair_key(l, r), Merge{static_cast<int32_t>(rank), result});
        }
    }

protected:
    void encode_text(std::string_view text, bool /*after_special*/, std::vector<int32_t>& out) const override {
        // Each distinct piece's tokens, as the range of `out` where they were first written.
        const std::vector<std::string_view> pieces = pre_tokenize(pre_, text);
        std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;
        seen.reserve(std::min<size_t>(pieces.size(), 1u << 16));
        for (const std::string_view piece : pieces) {
            if (const auto it = seen.find(piece); it != seen.end()) {
                const auto [first, count] = it->second;
                out.reserve(out.size() + count);
                for (size_t k = 0; k < count; ++k) out.push_back(out[first + k]);
                continue;
            }
            const size_t first = out.size();
            encode_piece(piece, out);
            seen.emplace(piece, std::pair{first, out.size() - first});
        }
    }

private:
    struct Merge {
        int32_t rank;
        int32_t result;
    };

    int32_t lookup(std::string_view text) const {
        const auto it = vocab_.find(text);
        return it == vocab_.end() ? -1 : it->second;
    }

    void encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
        if (ignore_merges_ && piece.size() > 1) {
            if (const int32_t id = lookup(byte_level_encode(piece)); id >= 0) {
                out.push_back(id);
                return;
            }
        }
        struct Symbol {
            int32_t id, prev, next;
        };
        std::vector<Symbol> sym(piece.size());
        for (size_t i = 0; i < piece.size(); ++i) {
            const auto k = static_cast<int32_t>(i);
            sym[i] = {byte_ids_[static_cast<uint8_t>(piece[i])], k - 1, k + 1};
        }
        sym.back().next = -1;

        // The queue holds (rank, left position) packed in one integer, smallest first: 8 bytes
        // an entry keeps a long piece's queue in cache. An entry is stale when the pair now at its
        // position has another rank (a side merged since); the pair that does have that rank at
        // that position is the one the entry stands for, or one just as good to merge now.
        const auto key = [](int32_t rank, int32_t left) {
            return (static_cast<uint64_t>(static_cast<uint32_t>(rank)) << 32) | static_cast<uint32_t>(left);
        };
        const auto merge_at = [&](int32_t l) -> const Merge* {
            if (l < 0) return nullptr;
            const Symbol& a = sym[static_cast<size_t>(l)];
            if (a.next < 0) return nullptr;
            const int32_t b = sym[static_cast<size_t>(a.next)].id;
            if (a.id < 0 || b < 0) return nullptr;
            const auto it = merges_.find(pair_key(a.id, b));
            return it == merges_.end() ? nullptr : &it->second;
        };
        std::vector<uint64_t> heap;
        heap.reserve(sym.size());
        for (size_t i = 0; i + 1 < sym.size(); ++i) {
            if (const Merge* m = merge_at(static_cast<int32_t>(i))) heap.push_back(key(m->rank, static_cast<int32_t>(i)));
        }
        const std::greater<uint64_t> later;
        std::make_heap(heap.begin(), heap.end(), later);
        const auto push = [&](int32_t l) {
            if (const Merge* m = merge_at(l)) {
                heap.push_back(key(m->rank, l));
                std::push_heap(heap.begin(), heap.end(), later);
            }
        };

        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            const uint64_t top = heap.back();
            heap.pop_back();
            const auto left = static_cast<int32_t>(top & 0xFFFFFFFFu);
            const auto rank = static_cast<int32_t>(top >> 32);
            const Merge* m = merge_at(left);
            if (m == nullptr || m->rank != rank) continue;
            Symbol& a = sym[static_cast<size_t>(left)];
            Symbol& b = sym[static_cast<size_t>(a.next)];
            a.id = m->result;
            a.next = b.next;
            b.id = -2;  // merged away: no pair starts or ends here any more
            if (b.next >= 0) sym[static_cast<size_t>(b.next)].prev = left;
            push(a.prev);
            push(left);
        }

        for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
            const int32_t id = sym[static_cast<size_t>(i)].id;
            if (id >= 0) {
                out.push_back(id);
            } else if (unk() >= 0) {
                out.push_back(unk());
            } else {
                throw TokenizerError(fmt::format("cannot encode byte 0x{:02X}: its character in the byte-level alphabet "
                                                 "is not in the vocabulary, and there is no unknown token",
                                                 static_cast<uint8_t>(piece[static_cast<size_t>(i)])));
            }
        }
    }

    PreTokenizer pre_ = PreTokenizer::gpt2;
    bool ignore_merges_ = false;
    StringMap<int32_t> vocab_;                      // normal tokens, in the alphabet -> lowest id
    std::array<int32_t, 256> byte_ids_{};           // each byte's single-character token, -1 if none
    std::unordered_map<uint64_t, Merge> merges_;   // (left id, right id) -> rank and result
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(const VocabData& data) { return std::make_unique<BpeTokenizer>(data); }

}  // namespace llm
