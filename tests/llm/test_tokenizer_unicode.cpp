// Unicode tables, UTF-8 decoding and GPT-2's byte alphabet.
#include <doctest/doctest.h>

#include <set>

#include "test_tokenizer_support.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/unicode.hpp"

using namespace llm;
using unicode::Category;
using Status = unicode::Decoded::Status;

TEST_CASE("unicode: general categories of chosen code points") {
    CHECK(unicode::category(U'A') == Category::Lu);
    CHECK(unicode::category(U'z') == Category::Ll);
    CHECK(unicode::category(U'5') == Category::Nd);
    CHECK(unicode::category(U' ') == Category::Zs);
    CHECK(unicode::category(U'\n') == Category::Cc);
    CHECK(unicode::category(U'_') == Category::Pc);
    CHECK(unicode::category(U'$') == Category::Sc);
    CHECK(unicode::category(0x01C5) == Category::Lt);   // Dž
    CHECK(unicode::category(0x02B0) == Category::Lm);   // modifier letter small h
    CHECK(unicode::category(0x4F60) == Category::Lo);   // 你
    CHECK(unicode::category(0xAC00) == Category::Lo);   // 가, inside the Hangul syllable run
    CHECK(unicode::category(0x20000) == Category::Lo);  // CJK extension B
    CHECK(unicode::category(0x0301) == Category::Mn);   // combining acute
    CHECK(unicode::category(0x0903) == Category::Mc);   // Devanagari visarga
    CHECK(unicode::category(0x216B) == Category::Nl);   // Roman numeral twelve
    CHECK(unicode::category(0x00B2) == Category::No);   // superscript two
    CHECK(unicode::category(0x1F600) == Category::So);  // grinning face
    CHECK(unicode::category(0x2028) == Category::Zl);
    CHECK(unicode::category(0x2029) == Category::Zp);
    CHECK(unicode::category(0x00AD) == Category::Cf);   // soft hyphen
    CHECK(unicode::category(0xD800) == Category::Cs);
    CHECK(unicode::category(0xE000) == Category::Co);
    CHECK(unicode::category(0x0378) == Category::Cn);   // unassigned
    CHECK(unicode::category(0x10FFFF) == Category::Cn);
    CHECK(std::string(unicode::category_name(Category::Mn)) == "Mn");
    CHECK(std::string(unicode::data_version()) == "14.0.0");
}

TEST_CASE("unicode: the generated runs are ascending, disjoint and never Cn") {
    const auto* runs = unicode::detail::category_runs;
    REQUIRE(unicode::detail::category_run_count > 3000);
    for (size_t i = 0; i < unicode::detail::category_run_count; ++i) {
        CAPTURE(i);
        CHECK(runs[i].first <= runs[i].last);
        CHECK(runs[i].last <= 0x10FFFF);
        CHECK(runs[i].category != Category::Cn);
        if (i > 0) CHECK(runs[i - 1].last < runs[i].first);
    }
}

TEST_CASE("unicode: classes the pre-tokenisers use") {
    CHECK(unicode::is_letter(U'ſ'));
    CHECK(unicode::is_letter(0x01C5));
    CHECK_FALSE(unicode::is_letter(0x0301));
    CHECK(unicode::is_mark(0x0301));
    CHECK(unicode::is_number(0x216B));
    CHECK(unicode::is_number(0x0663));  // Arabic-Indic three
    CHECK(unicode::is_punctuation(U'!'));
    CHECK(unicode::is_symbol(U'+'));
    // White_Space is exactly these 25 code points.
    const std::set<char32_t> white = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001,
                                      0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                                      0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    for (char32_t cp = 0; cp < 0x11000; ++cp) {
        CAPTURE(static_cast<uint32_t>(cp));
        CHECK(unicode::is_whitespace(cp) == (white.count(cp) == 1));
    }
    CHECK_FALSE(unicode::is_whitespace(0x1C));  // a control that Python's isspace() accepts
    CHECK_FALSE(unicode::is_whitespace(0x200B));  // zero width space is Cf, not White_Space
}

TEST_CASE("unicode: UTF-8 decoding of well-formed, ill-formed and cut-off sequences") {
    struct Case {
        std::string bytes;
        char32_t cp;
        uint32_t length;
        Status status;
    };
    const Case cases[] = {
        {"A", U'A', 1, Status::ok},
        {"\xC3\xA9", 0xE9, 2, Status::ok},
        {"\xE2\x82\xAC", 0x20AC, 3, Status::ok},
        {"\xF0\x9F\x98\x80", 0x1F600, 4, Status::ok},
        {"\xF4\x8F\xBF\xBF", 0x10FFFF, 4, Status::ok},
        {"\x80", 0xFFFD, 1, Status::invalid},             // stray continuation byte
        {"\xC0\x80", 0xFFFD, 1, Status::invalid},         // overlong: C0 can never start a character
        {"\xE0\x80\x80", 0xFFFD, 1, Status::invalid},     // overlong: E0 needs A0..BF next
        {"\xED\xA0\x80", 0xFFFD, 1, Status::invalid},     // a surrogate
        {"\xF4\x90\x80\x80", 0xFFFD, 1, Status::invalid}, // above U+10FFFF
        {"\xF5\x80", 0xFFFD, 1, Status::invalid},
        {"\xE2\x82" "A", 0xFFFD, 2, Status::invalid},     // the maximal subpart E2 82, then 'A'
        {"\xF0\x9F\x98" "A", 0xFFFD, 3, Status::invalid},
        {"\xE2\x82", 0xFFFD, 2, Status::truncated},
        {"\xF0\x9F", 0xFFFD, 2, Status::truncated},
        {"\xC3", 0xFFFD, 1, Status::truncated},
    };
    for (const Case& c : cases) {
        CAPTURE(c.bytes);
        const unicode::Decoded d = unicode::decode_utf8(c.bytes, 0);
        CHECK(d.cp == c.cp);
        CHECK(d.length == c.length);
        CHECK(d.status == c.status);
    }
    CHECK(unicode::to_valid_utf8("a\xE2\x82" "b\xFF\xF0\x9F\x98\x80\xF0\x9F") ==
          "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xF0\x9F\x98\x80\xEF\xBF\xBD");
}

TEST_CASE("unicode: append_utf8 and decode_utf8 agree on every scalar value") {
    for (char32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x20000 ? 1 : 97)) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        std::string s;
        unicode::append_utf8(s, cp);
        const unicode::Decoded d = unicode::decode_utf8(s, 0);
        if (d.cp != cp || d.length != s.size() || d.status != Status::ok) {
            FAIL("code point " << static_cast<uint32_t>(cp) << " does not round-trip");
        }
    }
}

TEST_CASE("byte-level alphabet: GPT-2's mapping") {
    CHECK(byte_to_unicode('!') == U'!');
    CHECK(byte_to_unicode('~') == U'~');
    CHECK(byte_to_unicode(0xA1) == 0xA1);
    CHECK(byte_to_unicode(0xFF) == 0xFF);
    // The others, in byte order, from U+0100: 0x00 -> U+0100, space (0x20) -> U+0120 'Ġ',
    // 0x7F (the 34th) -> U+0121, 0x80..0xA0 -> U+0122..U+0142, 0xAD (the last) -> U+0143.
    CHECK(byte_to_unicode(0x00) == 0x100);
    CHECK(byte_to_unicode('\n') == 0x10A);
    CHECK(byte_to_unicode(' ') == 0x120);
    CHECK(byte_to_unicode(0x7F) == 0x121);
    CHECK(byte_to_unicode(0x80) == 0x122);
    CHECK(byte_to_unicode(0xA0) == 0x142);
    CHECK(byte_to_unicode(0xAD) == 0x143);
    CHECK(byte_level_encode(" the\n") == "\xC4\xA0the\xC4\x8A");
    std::set<char32_t> seen;
    for (int b = 0; b < 256; ++b) {
        const char32_t c = byte_to_unicode(static_cast<uint8_t>(b));
        CHECK(unicode_to_byte(c) == b);
        seen.insert(c);
    }
    CHECK(seen.size() == 256);
    CHECK(unicode_to_byte(U'Ā' + 68) == -1);  // just past the alphabet
    CHECK(unicode_to_byte(0x4F60) == -1);
    // A character outside the alphabet is kept as it is.
    CHECK(byte_level_decode("a\xE4\xBD\xA0" "b") == "a\xE4\xBD\xA0" "b");

    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    for (int i = 0; i < 200; ++i) {
        const std::string bytes = tokenizer_test::random_bytes(rng, 64);
        CHECK(byte_level_decode(byte_level_encode(bytes)) == bytes);
    }
}
