// SentencePiece-style tokenization ("llama" vocabularies).
//
// Encoding one stretch of text:
//   1. Spaces become U+2581 ("▁"); with add_space_prefix one ▁ goes in front of a stretch that
//      starts the input or follows a special token.
//   2. The text is cut into characters (symbols, a doubly linked list).
//   3. Every adjacent pair whose concatenation is a piece of the vocabulary goes into a priority
//      queue ordered by that piece's score (highest first; equal scores: leftmost first). Popping
//      merges the pair (unless one side has changed since it was queued) and queues the new
//      symbol's pairs with its neighbours. O(n log n) in the length of the text.
//   4. Each final symbol is a piece, or a single character that is not one: it becomes the
//      byte tokens <0xNN> of its UTF-8 bytes (byte fallback), or the unknown token when the
//      vocabulary lacks one of those byte tokens.
// Merge candidates are the normal (and undefined-type) tokens only: control, unknown, unused and
// byte tokens never come out of merging, and user-defined tokens were cut out before.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <functional>

#include "tokenizer/models.hpp"
#include "tokenizer/unicode.hpp"

namespace llm {

namespace {

constexpr std::string_view space_symbol = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

// "<0xNN>" with two upper-case hex digits, as SentencePiece spells byte pieces; -1 otherwise.
int parse_byte_piece(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
    int value = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = text[i];
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

// Maps scores to integers that sort the other way round (the highest score smallest), so that a
// min-heap of packed keys pops the best score first. -0 and +0 tie, as they compare equal.
uint32_t descending(float score) {
    const auto bits = std::bit_cast<uint32_t>(score + 0.0f);
    const uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return ~ascending;
}

class SpmTokenizer final : public Tokenizer {
public:
    explicit SpmTokenizer(const VocabData& d) : Tokenizer(d), scores_(d.scores), add_space_prefix_(d.add_space_prefix) {
        const size_t n = vocab_size();
        if (scores_.size() != n) {
            throw TokenizerError(fmt::format("the llama vocabulary has {} tokens but {} scores", n, scores_.size()));
        }
        byte_tokens_.fill(-1);
        bytes_.resize(n);
        pieces_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            const auto id = static_cast<int32_t>(i);
            const std::string& text = d.tokens[i];
            const TokenType type = token_type(id);
            const int byte = parse_byte_piece(text);
            if (byte >= 0 && byte_tokens_[static_cast<size_t>(byte)] < 0) byte_tokens_[static_cast<size_t>(byte)] = id;
            // Without token types, <0xNN> pieces are taken for the byte tokens they spell.
            if (byte >= 0 && (type == TokenType::byte || d.token_types.empty())) {
                bytes_[i] = std::string(1, static_cast<char>(byte));
            } else if (type == TokenType::normal || type == TokenType::undefined) {
                pieces_.try_emplace(text, id);
                bytes_[i] = unescape(text);
            } else {
                bytes_[i] = text;
            }
        }
    }

protected:
    bool strips_prefix_space() const override { return add_space_prefix_; }

    void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override {
        std::string s;
        s.reserve(text.size() + 3);
        if (add_space_prefix_ && after_special) s += space_symbol;
        for (const char c : text) {
            if (c == ' ') {
                s += space_symbol;
            } else {
                s += c;
            }
        }

        struct Symbol {
            uint32_t start, length;
            int32_t prev, next;
        };
        std::vector<Symbol> sym;
        sym.reserve(s.size());
        for (size_t pos = 0; pos < s.size();) {
            const uint32_t len = unicode::decode_utf8(s, pos).length;
            const auto i = static_cast<int32_t>(sym.size());
            sym.push_back({static_cast<uint32_t>(pos), len, i - 1, i + 1});
            pos += len;
        }
        if (sym.empty()) return;
        sym.back().next = -1;

        // The queue holds (score order, left position) packed in one integer, smallest first:
        // 8 bytes an entry keeps the queue of a long text in cache. An entry is stale when the
        // pair now at its position has another score (a side merged since); a pair that does
        // have that score there is the one the entry stands for, or one just as good to merge now.
        const auto key = [](float score, int32_t left) {
            return (static_cast<uint64_t>(descending(score)) << 32) | static_cast<uint32_t>(left);
        };
        const auto piece_at = [&](int32_t l) -> int32_t {
            if (l < 0) return -1;
            const Symbol& a = sym[static_cast<size_t>(l)];
            if (a.length == 0 || a.next < 0) return -1;
            const Symbol& b = sym[static_cast<size_t>(a.next)];
            const auto it = pieces_.find(std::string_view(s).substr(a.start, a.length + b.length));
            return it == pieces_.end() ? -1 : it->second;
        };
        std::vector<uint64_t> heap;
        heap.reserve(sym.size());
        for (size_t i = 0; i + 1 < sym.size(); ++i) {
            const auto l = static_cast<int32_t>(i);
            if (const int32_t id = piece_at(l); id >= 0) heap.push_back(key(scores_[static_cast<size_t>(id)], l));
        }
        const std::greater<uint64_t> later;
        std::make_heap(heap.begin(), heap.end(), later);
        const auto push = [&](int32_t l) {
            if (const int32_t id = piece_at(l); id >= 0) {
                heap.push_back(key(scores_[static_cast<size_t>(id)], l));
                std::push_heap(heap.begin(), heap.end(), later);
            }
        };

        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            const uint64_t top = heap.back();
            heap.pop_back();
            const auto left = static_cast<int32_t>(top & 0xFFFFFFFFu);
            const int32_t id = piece_at(left);
            if (id < 0 || key(scores_[static_cast<size_t>(id)], left) != top) continue;
            Symbol& a = sym[static_cast<size_t>(left)];
            Symbol& b = sym[static_cast<size_t>(a.next)];
            a.length += b.length;
            b.length = 0;
            a.next = b.next;
            if (b.next >= 0) sym[static_cast<size_t>(b.next)].prev = left;
            push(a.prev);
            push(left);
        }

        for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
            const Symbol& x = sym[static_cast<size_t>(i)];
            const std::string_view piece = std::string_view(s).substr(x.start, x.length);
            if (const auto it = pieces_.find(piece); it != pieces_.end()) {
                out.push_back(it->second);
            } else {
                byte_fallback(piece, out);
            }
        }
    }

private:
    static std::string unescape(std::string_view text) {
        std::string out;
        out.reserve(text.size());
        for (size_t pos = 0; pos < text.size();) {
            if (text.substr(pos, space_symbol.size()) == space_symbol) {
                out += ' ';
                pos += space_symbol.size();
            } else {
                out += text[pos++];
            }
        }
        return out;
    }

    void byte_fallback(std::string_view character, std::vector<int32_t>& out) const {
        bool all = true;
        for (const char c : character) all = all && byte_tokens_[static_cast<uint8_t>(c)] >= 0;
        if (all) {
            for (const char c : character) out.push_back(byte_tokens_[static_cast<uint8_t>(c)]);
            return;
        }
        if (unk() < 0) {
            std::string hex;
            for (const char c : character) hex += fmt::format("{}{:02X}", hex.empty() ? "" : " ", static_cast<uint8_t>(c));
            throw TokenizerError(fmt::format("cannot encode the character with bytes {}: it is not in the vocabulary, "
                                             "which has neither its byte tokens nor an unknown token", hex));
        }
        out.push_back(unk());
    }

    std::vector<float> scores_;
    bool add_space_prefix_;
    StringMap<int32_t> pieces_;              // normal tokens: text -> lowest id
    std::array<int32_t, 256> byte_tokens_;  // <0xNN> -> id, -1 when absent
};

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(const VocabData& data) { return std::make_unique<SpmTokenizer>(data); }

}  // namespace llm
