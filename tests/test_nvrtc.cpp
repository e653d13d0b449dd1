// NVRTC loaded with dlopen: a CUDA C++ kernel compiled to PTX, and compiler errors reported with
// NVRTC's log. The compiling cases need NVRTC (from the CUDA toolkit) and are skipped without it;
// the loading failures are checked everywhere.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/nvrtc.hpp"

using ptxsmith::Nvrtc;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Decided once, when the test cases register, so that without NVRTC the cases below count as
// skipped rather than passed; the reason is printed once.
bool nvrtc_missing() {
    try {
        Nvrtc::get();
        return false;
    } catch (const std::exception& e) {
        std::printf("NVRTC test cases skipped: %s\n", e.what());
        return true;
    }
}
const bool kNvrtcMissing = nvrtc_missing();

const char* const kAxpy = R"(
extern "C" __global__ void axpy(float a, const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
)";

std::vector<std::string> lines_starting_with(const std::string& text, const std::string& prefix) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) out.push_back(line);
    }
    return out;
}

std::string compile_error(const std::string& source, const std::string& name, const std::vector<std::string>& options) {
    try {
        ptxsmith::compile_cuda_to_ptx(source, name, options);
    } catch (const ptxsmith::Error& e) {
        return e.what();
    }
    FAIL_CHECK("compiling ", name, " succeeded; an Error was expected");
    return {};
}

}  // namespace

TEST_CASE("NVRTC compiles a CUDA C++ kernel to PTX for the architecture asked for" * doctest::skip(kNvrtcMissing)) {
    const Nvrtc& nvrtc = Nvrtc::get();
    CHECK(nvrtc.version() >= 12000);
    MESSAGE("NVRTC ", nvrtc.version() / 1000, ".", nvrtc.version() % 1000 / 10, " from ", nvrtc.library_path());

    const std::string ptx = ptxsmith::compile_cuda_to_ptx(kAxpy, "axpy.cu", {"--gpu-architecture=compute_80"});
    CHECK(lines_starting_with(ptx, ".target") == std::vector<std::string>{".target sm_80"});
    CHECK(lines_starting_with(ptx, ".address_size") == std::vector<std::string>{".address_size 64"});
    CHECK(lines_starting_with(ptx, ".visible .entry axpy(").size() == 1);
    CHECK(ptx.find('\0') == std::string::npos);  // NVRTC's terminating NUL is not part of the text

    // The same source and options give the same PTX, through a separately loaded NVRTC too.
    CHECK(Nvrtc::load(nvrtc.library_path())->compile(kAxpy, "axpy.cu", {"--gpu-architecture=compute_80"}) == ptx);
}

TEST_CASE("an NVRTC compile error carries the program name, the result and NVRTC's log" * doctest::skip(kNvrtcMissing)) {
    const std::string message = compile_error(
        "extern \"C\" __global__ void broken(float* y) { y[0] = undefined_identifier_xyz; }\n", "broken.cu",
        {"--gpu-architecture=compute_80"});
    CHECK(contains(message, "could not compile broken.cu (NVRTC_ERROR_COMPILATION; options: --gpu-architecture=compute_80):"));
    CHECK(contains(message, "broken.cu(1): error"));
    CHECK(contains(message, "undefined_identifier_xyz"));
}

TEST_CASE("an option NVRTC does not know is reported as such" * doctest::skip(kNvrtcMissing)) {
    const std::string message = compile_error(kAxpy, "axpy.cu", {"--no-such-option-for-nvrtc"});
    CHECK(contains(message, "could not compile axpy.cu (NVRTC_ERROR_INVALID_OPTION; options: --no-such-option-for-nvrtc)"));
}

TEST_CASE("a missing NVRTC, or a library that is not NVRTC, is an Error that says what to install") {
    try {
        Nvrtc::load("/nonexistent/libnvrtc.so.13");
        FAIL("loaded");
    } catch (const ptxsmith::Error& e) {
        const std::string message = e.what();
        CHECK(contains(message, "NVRTC not found: could not load /nonexistent/libnvrtc.so.13 ("));
        CHECK(contains(message, "needs NVRTC from the CUDA toolkit"));
        CHECK(contains(message, "PTXSMITH_LIBNVRTC"));
    }
    try {
        Nvrtc::load("libm.so.6");
        FAIL("loaded");
    } catch (const ptxsmith::Error& e) {
        CHECK(contains(e.what(), "The library at libm.so.6 is not an NVRTC ptxsmith can use: it lacks nvrtcVersion, "));
    }
}

TEST_CASE("NVRTC's default paths: PTXSMITH_LIBNVRTC alone when set, else by soname, then in /usr/local/cuda/lib64") {
    const char* old = std::getenv("PTXSMITH_LIBNVRTC");
    const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
    ::unsetenv("PTXSMITH_LIBNVRTC");
    const std::vector<std::string> paths = Nvrtc::default_library_paths();
    ::setenv("PTXSMITH_LIBNVRTC", "/opt/nvrtc/libnvrtc.so.12", 1);
    const std::vector<std::string> from_env = Nvrtc::default_library_paths();
    if (saved) ::setenv("PTXSMITH_LIBNVRTC", saved->c_str(), 1);
    else ::unsetenv("PTXSMITH_LIBNVRTC");

    CHECK(paths == std::vector<std::string>{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
                                            "/usr/local/cuda/lib64/libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.12",
                                            "/usr/local/cuda/lib64/libnvrtc.so"});
    CHECK(from_env == std::vector<std::string>{"/opt/nvrtc/libnvrtc.so.12"});
}
