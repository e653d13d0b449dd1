// Compiles the example of docs/dsl.md and checks that the document shows exactly this code.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "dsl_example.cpp"

namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The text between the first two lines that contain `marker`.
std::string between(const std::string& text, const std::string& marker) {
    size_t first = text.find(marker);
    REQUIRE(first != std::string::npos);
    size_t start = text.find('\n', first) + 1;
    size_t second = text.find(marker, start);
    REQUIRE(second != std::string::npos);
    size_t end = text.rfind('\n', second) + 1;
    return text.substr(start, end - start);
}

}  // namespace

TEST_CASE("docs/dsl.md shows the example that this test compiles") {
    std::string source = between(read(PTXSMITH_SOURCE_DIR "/tests/dsl_example.cpp"), "// [example]");
    std::string doc = between(read(PTXSMITH_SOURCE_DIR "/docs/dsl.md"), "<!-- example -->");
    // The document wraps the code in a ```cpp fence.
    CHECK(doc == "```cpp\n" + source + "```\n");
}

TEST_CASE("the example kernel prints the PTX the guide describes") {
    std::string ptx = print_ptx(scaled_relu(1000, 0.5f, Target{90}));
    CHECK(ptx.find(".target sm_75\n") != std::string::npos);
    CHECK(ptx.find("ld.global.nc.f32 %f0, [%rd4];") != std::string::npos);
    CHECK(ptx.find("max.f32 %f1, %f0, 0f00000000;") != std::string::npos);
    CHECK(ptx.find("mul.f32 %f2, %f1, 0f3F000000;") != std::string::npos);
    CHECK(ptx.find("st.global.f32 [%rd5], %f2;") != std::string::npos);
}
