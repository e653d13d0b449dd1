// Malformed GGUF files: each is refused with one GgufError naming the field and its offset
// ("FILE: FIELD at offset N: what"). Files are built byte by byte (Raw) so that every field can
// hold what a damaged or hostile file would; truncations start from a valid file of our Writer.
#include <doctest/doctest.h>

#include <charconv>
#include <cstring>
#include <random>

#include "gguf/gguf.hpp"
#include "gguf_random.hpp"

using namespace llm::gguf;

namespace {

// A GGUF file written field by field, correct or not.
struct Raw {
    std::vector<uint8_t> b;

    template <class T>
    Raw& put(T v) {
        const size_t at = b.size();
        b.resize(at + sizeof(T));
        std::memcpy(b.data() + at, &v, sizeof(T));
        return *this;
    }
    Raw& u8(uint8_t v) { return put(v); }
    Raw& u32(uint32_t v) { return put(v); }
    Raw& u64(uint64_t v) { return put(v); }
    Raw& str(std::string_view s) {
        u64(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Raw& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
        b.insert(b.end(), {'G', 'G', 'U', 'F'});
        return u32(version).u64(tensors).u64(kvs);
    }
    // A tensor info: name, dims, type, offset.
    Raw& tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (uint64_t d : ne) u64(d);
        return u32(type).u64(offset);
    }
    Raw& pad(size_t alignment = 32) {
        b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
        return *this;
    }
    Raw& zeros(size_t n) {
        b.resize(b.size() + n, 0);
        return *this;
    }
};

// The message of the GgufError that parsing gives, or "" when the file parses. Any other
// exception fails the test.
std::string error_of(const std::vector<uint8_t>& bytes, const std::string& name = "bad.gguf") {
    try {
        (void)Reader::parse(bytes, name);
        return "";
    } catch (const GgufError& e) {
        return e.what();
    }
}

// "k" (1 byte) as the first key: its type is at 33 and its value at 37.
Raw one_key(uint32_t type) { return Raw().header(0, 1).str("k").u32(type); }

}  // namespace

TEST_CASE("gguf: a damaged header names the field: magic, version, counts") {
    Raw magic;
    magic.b = {'G', 'G', 'U', 'X'};
    magic.u32(3).u64(0).u64(0);
    CHECK(error_of(magic.b) == "bad.gguf: magic at offset 0: expected \"GGUF\" (47 47 55 46), found 47 47 55 58");
    CHECK(error_of({}) == "bad.gguf: magic at offset 0: the file ends 0 bytes on, inside this 4-byte field");
    CHECK(error_of(Raw().header(0, 0, 1).b) ==
          "bad.gguf: version at offset 4: GGUF version 1 (32-bit counts) is not supported: convert the model again");
    CHECK(error_of(Raw().header(0, 0, 4).b) == "bad.gguf: version at offset 4: unsupported GGUF version 4 (versions 2 and 3 are)");
    CHECK(error_of(Raw().header(0, 0, 0x03000000).b) ==
          "bad.gguf: version at offset 4: version reads as 0x3000000: a big-endian GGUF file, and only little-endian "
          "files are supported");
    CHECK(error_of(Raw().header(uint64_t{1} << 63, 0).b) ==
          "bad.gguf: tensor_count at offset 8: 9223372036854775808 tensors cannot fit in the 8 bytes left (a tensor "
          "info takes at least 32)");
    CHECK(error_of(Raw().header(0, uint64_t{1} << 63).b) ==
          "bad.gguf: metadata_kv_count at offset 16: 9223372036854775808 key-value pairs cannot fit in the 0 bytes "
          "left (a pair takes at least 13)");
    // Counts that fit the bytes at first sight but not once the metadata is read.
    CHECK(error_of(Raw().header(2, 1).str("k").u32(4).u32(1).zeros(40).b) ==
          "bad.gguf: tensor_count at offset 8: 2 tensors cannot fit in the 40 bytes left after the metadata (a "
          "tensor info takes at least 32)");
    CHECK(error_of(Raw().header(0, 0, 2).b).empty());
    CHECK(error_of(Raw().header(0, 0, 3).b).empty());
}

TEST_CASE("gguf: absurd lengths and counts in metadata are refused before anything is allocated") {
    CHECK(error_of(one_key(8).u64(uint64_t{1} << 60).b) ==
          "bad.gguf: metadata \"k\" at offset 37: string length 1152921504606846976 exceeds the 0 bytes left in the file");
    CHECK(error_of(Raw().header(0, 1).u64(uint64_t{1} << 60).zeros(8).b) ==
          "bad.gguf: metadata[0].key at offset 24: length 1152921504606846976 exceeds the limit of 65535 bytes");
    CHECK(error_of(Raw().header(0, 1).u64(1000).zeros(20).b) ==
          "bad.gguf: metadata[0].key at offset 24: string length 1000 exceeds the 20 bytes left in the file");
    CHECK(error_of(Raw().header(0, 1).str(std::string(65536, 'k')).b) ==
          "bad.gguf: metadata[0].key at offset 24: length 65536 exceeds the limit of 65535 bytes");
    CHECK(error_of(one_key(9).u32(4).u64(uint64_t{1} << 40).zeros(8).b) ==
          "bad.gguf: metadata \"k\".count at offset 41: 1099511627776 items of type u32 need at least 4 bytes each, "
          "but only 8 bytes are left");
    CHECK(error_of(one_key(9).u32(8).u64(uint64_t{1} << 40).b) ==
          "bad.gguf: metadata \"k\".count at offset 41: 1099511627776 items of type string need at least 8 bytes "
          "each, but only 0 bytes are left");
    CHECK(error_of(one_key(9).u32(9).u64(~uint64_t{0}).zeros(100).b) ==
          "bad.gguf: metadata \"k\".count at offset 41: 18446744073709551615 items of type array need at least 12 "
          "bytes each, but only 100 bytes are left");
    // A count that the bytes allow but the cap on metadata values does not.
    CHECK(error_of(one_key(9).u32(0).u64(max_metadata_values).zeros(max_metadata_values).b) ==
          "bad.gguf: metadata \"k\".count at offset 41: 16777216 more items exceed the limit of 16777216 metadata "
          "values per file");
    // A string inside an array whose length runs past the end.
    CHECK(error_of(one_key(9).u32(8).u64(2).str("ok").u64(50).b) ==
          "bad.gguf: metadata \"k\"[1] at offset 59: string length 50 exceeds the 0 bytes left in the file");
}

TEST_CASE("gguf: metadata values of unknown types, bad bools, too deep nesting and duplicates are refused") {
    CHECK(error_of(one_key(13).u32(0).b) == "bad.gguf: metadata \"k\".type at offset 33: unknown value type 13");
    CHECK(error_of(one_key(9).u32(13).u64(0).b) ==
          "bad.gguf: metadata \"k\".element_type at offset 37: unknown value type 13");
    CHECK(error_of(one_key(7).u8(2).b) == "bad.gguf: metadata \"k\" at offset 37: bool value 2 is neither 0 nor 1");
    CHECK(error_of(one_key(9).u32(7).u64(2).u8(1).u8(255).b) ==
          "bad.gguf: metadata \"k\"[1] at offset 50: bool value 255 is neither 0 nor 1");

    // Eight levels of arrays parse; a ninth is refused where it starts.
    Raw eight = one_key(9);
    for (int level = 1; level < 8; ++level) eight.u32(9).u64(1);
    eight.u32(0).u64(0);
    CHECK(error_of(eight.b).empty());
    Raw nine = one_key(9);
    for (int level = 1; level < 9; ++level) nine.u32(9).u64(1);
    nine.u32(0).u64(0);
    CHECK(error_of(nine.b) ==
          "bad.gguf: metadata \"k\"[0][0][0][0][0][0][0][0] at offset 133: arrays nest deeper than 8 levels");

    CHECK(error_of(Raw().header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).b) ==
          "bad.gguf: metadata \"k\" at offset 41: duplicate key (its first value is at offset 37)");
    // Names with odd bytes stay on one line in messages.
    CHECK(error_of(Raw().header(0, 1).str("a\nb\"").u32(13).b) ==
          "bad.gguf: metadata \"a\\x0ab\\x22\".type at offset 36: unknown value type 13");
}

TEST_CASE("gguf: general.alignment must be a u32 power of two") {
    auto alignment = [](uint32_t type, uint64_t value) {
        Raw r = Raw().header(0, 1).str("general.alignment").u32(type);
        return type == 4 ? r.u32(static_cast<uint32_t>(value)) : r.u64(value);
    };
    CHECK(error_of(alignment(10, 64).b) ==
          "bad.gguf: metadata \"general.alignment\".type at offset 49: general.alignment must be a u32, not a u64");
    CHECK(error_of(alignment(4, 0).b) == "bad.gguf: metadata \"general.alignment\" at offset 53: alignment 0 is not a power of two");
    CHECK(error_of(alignment(4, 48).b) == "bad.gguf: metadata \"general.alignment\" at offset 53: alignment 48 is not a power of two");
    CHECK(error_of(alignment(4, 1).b).empty());
    const Reader r = Reader::parse(alignment(4, uint64_t{1} << 31).b, "a.gguf");
    CHECK(r.alignment() == uint32_t{1} << 31);
}

TEST_CASE("gguf: tensor infos: names, dimensions, types and sizes are checked") {
    // The only tensor, "w", has n_dims at 33, ne[0] at 37; with one dimension its type is at 45
    // and its offset at 49.
    auto one = [](std::vector<uint64_t> ne, uint32_t type, uint64_t offset = 0, size_t data = 4096) {
        return Raw().header(1, 0).tensor("w", std::move(ne), type, offset).pad().zeros(data).b;
    };
    CHECK(error_of(one({8}, 0)).empty());
    CHECK(error_of(one({8}, 99)) == "bad.gguf: tensor \"w\".type at offset 45: unsupported tensor type 99 in tensor w");
    CHECK(error_of(one({8}, 16)) == "bad.gguf: tensor \"w\".type at offset 45: unsupported tensor type 16 in tensor w");
    CHECK(error_of(one({}, 0)) == "bad.gguf: tensor \"w\".n_dims at offset 33: 0 dimensions: a tensor has 1 to 4");
    CHECK(error_of(one({1, 1, 1, 1, 1}, 0)) == "bad.gguf: tensor \"w\".n_dims at offset 33: 5 dimensions: a tensor has 1 to 4");
    CHECK(error_of(one({0}, 0)) == "bad.gguf: tensor \"w\".ne[0] at offset 37: dimension is 0: every dimension must be at least 1");
    CHECK(error_of(one({8, 0}, 0)) == "bad.gguf: tensor \"w\".ne[1] at offset 45: dimension is 0: every dimension must be at least 1");
    CHECK(error_of(one({uint64_t{1} << 62, 4}, 0)) ==
          "bad.gguf: tensor \"w\".ne[1] at offset 45: dimension 4 makes the element count overflow 2^63");
    CHECK(error_of(one({~uint64_t{0}}, 0)) ==
          "bad.gguf: tensor \"w\".ne[0] at offset 37: dimension 18446744073709551615 makes the element count overflow 2^63");
    CHECK(error_of(one({100}, 12)) ==
          "bad.gguf: tensor \"w\".ne at offset 37: ne[0] = 100 is not a multiple of q4_K's block of 256 elements");
    CHECK(error_of(one({uint64_t{1} << 60, 4}, 0)) ==
          "bad.gguf: tensor \"w\".ne at offset 37: the tensor's size overflows 2^63 bytes (4 rows of 4611686018427387904 "
          "bytes)");
    CHECK(error_of(one({uint64_t{1} << 61}, 0)) ==
          "bad.gguf: tensor \"w\".ne at offset 37: a row of 2305843009213693952 elements of f32 takes more than 2^63 bytes");
    CHECK(error_of(one({8}, 0, 4)) == "bad.gguf: tensor \"w\".offset at offset 49: offset 4 is not a multiple of the alignment 32");
    CHECK(error_of(one({8}, 0, uint64_t{1} << 40)) ==
          "bad.gguf: tensor \"w\".offset at offset 49: 32 bytes at offset 1099511627776 of the data section (file "
          "offset 64) end past the end of the file: the data section holds 4096 bytes");
    CHECK(error_of(one({8}, 0, 4096 - 31)).find("not a multiple") != std::string::npos);
    CHECK(error_of(one({8}, 0, 4096 - 32)).empty());
    CHECK(error_of(one({8}, 0, 4096)) ==
          "bad.gguf: tensor \"w\".offset at offset 49: 32 bytes at offset 4096 of the data section (file offset 64) end "
          "past the end of the file: the data section holds 4096 bytes");

    CHECK(error_of(Raw().header(1, 0).tensor(std::string(65, 'n'), {8}, 0, 0).pad().zeros(32).b) ==
          "bad.gguf: tensor[0].name at offset 24: length 65 exceeds the limit of 64 bytes");
    CHECK(error_of(Raw().header(1, 0).tensor(std::string(64, 'n'), {8}, 0, 0).pad().zeros(32).b).empty());
    CHECK(error_of(Raw().header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad().zeros(64).b) ==
          "bad.gguf: tensor[1].name at offset 57: duplicate tensor name \"w\" (also tensor 0)");
    CHECK(error_of(Raw().header(1, 0).u64(60).zeros(24).b) ==
          "bad.gguf: tensor[0].name at offset 24: string length 60 exceeds the 24 bytes left in the file");
}

TEST_CASE("gguf: tensors whose data overlap are refused, in whatever order they are listed") {
    // "a" and "b" are 64 bytes each; "b"'s offset field is at 57 + 33 - 8 = 82 (its info starts at 57).
    auto two = [](uint64_t a, uint64_t b) {
        return Raw().header(2, 0).tensor("a", {16}, 0, a).tensor("b", {16}, 0, b).pad().zeros(256).b;
    };
    CHECK(error_of(two(0, 64)).empty());
    CHECK(error_of(two(64, 0)).empty());
    CHECK(error_of(two(0, 32)) == "bad.gguf: tensor \"b\".offset at offset 82: data [32, 96) overlaps tensor \"a\"'s data [0, 64)");
    CHECK(error_of(two(32, 0)) == "bad.gguf: tensor \"a\".offset at offset 49: data [32, 96) overlaps tensor \"b\"'s data [0, 64)");
    CHECK(error_of(two(0, 0)).find("overlaps") != std::string::npos);
}

TEST_CASE("gguf: a valid file cut at every byte is refused up to the end of its last tensor") {
    gguf_test::Rng rng(7);
    Writer w;
    w.set("general.architecture", Value::string("llama"));
    w.set("llama.block_count", Value::u32(2));
    w.set("tokenizer.ggml.tokens", Value::strings({"<s>", "", "\xe2\x96\x81the"}));
    w.set("nested", Value::array(ValueType::array, {Value::f32s({1.0f}), Value::f32s({})}));
    w.set("flags", Value::array(ValueType::boolean, {Value::boolean(true)}));
    w.set("f64", Value::f64(2.5));
    for (const auto& t : gguf_test::random_tensors(rng, {GgmlType::f32, GgmlType::q8_0, GgmlType::q4_k})) {
        w.add_tensor(t.name, t.ne, t.type, t.data);
    }
    const std::vector<uint8_t> file = w.to_bytes();
    const Reader whole = Reader::parse(file, "cut.gguf");
    uint64_t data_end = 0;
    for (const auto& t : whole.tensors()) data_end = std::max(data_end, whole.data_offset() + t.offset + t.bytes);
    REQUIRE(data_end <= file.size());

    for (size_t length = 0; length <= file.size(); ++length) {
        const std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(length));
        const std::string e = error_of(cut, "cut.gguf");
        INFO("cut at " << length << ": " << e);
        if (length >= data_end) {
            CHECK(e.empty());
            continue;
        }
        REQUIRE_FALSE(e.empty());
        // One line: "cut.gguf: FIELD at offset N: what", where the field starts inside the cut file.
        CHECK(e.find('\n') == std::string::npos);
        REQUIRE(e.rfind("cut.gguf: ", 0) == 0);
        const size_t at = e.find(" at offset ");
        REQUIRE(at != std::string::npos);
        uint64_t offset = 0;
        const char* digits = e.c_str() + at + 11;
        std::from_chars(digits, e.c_str() + e.size(), offset);
        CHECK(offset <= length);
        if (length >= whole.data_offset()) {
            CHECK(e.find(".offset at offset") != std::string::npos);
            CHECK(e.find("end past the end of the file") != std::string::npos);
        } else if (length < 24) {
            const bool header_field = e.find(": magic at") != std::string::npos || e.find(": version at") != std::string::npos ||
                                      e.find(": tensor_count at") != std::string::npos ||
                                      e.find(": metadata_kv_count at") != std::string::npos;
            CHECK(header_field);
        }
    }
}

TEST_CASE("gguf: random byte changes to a valid file give a Reader or a GgufError, nothing else") {
    std::random_device rd;
    const uint64_t seed = (uint64_t{rd()} << 32) | rd();
    INFO("seed " << seed);
    gguf_test::Rng rng(seed);
    Writer w;
    for (const auto& [k, v] : gguf_test::random_metadata(rng)) w.set(k, v);
    for (const auto& t : gguf_test::random_tensors(rng, {GgmlType::f32, GgmlType::q6_k})) w.add_tensor(t.name, t.ne, t.type, t.data);
    const std::vector<uint8_t> file = w.to_bytes();
    const size_t header_end = static_cast<size_t>(Reader::parse(file, "x").data_offset());
    int refused = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        std::vector<uint8_t> bytes = file;
        const uint64_t changes = 1 + gguf_test::below(rng, 4);
        for (uint64_t c = 0; c < changes; ++c) {
            const size_t at = gguf_test::below(rng, header_end);
            // Small values and all-ones bytes reach the interesting branches of counts and types.
            const uint64_t kind = gguf_test::below(rng, 3);
            bytes[at] = kind == 0 ? 0xff : kind == 1 ? static_cast<uint8_t>(gguf_test::below(rng, 16))
                                                     : static_cast<uint8_t>(rng());
        }
        if (!error_of(bytes).empty()) ++refused;
    }
    CHECK(refused > 0);
}
