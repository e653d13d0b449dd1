// Turns generated tokens into text as they arrive. A token may end inside a UTF-8 character (a
// byte-fallback token <0xE2>, a byte-level token holding half an emoji): its bytes wait until
// the character is complete, so that every piece returned is valid UTF-8 on its own.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.hpp"

namespace llm {

class StreamDecoder {
public:
    // The tokenizer must outlive the decoder. render_special: control tokens show as their text.
    explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false)
        : tokenizer_(tokenizer), render_special_(render_special) {}

    // The text that `id` completes: valid UTF-8, possibly empty. Bytes that cannot begin or
    // continue a character come out as U+FFFD; a character still missing bytes waits.
    std::string feed(int32_t id);
    // What is left at the end (a character that never completed) as U+FFFD; resets the decoder.
    std::string flush();
    // Bytes waiting for the rest of their character.
    size_t pending() const { return pending_.size(); }

private:
    const Tokenizer& tokenizer_;
    bool render_special_;
    std::string pending_;
};

}  // namespace llm
