// Streaming decode: text comes out only when its characters are complete.
#include <doctest/doctest.h>

#include "test_tokenizer_support.hpp"
#include "tokenizer/stream_decoder.hpp"

using namespace llm;
using tokenizer_test::add_token;

namespace {

const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD

// Byte-level vocabulary (id == byte) plus tokens that end or start inside a character:
// "a" + the first half of U+1F600 (F0 9F 98 80), its second half + "b", and a control token.
struct StreamVocab {
    VocabData d = tokenizer_test::byte_level_vocab("llama-bpe");
    int32_t head = add_token(d, byte_level_encode("a\xF0\x9F"), TokenType::normal);
    int32_t tail = add_token(d, byte_level_encode("\x98\x80" "b"), TokenType::normal);
    int32_t end = add_token(d, "<|end|>", TokenType::control);
};

}  // namespace

TEST_CASE("stream decoder: a character split across tokens waits for its last byte") {
    StreamVocab v;
    const auto t = Tokenizer::create(v.d);
    StreamDecoder s(*t);
    CHECK(s.feed(v.head) == "a");
    CHECK(s.pending() == 2);
    CHECK(s.feed(v.tail) == "\xF0\x9F\x98\x80" "b");
    CHECK(s.pending() == 0);
    // Byte by byte: nothing until the fourth byte of the emoji.
    CHECK(s.feed(0xF0).empty());
    CHECK(s.feed(0x9F).empty());
    CHECK(s.feed(0x98).empty());
    CHECK(s.feed(0x80) == "\xF0\x9F\x98\x80");
    // Control tokens give nothing unless rendered.
    CHECK(s.feed(v.end).empty());
    StreamDecoder r(*t, true);
    CHECK(r.feed(v.end) == "<|end|>");
}

TEST_CASE("stream decoder: bytes that cannot form a character become U+FFFD") {
    StreamVocab v;
    const auto t = Tokenizer::create(v.d);
    StreamDecoder s(*t);
    CHECK(s.feed(0xFF) == replacement);      // never valid
    CHECK(s.feed(0xE2).empty());             // may begin a character...
    CHECK(s.feed('x') == replacement + "x"); // ...but 'x' cannot continue it
    CHECK(s.feed(0xE2).empty());
    CHECK(s.feed(0x98).empty());
    CHECK(s.flush() == replacement);         // cut off at the end: one U+FFFD for E2 98
    CHECK(s.pending() == 0);
    CHECK(s.flush().empty());
}

TEST_CASE("stream decoder: SentencePiece byte tokens") {
    VocabData d;
    d.model = "llama";
    d.bos = add_token(d, "<s>", TokenType::control);
    for (int b = 0; b < 256; ++b) add_token(d, fmt::format("<0x{:02X}>", b), TokenType::byte);
    const int32_t hi = add_token(d, "\xE2\x96\x81hi", TokenType::normal, -1);
    const auto t = Tokenizer::create(d);
    StreamDecoder s(*t);
    // " hi☃": ▁hi reads as " hi" (the stream keeps the space), then ☃ = E2 98 83 byte by byte.
    CHECK(s.feed(hi) == " hi");
    CHECK(s.feed(t->find_token("<0xE2>")).empty());
    CHECK(s.feed(t->find_token("<0x98>")).empty());
    CHECK(s.feed(t->find_token("<0x83>")) == "\xE2\x98\x83");
}

TEST_CASE("stream decoder: the pieces of random text add up to its decode") {
    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    const auto t = Tokenizer::create(tokenizer_test::byte_level_vocab("qwen2"));
    for (int i = 0; i < 200; ++i) {
        const std::string text = tokenizer_test::random_text(rng, 40);
        StreamDecoder s(*t);
        std::string joined;
        for (const int32_t id : t->encode(text)) {
            const std::string piece = s.feed(id);
            CHECK(unicode::to_valid_utf8(piece) == piece);
            joined += piece;
        }
        joined += s.flush();
        CHECK(joined == text);
    }
}
