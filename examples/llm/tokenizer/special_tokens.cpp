#include "tokenizer/special_tokens.hpp"

namespace llm {

int32_t SpecialTokenMatcher::child(const Node& n, uint8_t b) const {
    for (const auto& [byte, index] : n.children) {
        if (byte == b) return index;
    }
    return -1;
}

void SpecialTokenMatcher::add(std::string_view text, int32_t id, bool always) {
    if (text.empty()) return;
    int32_t node = 0;
    for (const char c : text) {
        const auto b = static_cast<uint8_t>(c);
        int32_t next = child(nodes_[static_cast<size_t>(node)], b);
        if (next < 0) {
            next = static_cast<int32_t>(nodes_.size());
            nodes_[static_cast<size_t>(node)].children.emplace_back(b, next);
            nodes_.emplace_back();  // may move nodes_: no references are held across it
        }
        node = next;
    }
    Node& end = nodes_[static_cast<size_t>(node)];
    if (end.id < 0) {
        end.id = id;
        end.always = always;
    }
    first_byte_[static_cast<uint8_t>(text[0])] = true;
}

SpecialTokenMatcher::Match SpecialTokenMatcher::match_at(std::string_view text, size_t pos, bool parse_special) const {
    Match best;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
        node = child(nodes_[static_cast<size_t>(node)], static_cast<uint8_t>(text[i]));
        if (node < 0) break;
        const Node& n = nodes_[static_cast<size_t>(node)];
        if (n.id >= 0 && (parse_special || n.always)) best = {pos, i + 1 - pos, n.id};
    }
    return best;
}

SpecialTokenMatcher::Match SpecialTokenMatcher::find(std::string_view text, size_t from, bool parse_special) const {
    if (empty()) return {};
    for (size_t pos = from; pos < text.size(); ++pos) {
        if (!first_byte_[static_cast<uint8_t>(text[pos])]) continue;
        if (Match m = match_at(text, pos, parse_special); m.length > 0) return m;
    }
    return {};
}

}  // namespace llm
