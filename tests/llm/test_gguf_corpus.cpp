// The fuzzer's corpus (tests/llm/gguf_corpus) replayed: every file parses or gives a GgufError,
// never another exception; a file that parses also gives its tensors' bytes and typed values.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf.hpp"

using namespace llm::gguf;

TEST_CASE("gguf: every corpus file parses or is refused with a GgufError") {
    const std::filesystem::path dir = std::filesystem::path(PTXSMITH_SOURCE_DIR) / "tests/llm/gguf_corpus";
    REQUIRE(std::filesystem::is_directory(dir));
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 20);
    size_t parsed = 0;
    for (const auto& path : files) {
        INFO(path.filename().string());
        std::ifstream in(path, std::ios::binary);
        const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        try {
            const Reader r = Reader::parse(bytes, path.filename().string());
            ++parsed;
            for (const auto& t : r.tensors()) CHECK(r.tensor_data(t).size() == t.bytes);
            for (const auto& [key, v] : r.metadata()) {
                if (v.type == ValueType::u32) CHECK(r.get<uint64_t>(key) == std::get<uint64_t>(v.data));
            }
            // What parses also opens from disk (the mapped path) with the same content.
            const Reader mapped = Reader::open(path.string());
            CHECK(mapped.metadata() == r.metadata());
            CHECK(mapped.tensors().size() == r.tensors().size());
        } catch (const GgufError& e) {
            const std::string what = e.what();
            CHECK(what.rfind(path.filename().string() + ": ", 0) == 0);
            CHECK(what.find('\n') == std::string::npos);
        }
    }
    MESSAGE(files.size() << " corpus files, " << parsed << " parse");
    CHECK(parsed > 0);
}
