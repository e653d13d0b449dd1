// The maker's vocabulary: byte-level BPE in the shape of Llama 3's (gpt2 model, llama-bpe
// pre-tokeniser, byte tokens, merges, three control tokens at the end).
//
//  1. The 256 byte tokens, in byte order, spelt in GPT-2's byte-to-unicode alphabet.
//  2. BPE training on a built-in English sample: the text is split by the llama-bpe
//     pre-tokeniser, and the most frequent adjacent pair (ties: the lower ids) is merged again
//     and again until every piece of the sample is a single token (so every word of it is one).
//  3. When more tokens are wanted, deterministic growth: "stems" (the space token, letters, and
//     word-like merged tokens, most frequent first) take "suffixes" (short lower-case tokens) in
//     breadth-first order, each new stem+suffix becoming a token, a merge "stem suffix" and a stem
//     of its own. This gives word-like tokens ("Ġriver" + "s") rather than arbitrary byte strings.
// Every token string is unique and every merge names two existing tokens whose concatenation is a
// token, which is what the tokenizer checks.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/maker.hpp"
#include "ptxgen/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pretokenize.hpp"

namespace llm::model {

namespace {

constexpr std::string_view kSample = R"(The river town wakes slowly in winter. Before the sun clears the hills, the baker has already
lit the ovens, and the smell of bread drifts over the water to the people waiting for the first
ferry. Nobody there is in a hurry. The ferry leaves when it is full, or when the captain decides
that it has waited long enough, and the passengers have learned not to argue with either rule.

On the far bank there is a market where farmers sell apples, cheese, eggs and honey from the
backs of their carts. A child counts coins for her mother; an old man reads the prices aloud to
nobody in particular. In the afternoon the wind turns, the clouds come down from the north, and
the traders pack their goods away before the rain begins. By evening the square is empty again,
and the lamps along the harbour light one after another.

Some of the houses are older than the bridge. Their walls lean a little towards the street, and
their doors are painted in colours that the owners choose every spring: green, blue, yellow,
red. The painter who lives at the corner says that a door should be the happiest part of a
house, because it is the first thing a visitor sees and the last thing they remember.

What makes a place worth remembering? Perhaps it is the people, who know each other's names and
stories. Perhaps it is the work they share: mending nets, building boats, teaching children to
read and write, keeping the library open on Thursdays. Or perhaps it is simply time, the years
that turn ordinary streets into something that feels like home.

In 1987 the town council voted to keep the old mill, and 42 volunteers spent three summers
repairing its wheel. Today it turns again, and visitors can watch the water lift each paddle,
one after another, while the miller explains how flour was made before there were machines to
make it. "It is slower," she tells them, "but you can hear every part of it working."

When the night is clear, the fishermen go out beyond the lighthouse and return before dawn with
their catch. They talk about the weather, the price of fuel, and the new boat that the young
brothers are building in the yard behind the church. The brothers say it will be finished next
year; their father says he has heard that before. Everyone laughs, and then they all go home to
sleep, while the baker, once again, is lighting the ovens for another day.
)";

constexpr std::string_view kBos = "<|begin_of_text|>";
constexpr std::string_view kEos = "<|end_of_text|>";
constexpr std::string_view kEot = "<|eot_id|>";
constexpr uint32_t n_special = 3;

uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// The growing vocabulary: token strings (in the byte alphabet) and merges.
class VocabBuilder {
public:
    explicit VocabBuilder(uint32_t capacity) : capacity_(capacity) {
        for (int b = 0; b < 256; ++b) add(byte_level_encode(std::string(1, static_cast<char>(b))));
        for (std::string_view s : {kBos, kEos, kEot}) reserved_.emplace(std::string(s), -1);
    }

    bool full() const { return tokens_.size() >= capacity_; }
    const std::string& text(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
    size_t size() const { return tokens_.size(); }

    // The id of `left + right`, adding the token if it is new (and there is room), and the merge
    // "left right". -1 when the vocabulary is full and the token is new.
    int32_t merge(int32_t left, int32_t right) {
        std::string joined = text(left) + text(right);
        int32_t id = find(joined);
        if (id < 0) {
            if (full() || reserved_.count(joined) != 0) return -1;
            id = add(std::move(joined));
        }
        merges_.push_back(text(left) + " " + text(right));
        return id;
    }
    int32_t find(const std::string& s) const {
        const auto it = ids_.find(s);
        return it == ids_.end() ? -1 : it->second;
    }

    std::vector<std::string> take_tokens() { return std::move(tokens_); }
    std::vector<std::string> take_merges() { return std::move(merges_); }

private:
    int32_t add(std::string s) {
        const auto id = static_cast<int32_t>(tokens_.size());
        ids_.emplace(s, id);
        tokens_.push_back(std::move(s));
        return id;
    }

    uint32_t capacity_;
    std::vector<std::string> tokens_;
    std::vector<std::string> merges_;
    std::unordered_map<std::string, int32_t> ids_;
    std::unordered_map<std::string, int32_t> reserved_;
};

// Step 2: classic BPE training on the sample. Returns the merged tokens in the order they were
// made (most frequent first).
std::vector<int32_t> train(VocabBuilder& v) {
    // Distinct pieces with their counts, sorted (std::map, so that the order is fixed).
    std::map<std::string_view, uint32_t> counts;
    for (std::string_view piece : pre_tokenize(PreTokenizer::llama3, kSample)) ++counts[piece];
    struct Word {
        std::vector<int32_t> symbols;
        uint32_t count;
    };
    std::vector<Word> words;
    for (const auto& [piece, count] : counts) {
        Word w{{}, count};
        for (const char c : piece) w.symbols.push_back(static_cast<uint8_t>(c));  // byte b is token b
        words.push_back(std::move(w));
    }

    std::vector<int32_t> made;
    std::unordered_map<uint64_t, uint32_t> pairs;
    while (!v.full()) {
        pairs.clear();
        for (const Word& w : words) {
            for (size_t i = 0; i + 1 < w.symbols.size(); ++i) pairs[pair_key(w.symbols[i], w.symbols[i + 1])] += w.count;
        }
        // Most frequent; ties go to the smaller key (lower left id, then lower right id), so that
        // the result does not depend on the hash map's order.
        uint64_t best = 0;
        uint32_t best_count = 0;
        for (const auto& [key, count] : pairs) {
            if (count > best_count || (count == best_count && key < best)) {
                best = key;
                best_count = count;
            }
        }
        if (best_count == 0) break;  // every piece of the sample is one token
        const auto left = static_cast<int32_t>(best >> 32);
        const auto right = static_cast<int32_t>(best & 0xFFFFFFFFu);
        const size_t before = v.size();
        const int32_t id = v.merge(left, right);
        if (id < 0) break;
        if (v.size() > before) made.push_back(id);
        for (Word& w : words) {
            std::vector<int32_t> next;
            next.reserve(w.symbols.size());
            for (size_t i = 0; i < w.symbols.size(); ++i) {
                if (i + 1 < w.symbols.size() && w.symbols[i] == left && w.symbols[i + 1] == right) {
                    next.push_back(id);
                    ++i;
                } else {
                    next.push_back(w.symbols[i]);
                }
            }
            w.symbols = std::move(next);
        }
    }
    return made;
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_letter(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }

// Letters only, optionally after one leading space (in the alphabet: 'Ġ', two UTF-8 bytes).
bool word_like(std::string_view s) {
    const std::string space = byte_level_encode(" ");
    if (s.substr(0, space.size()) == space) s.remove_prefix(space.size());
    return !s.empty() && std::all_of(s.begin(), s.end(), is_letter);
}

// Step 3.
void grow(VocabBuilder& v, const std::vector<int32_t>& trained) {
    std::vector<int32_t> stems, suffixes;
    for (const int32_t id : trained) {
        const std::string& s = v.text(id);
        if (word_like(s)) stems.push_back(id);
        if (s.size() <= 3 && std::all_of(s.begin(), s.end(), is_lower)) suffixes.push_back(id);
    }
    stems.push_back(v.find(byte_level_encode(" ")));
    // Single letters in the order of their frequency in English, a rough but fixed order.
    for (const char c : std::string_view("etaoinshrdlcumwfgypbvkjxqz")) {
        suffixes.push_back(c);
        stems.push_back(c);
    }
    for (const char c : std::string_view("TAISWHBCMDPFLNROEGUVJKYQXZ")) stems.push_back(c);

    for (size_t i = 0; i < stems.size() && !v.full(); ++i) {
        for (const int32_t suffix : suffixes) {
            if (v.full()) break;
            const std::string joined = v.text(stems[i]) + v.text(suffix);
            if (v.find(joined) >= 0) continue;
            const int32_t id = v.merge(stems[i], suffix);
            if (id >= 0) stems.push_back(id);
        }
    }
}

}  // namespace

VocabData make_vocab(uint32_t n_vocab) {
    if (n_vocab < 256 + n_special) {
        throw ptxsmith::Error(fmt::format("a byte-level vocabulary of {} tokens is too small: it needs at least {} "
                                          "(256 bytes and {} special tokens)",
                                          n_vocab, 256 + n_special, n_special));
    }
    VocabBuilder builder(n_vocab - n_special);
    grow(builder, train(builder));
    if (!builder.full()) {
        throw ptxsmith::Error(fmt::format("the vocabulary maker ran out of new tokens at {} of {}", builder.size(),
                                          n_vocab - n_special));
    }

    VocabData d;
    d.model = "gpt2";
    d.pre = "llama-bpe";
    d.tokens = builder.take_tokens();
    d.merges = builder.take_merges();
    d.token_types.assign(d.tokens.size(), static_cast<int32_t>(TokenType::normal));
    const auto add_special = [&](std::string_view s) {
        d.tokens.emplace_back(s);
        d.token_types.push_back(static_cast<int32_t>(TokenType::control));
        return static_cast<int32_t>(d.tokens.size() - 1);
    };
    d.bos = add_special(kBos);
    d.eos = add_special(kEos);
    d.eot = add_special(kEot);
    d.add_bos = true;
    d.add_eos = false;
    return d;
}

}  // namespace llm::model
