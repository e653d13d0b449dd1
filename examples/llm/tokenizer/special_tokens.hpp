// Finds special tokens in text: a byte trie of the texts of control, unknown and user-defined
// tokens, matched leftmost-longest (the longest token that starts at the earliest position), as
// the reference tokenizers' added-token matchers do.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace llm {

class SpecialTokenMatcher {
public:
    // `always`: matched even when the caller does not parse special tokens (user-defined tokens).
    // An empty text is ignored; a text added twice keeps its first id.
    void add(std::string_view text, int32_t id, bool always);
    bool empty() const { return nodes_.size() <= 1; }

    struct Match {
        size_t begin = 0;
        size_t length = 0;  // 0: no match
        int32_t id = -1;
    };
    // The first special token in text[from..], the longest of those starting there.
    Match find(std::string_view text, size_t from, bool parse_special) const;

private:
    struct Node {
        std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node index
        int32_t id = -1;                                     // a token ends here
        bool always = false;
    };
    int32_t child(const Node& n, uint8_t b) const;
    // Longest match starting exactly at pos, or length 0.
    Match match_at(std::string_view text, size_t pos, bool parse_special) const;

    std::vector<Node> nodes_{Node{}};
    bool first_byte_[256] = {};  // some token starts with this byte (the quick rejection)
};

}  // namespace llm
