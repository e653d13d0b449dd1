// GGUF Writer -> Reader round trips: every value type (nested arrays, empty strings and arrays,
// extremes, non-UTF-8 bytes), every tensor type, alignments, both versions, deferred tensors,
// writing to disk atomically with progress; and the writer's own refusals.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf.hpp"
#include "gguf_random.hpp"

using namespace llm::gguf;
using gguf_test::Rng;

namespace {

uint64_t fresh_seed() {
    std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}

std::vector<GgmlType> every_type() {
    return {std::begin(gguf_test::all_tensor_types), std::end(gguf_test::all_tensor_types)};
}

// A folder of its own under the build tree, removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::path(PTXSMITH_BINARY_DIR) / ("gguf_test_" + std::to_string(::getpid()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void check_same_content(const Reader& r, const gguf_test::Metadata& metadata,
                        const std::vector<gguf_test::TensorSpec>& tensors, uint32_t alignment) {
    REQUIRE(r.metadata().size() == metadata.size());
    for (size_t i = 0; i < metadata.size(); ++i) {
        INFO("key " << metadata[i].first);
        CHECK(r.metadata()[i].first == metadata[i].first);
        CHECK(r.metadata()[i].second == metadata[i].second);
        CHECK(r.find(metadata[i].first) == &r.metadata()[i].second);
    }
    REQUIRE(r.tensors().size() == tensors.size());
    CHECK(r.data_offset() % alignment == 0);
    for (size_t i = 0; i < tensors.size(); ++i) {
        const TensorInfo& t = r.tensors()[i];
        INFO("tensor " << tensors[i].name);
        CHECK(t.name == tensors[i].name);
        CHECK(t.ne == tensors[i].ne);
        CHECK(t.type == tensors[i].type);
        CHECK(t.offset % alignment == 0);
        CHECK(t.bytes == tensors[i].data.size());
        const auto data = r.tensor_data(t);
        CHECK(std::vector<uint8_t>(data.begin(), data.end()) == tensors[i].data);
        CHECK(r.find_tensor(t.name) == &t);
    }
}

}  // namespace

TEST_CASE("gguf: random metadata of every value type and tensors of every type survive Writer -> Reader") {
    const uint64_t seed = fresh_seed();
    INFO("seed " << seed);
    Rng rng(seed);
    for (uint32_t alignment : {32u, 1u, 8u, 64u, 4096u}) {
        for (uint32_t version : {2u, 3u}) {
            INFO("alignment " << alignment << ", version " << version);
            auto metadata = gguf_test::random_metadata(rng);
            const auto tensors = gguf_test::random_tensors(rng, every_type());
            Writer w(alignment, version);
            for (const auto& [k, v] : metadata) w.set(k, v);
            for (size_t i = 0; i < tensors.size(); ++i) {
                const auto& t = tensors[i];
                if (i % 2 == 0) {
                    w.add_tensor(t.name, t.ne, t.type, t.data);
                } else {
                    w.add_tensor_deferred(t.name, t.ne, t.type,
                                          [data = t.data](uint8_t* out) { std::memcpy(out, data.data(), data.size()); });
                }
            }
            if (alignment != 32) metadata.insert(metadata.begin(), {"general.alignment", Value::u32(alignment)});
            const auto bytes = w.to_bytes();
            const Reader r = Reader::parse(bytes, "roundtrip.gguf");
            CHECK(r.version() == version);
            CHECK(r.alignment() == alignment);
            CHECK(r.file_size() == bytes.size());
            CHECK(bytes.size() % alignment == 0);
            check_same_content(r, metadata, tensors, alignment);
        }
    }
}

TEST_CASE("gguf: each value type alone, at its extremes, as a scalar and as an array") {
    const std::vector<Value> values = {
        Value::u8(0), Value::u8(255), Value::i8(-128), Value::i8(127), Value::u16(65535), Value::i16(-32768),
        Value::u32(4294967295u), Value::i32(-2147483647 - 1), Value::f32(-0.0f), Value::f32(1e-45f),
        Value::f32(std::numeric_limits<float>::quiet_NaN()), Value::boolean(true), Value::boolean(false),
        Value::string(""), Value::string(std::string("a\0b", 3)), Value::u64(~uint64_t{0}),
        Value::i64(std::numeric_limits<int64_t>::min()), Value::f64(-std::numeric_limits<double>::infinity()),
        Value::f64(5e-324),
    };
    for (const Value& v : values) {
        INFO(value_type_name(v.type));
        Writer w;
        w.set("scalar", v);
        w.set("array", Value::array(v.type, {v, v}));
        w.set("empty", Value::array(v.type, {}));
        const Reader r = Reader::parse(w.to_bytes(), "one.gguf");
        CHECK(*r.find("scalar") == v);
        CHECK(*r.find("array") == Value::array(v.type, {v, v}));
        CHECK(*r.find("empty") == Value::array(v.type, {}));
        CHECK(r.tensors().empty());
    }
}

TEST_CASE("gguf: arrays nest up to the depth limit and no deeper") {
    Value v = Value::u8(7);
    for (int depth = 0; depth < max_array_depth; ++depth) v = Value::array(v.type, {v});
    Writer w;
    w.set("deep", v);
    CHECK(*Reader::parse(w.to_bytes(), "deep.gguf").find("deep") == v);
    const Value deeper = Value::array(ValueType::array, {v});
    CHECK_THROWS_WITH_AS(w.set("deeper", deeper), doctest::Contains("nest deeper than 8"), GgufError);
}

TEST_CASE("gguf: typed accessors convert integers in range, floats of either width, and refuse the rest") {
    Writer w;
    w.set("u32", Value::u32(32));
    w.set("u64", Value::u64(64));
    w.set("big", Value::u64(uint64_t{1} << 40));
    w.set("neg", Value::i32(-5));
    w.set("f32", Value::f32(0.5f));
    w.set("f64", Value::f64(0.25));
    w.set("huge", Value::f64(1e300));
    w.set("flag", Value::boolean(true));
    w.set("name", Value::string("tiny"));
    w.set("tokens", Value::strings({"a", "b"}));
    w.set("scores", Value::f32s({1.0f, -2.0f}));
    w.set("types", Value::array(ValueType::u8, {Value::u8(1), Value::u8(6)}));
    w.set("ids", Value::array(ValueType::u64, {Value::u64(1), Value::u64(uint64_t{1} << 33)}));
    const Reader r = Reader::parse(w.to_bytes(), "typed.gguf");

    CHECK(r.get<uint32_t>("u32") == 32);
    CHECK(r.get<uint32_t>("u64") == 64);
    CHECK(r.get<int64_t>("u64") == 64);
    CHECK(r.get<uint64_t>("big") == uint64_t{1} << 40);
    CHECK(r.get<int32_t>("neg") == -5);
    CHECK(r.get<float>("f32") == 0.5f);
    CHECK(r.get<float>("f64") == 0.25f);
    CHECK(r.get<double>("f32") == 0.5);
    CHECK(r.get<bool>("flag"));
    CHECK(r.get<std::string>("name") == "tiny");
    CHECK(r.get_strings("tokens") == std::vector<std::string>{"a", "b"});
    CHECK(r.get_f32s("scores") == std::vector<float>{1.0f, -2.0f});
    CHECK(r.get_i32s("types") == std::vector<int32_t>{1, 6});
    CHECK(r.get_optional<uint32_t>("missing") == std::nullopt);
    CHECK(r.get_optional<uint32_t>("u32") == 32u);
    CHECK_FALSE(r.has("missing"));

    CHECK_THROWS_WITH_AS(r.get<uint32_t>("big"), doctest::Contains("metadata \"big\" at offset"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<uint32_t>("big"), doctest::Contains("expected u32, found u64 1099511627776"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<uint32_t>("neg"), doctest::Contains("found i32 -5"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<uint32_t>("name"), doctest::Contains("expected u32, found string"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<float>("huge"), doctest::Contains("expected f32, found f64"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<float>("u32"), doctest::Contains("expected f32"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<bool>("u32"), doctest::Contains("expected bool"), GgufError);
    CHECK_THROWS_WITH_AS(r.get<uint32_t>("missing"), doctest::Contains("typed.gguf: metadata \"missing\": the key is missing"),
                         GgufError);
    CHECK_THROWS_WITH_AS(r.get_optional<std::string>("u32"), doctest::Contains("expected string"), GgufError);
    CHECK_THROWS_WITH_AS(r.get_i32s("ids"), doctest::Contains("at index 1"), GgufError);
    CHECK_THROWS_WITH_AS(r.get_strings("scores"), doctest::Contains("expected an array of string, found array of 2 f32"),
                         GgufError);
    CHECK_THROWS_WITH_AS(r.get_f32s("name"), doctest::Contains("expected an array of f32, found string"), GgufError);
}

TEST_CASE("gguf: set() replaces a key in place and general.alignment changes the layout") {
    Writer w;
    w.set("a", Value::u32(1));
    w.set("b", Value::u32(2));
    w.set("a", Value::string("again"));
    w.set("general.alignment", Value::u32(128));
    w.add_tensor("t", {4}, GgmlType::f32, std::vector<uint8_t>(16, 1));
    const Reader r = Reader::parse(w.to_bytes(), "set.gguf");
    REQUIRE(r.metadata().size() == 3);
    CHECK(r.metadata()[0].first == "a");
    CHECK(r.metadata()[0].second == Value::string("again"));
    CHECK(r.alignment() == 128);
    CHECK(r.data_offset() % 128 == 0);
    CHECK(r.file_size() == r.data_offset() + 128);
}

TEST_CASE("gguf: write() goes through a temporary file, reports progress, and leaves nothing on failure") {
    TempDir dir;
    const uint64_t seed = fresh_seed();
    INFO("seed " << seed);
    Rng rng(seed);
    const auto metadata = gguf_test::random_metadata(rng);
    const auto tensors = gguf_test::random_tensors(rng, every_type());
    Writer w;
    for (const auto& [k, v] : metadata) w.set(k, v);
    for (const auto& t : tensors) {
        w.add_tensor_deferred(t.name, t.ne, t.type, [&t](uint8_t* out) { std::memcpy(out, t.data.data(), t.data.size()); });
    }
    const auto path = dir.path / "model.gguf";
    std::ofstream(path) << "the old file";
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    w.write(path.string(), [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });

    const auto on_disk = read_file(path);
    CHECK(on_disk == w.to_bytes());
    REQUIRE_FALSE(calls.empty());
    CHECK(calls.back() == std::pair<uint64_t, uint64_t>{on_disk.size(), on_disk.size()});
    for (size_t i = 1; i < calls.size(); ++i) CHECK(calls[i].first >= calls[i - 1].first);
    const Reader r = Reader::open(path.string());
    CHECK(r.path() == path.string());
    check_same_content(r, metadata, tensors, 32);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator()) == 1);

    // A fill that throws stops the write: the old file stays, no temporary file is left.
    Writer failing;
    failing.add_tensor_deferred("bad", {32}, GgmlType::f32, [](uint8_t*) { throw std::runtime_error("quantiser failed"); });
    CHECK_THROWS_WITH_AS(failing.write(path.string()), "quantiser failed", std::runtime_error);
    CHECK(read_file(path) == on_disk);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator()) == 1);

    // A fill that writes past its tensor is caught.
    Writer overrun;
    overrun.add_tensor_deferred("over", {32}, GgmlType::f32, [](uint8_t* out) { std::memset(out, 1, 130); });
    CHECK_THROWS_WITH_AS(overrun.to_bytes(), doctest::Contains("wrote past the tensor's 128 bytes"), GgufError);
    CHECK_THROWS_WITH_AS(overrun.write(path.string()), doctest::Contains("wrote past"), GgufError);
    CHECK(read_file(path) == on_disk);

    CHECK_THROWS_WITH_AS(w.write((dir.path / "no-such-dir" / "x.gguf").string()), doctest::Contains("cannot write"),
                         GgufError);
    CHECK_THROWS_WITH_AS(Reader::open((dir.path / "missing.gguf").string()), doctest::Contains("cannot open"), GgufError);
    CHECK_THROWS_WITH_AS(Reader::open(dir.path.string()), doctest::Contains("not a regular file"), GgufError);
}

TEST_CASE("gguf: the writer refuses tensors and values it could not write correctly") {
    Writer w;
    w.add_tensor("ok", {256, 2}, GgmlType::q4_k, std::vector<uint8_t>(288));
    CHECK_THROWS_WITH_AS(w.add_tensor("ok", {32}, GgmlType::f32, std::vector<uint8_t>(128)),
                         doctest::Contains("added twice"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor("short", {32}, GgmlType::f32, std::vector<uint8_t>(127)),
                         doctest::Contains("127 bytes of data given, its shape and type need 128"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor("rows", {100}, GgmlType::q4_k, {}),
                         doctest::Contains("ne[0] = 100 is not a multiple of q4_K's block of 256"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor(std::string(64, 'n'), {1}, GgmlType::f32, std::vector<uint8_t>(4)),
                         doctest::Contains("ggml reads at most 63"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor("dims", {1, 1, 1, 1, 1}, GgmlType::f32, std::vector<uint8_t>(4)),
                         doctest::Contains("1 to 4 dimensions"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor("zero", {4, 0}, GgmlType::f32, {}), doctest::Contains("ne[1] is 0"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor("type", {4}, static_cast<GgmlType>(99), {}),
                         doctest::Contains("unsupported tensor type 99"), GgufError);
    CHECK_THROWS_WITH_AS(w.add_tensor("huge", {uint64_t{1} << 62, 4}, GgmlType::f32, {}),
                         doctest::Contains("overflows 2^63"), GgufError);

    Value bad = Value::u8(0);
    bad.data = uint64_t{256};
    CHECK_THROWS_WITH_AS(w.set("bad", bad), "metadata \"bad\": 256 does not fit in u8", GgufError);
    CHECK_THROWS_WITH_AS(w.set("bad", Value{ValueType::f32, 0.1}),
                         doctest::Contains("is not exactly an f32"), GgufError);
    CHECK_THROWS_WITH_AS(w.set("bad", Value{ValueType::string, uint64_t{1}}), doctest::Contains("must hold a std::string"),
                         GgufError);
    CHECK_THROWS_WITH_AS(Value::array(ValueType::u8, {Value::u8(1), Value::i8(1)}),
                         "array of u8 holds an item of type i8 at index 1", GgufError);
    Value mixed = Value::array(ValueType::array, {Value::i32s({1}), Value::i32s({2})});
    std::get<Array>(std::get<Array>(mixed.data).items[1].data).items[0] = Value::u8(1);
    CHECK_THROWS_WITH_AS(w.set("mixed", mixed), "metadata \"mixed\"[1][0]: an item of type u8 in an array of i32",
                         GgufError);
    CHECK_THROWS_WITH_AS(w.set("general.alignment", Value::u64(64)), doctest::Contains("must be a u32"), GgufError);
    CHECK_THROWS_WITH_AS(w.set("general.alignment", Value::u32(48)), doctest::Contains("48 is not a power of two"),
                         GgufError);
    CHECK_THROWS_WITH_AS(Writer(0), doctest::Contains("0 is not a power of two"), GgufError);
    CHECK_THROWS_WITH_AS(Writer(32, 1), doctest::Contains("cannot write GGUF version 1"), GgufError);
}

TEST_CASE("gguf: tensor_bytes follows the block sizes of formats.md") {
    CHECK(tensor_bytes(GgmlType::f32, std::vector<uint64_t>{3, 2}) == 24);
    CHECK(tensor_bytes(GgmlType::f16, std::vector<uint64_t>{3}) == 6);
    CHECK(tensor_bytes(GgmlType::bf16, std::vector<uint64_t>{3}) == 6);
    CHECK(tensor_bytes(GgmlType::q8_0, std::vector<uint64_t>{64, 3}) == 2 * 34 * 3);
    CHECK(tensor_bytes(GgmlType::q4_0, std::vector<uint64_t>{32}) == 18);
    CHECK(tensor_bytes(GgmlType::q4_k, std::vector<uint64_t>{512, 2}) == 2 * 144 * 2);
    CHECK(tensor_bytes(GgmlType::q6_k, std::vector<uint64_t>{256, 1, 1, 5}) == 210 * 5);
    TensorInfo t;
    t.ne = {256, 3, 2};
    CHECK(t.elements() == 1536);
}
