// The CUDA driver loader, against a fake libcuda built by the tests (fake_cuda/fake_libcuda.cpp,
// whose behaviour FAKE_CUDA_MODE picks) and against libraries that are no driver at all. Every
// failure must be an Error whose message says what happened and what to do, never a crash.
#include <dlfcn.h>
#include <unistd.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ptxsmith/runtime/driver.hpp"
#include "ptxsmith/runtime/errors.hpp"

using ptxsmith::CudaError;
using ptxsmith::Driver;

namespace {

// Sets (or, with nullopt, unsets) an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value->c_str(), 1);
        else ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The message of the Error that loading `path` throws ("" and a failed check when it loads).
std::string load_error(const std::string& path) {
    try {
        Driver::load(path);
    } catch (const ptxsmith::Error& e) {
        return e.what();
    }
    FAIL_CHECK("loading ", path, " succeeded; an Error was expected");
    return {};
}

// The CudaError that loading the fake in `mode` throws.
std::optional<CudaError> load_cuda_error(const char* mode) {
    ScopedEnv env("FAKE_CUDA_MODE", mode);
    try {
        Driver::load(FAKE_LIBCUDA);
    } catch (const CudaError& e) {
        return e;
    }
    FAIL_CHECK("no CudaError in mode ", mode);
    return std::nullopt;
}

}  // namespace

TEST_CASE("the fake driver loads: every entry point resolved at CUDA 12.0, then cuInit") {
    ScopedEnv env("FAKE_CUDA_MODE", "ok");
    std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA);
    CHECK(d->library_path() == FAKE_LIBCUDA);
    CHECK(d->version() == 12040);
    CHECK(ptxsmith::cuda_version_string(d->version()) == "12.4");
    CHECK(d->device_count() == 1);
#define PTXSMITH_CUDA_SYMBOL(name, need, abi, ret, params) \
    CHECK_MESSAGE(static_cast<bool>(d->name), #name);           \
    CHECK(d->has(#name));
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL

    // The fake counts lookups made at any other version or with other flags than the pinned ones.
    void* fake = ::dlopen(FAKE_LIBCUDA, RTLD_NOW | RTLD_NOLOAD);
    REQUIRE(fake != nullptr);
    auto off_pin = reinterpret_cast<int (*)()>(::dlsym(fake, "fake_cuda_off_pin_requests"));
    REQUIRE(static_cast<bool>(off_pin));
    CHECK(off_pin() == 0);
    ::dlclose(fake);
}

TEST_CASE("calls through the resolved pointers reach the driver with their arguments intact") {
    ScopedEnv env("FAKE_CUDA_MODE", "ok");
    std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA);
    ptxsmith::CUdevice device = -1;
    d->check(d->cuDeviceGet(&device, 0), "cuDeviceGet");
    int major = 0, minor = 0;
    d->check(d->cuDeviceGetAttribute(&major, ptxsmith::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "attr");
    d->check(d->cuDeviceGetAttribute(&minor, ptxsmith::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "attr");
    CHECK(major * 10 + minor == 86);

    ptxsmith::CUdeviceptr p = 0;
    d->check(d->cuMemAlloc(&p, 16), "cuMemAlloc", "16 bytes");
    const std::vector<unsigned char> in{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    std::vector<unsigned char> out(16);
    d->check(d->cuMemcpyHtoD(p, in.data(), in.size()), "cuMemcpyHtoD");
    d->check(d->cuMemsetD8(p + 4, 0xAB, 8), "cuMemsetD8");
    d->check(d->cuMemcpyDtoH(out.data(), p, out.size()), "cuMemcpyDtoH");
    d->check(d->cuMemFree(p), "cuMemFree");
    CHECK(out == std::vector<unsigned char>{1, 2, 3, 4, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 13, 14, 15, 16});

    // Eleven arguments, the longest signature of the table: dimensions past 1024 threads are refused.
    CHECK(d->cuLaunchKernel(nullptr, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, nullptr) == ptxsmith::CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("a failed call becomes a CudaError with the call, the result's name and string, and the context") {
    ScopedEnv env("FAKE_CUDA_MODE", "fail_alloc");
    std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA);
    ptxsmith::CUdeviceptr p = 0;
    try {
        d->check(d->cuMemAlloc(&p, 1 << 20), "cuMemAlloc", "1048576 bytes for the weights");
        FAIL("no CudaError");
    } catch (const CudaError& e) {
        CHECK(e.call() == "cuMemAlloc");
        CHECK(e.result() == ptxsmith::CUDA_ERROR_OUT_OF_MEMORY);
        CHECK(e.result_name() == "CUDA_ERROR_OUT_OF_MEMORY");
        CHECK(e.result_string() == "out of memory");
        CHECK(std::string(e.what()) ==
              "cuMemAlloc failed (1048576 bytes for the weights): CUDA_ERROR_OUT_OF_MEMORY: out of memory");
    }
    CHECK_NOTHROW(d->check(ptxsmith::CUDA_SUCCESS, "cuCtxSynchronize"));
}

TEST_CASE("results the driver cannot name are named from our table, or by number") {
    ScopedEnv env("FAKE_CUDA_MODE", "ok");
    std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA);
    // The fake's cuGetErrorName knows a handful of results, as a driver older than a result would.
    CHECK(d->result_name(ptxsmith::CUDA_ERROR_LAUNCH_FAILED) == "CUDA_ERROR_LAUNCH_FAILED");
    CHECK(d->result_string(ptxsmith::CUDA_ERROR_LAUNCH_FAILED).empty());
    CHECK(d->result_name(static_cast<ptxsmith::CUresult>(12345)) == "CUDA error 12345");
    try {
        d->fail(ptxsmith::CUDA_ERROR_LAUNCH_FAILED, "cuLaunchKernel");
    } catch (const CudaError& e) {
        CHECK(std::string(e.what()) == "cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED");
    }
}

TEST_CASE("optional entry points the driver lacks stay null; has() says so and rejects unknown names") {
    ScopedEnv env("FAKE_CUDA_MODE", "missing_optional");
    std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA);
    CHECK_FALSE(static_cast<bool>(d->cuGraphExecUpdate));
    CHECK_FALSE(d->has("cuGraphExecUpdate"));
    CHECK_FALSE(d->has("cuMemAllocHost"));
    CHECK(d->has("cuLaunchKernel"));
    CHECK(d->has("cuMemFreeHost"));
    CHECK_THROWS_WITH_AS(d->has("cuNoSuchEntryPoint"), doctest::Contains("no entry point of that name"), ptxsmith::Error);
}

TEST_CASE("a driver older than CUDA 12.0 is refused, naming both versions") {
    ScopedEnv env("FAKE_CUDA_MODE", "old_version");
    const std::string message = load_error(FAKE_LIBCUDA);
    CHECK(contains(message, "supports CUDA 11.8 (version 11080)"));
    CHECK(contains(message, "needs a driver for CUDA 12.0 or newer"));
    CHECK(contains(message, "update the NVIDIA driver"));
    CHECK(contains(message, "the CPU interpreter device works without a GPU"));
}

TEST_CASE("a driver without required entry points is refused, listing them all") {
    ScopedEnv env("FAKE_CUDA_MODE", "missing_symbol");
    const std::string message = load_error(FAKE_LIBCUDA);
    CHECK(contains(message, std::string("The CUDA driver at ") + FAKE_LIBCUDA + " (CUDA 12.4) lacks entry points"));
    CHECK(contains(message, "cuMemAlloc (not found)"));
    CHECK(contains(message, "cuLaunchKernel (not found)"));
    CHECK_FALSE(contains(message, "cuGraphExecUpdate"));  // optional: its absence is no reason to refuse
    CHECK(contains(message, "Update the NVIDIA driver"));
}

TEST_CASE("a driver with only the CUDA 11.3 cuGetProcAddress still loads, and still reports what it lacks") {
    {
        ScopedEnv env("FAKE_CUDA_MODE", "ok");
        std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA_V1);
        CHECK(d->has("cuLaunchKernel"));
        CHECK(d->device_count() == 1);
    }
    ScopedEnv env("FAKE_CUDA_MODE", "missing_symbol");
    const std::string message = load_error(FAKE_LIBCUDA_V1);
    CHECK(contains(message, "cuLaunchKernel (not found: CUDA_ERROR_NOT_FOUND)"));
}

TEST_CASE("cuInit failing is a CudaError that says what to check") {
    SUBCASE("a driver that cannot start") {
        const std::optional<CudaError> e = load_cuda_error("init_fails");
        REQUIRE(e);
        CHECK(e->call() == "cuInit");
        CHECK(e->result() == ptxsmith::CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
        CHECK(e->result_name() == "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH");
        const std::string message = e->what();
        CHECK(contains(message, std::string("cuInit failed (initialising the CUDA driver at ") + FAKE_LIBCUDA + ")"));
        CHECK(contains(message, "NVIDIA kernel module"));
        CHECK(contains(message, "the CPU interpreter device works without a GPU"));
    }
    SUBCASE("no GPU") {
        const std::optional<CudaError> e = load_cuda_error("no_device");
        REQUIRE(e);
        CHECK(e->result() == ptxsmith::CUDA_ERROR_NO_DEVICE);
        const std::string message = e->what();
        CHECK(contains(message, "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected"));
        CHECK(contains(message, "No CUDA GPU is visible"));
        CHECK(contains(message, "CUDA_VISIBLE_DEVICES"));
    }
}

TEST_CASE("a driver that initialises but counts no GPU loads with device_count() == 0") {
    ScopedEnv env("FAKE_CUDA_MODE", "zero_devices");
    std::unique_ptr<Driver> d = Driver::load(FAKE_LIBCUDA);
    CHECK(d->device_count() == 0);
}

TEST_CASE("no driver library: the message names every path tried and says a GPU driver is needed") {
    SUBCASE("one path") {
        const std::string message = load_error("/nonexistent/libcuda.so.1");
        CHECK(contains(message, "No CUDA driver found: could not load /nonexistent/libcuda.so.1 ("));
        CHECK(contains(message, "cannot open shared object file"));
        CHECK(contains(message, "needs the NVIDIA driver installed"));
        CHECK(contains(message, "the CPU interpreter device works without a GPU"));
    }
    SUBCASE("the default list") {
        try {
            Driver::load_first_of({"/nonexistent/a/libcuda.so.1", "/nonexistent/b/libcuda.so"});
            FAIL("loaded");
        } catch (const ptxsmith::Error& e) {
            CHECK(contains(e.what(), "could not load /nonexistent/a/libcuda.so.1 and /nonexistent/b/libcuda.so ("));
        }
    }
    SUBCASE("the path in PTXSMITH_LIBCUDA") {
        ScopedEnv env("PTXSMITH_LIBCUDA", "/nonexistent/from-env/libcuda.so");
        try {
            Driver::load_first_of(Driver::default_library_paths());
            FAIL("loaded");
        } catch (const ptxsmith::Error& e) {
            CHECK(contains(e.what(), "/nonexistent/from-env/libcuda.so, the path set in PTXSMITH_LIBCUDA,"));
        }
    }
}

TEST_CASE("a library that is no CUDA driver is refused, not called") {
    const std::string message = load_error("libm.so.6");
    CHECK(contains(message, "The library at libm.so.6 is not a CUDA driver ptxsmith can use: it has no cuGetProcAddress"));
    CHECK(contains(message, "needs a driver for CUDA 12.0 or newer"));
}

TEST_CASE("the default library paths: PTXSMITH_LIBCUDA alone when set, else libcuda.so.1 then libcuda.so") {
    {
        ScopedEnv env("PTXSMITH_LIBCUDA", std::nullopt);
        CHECK(Driver::default_library_paths() == std::vector<std::string>{"libcuda.so.1", "libcuda.so"});
    }
    {
        ScopedEnv env("PTXSMITH_LIBCUDA", "");
        CHECK(Driver::default_library_paths() == std::vector<std::string>{"libcuda.so.1", "libcuda.so"});
    }
    ScopedEnv env("PTXSMITH_LIBCUDA", "/opt/x/libcuda.so.1");
    CHECK(Driver::default_library_paths() == std::vector<std::string>{"/opt/x/libcuda.so.1"});
}

// Depends on the machine and on PTXSMITH_LIBCUDA, so ctest also runs it alone with the variable
// pointing at the fake driver and at a missing file (tests/CMakeLists.txt).
TEST_CASE("default driver: get() and available() agree, and neither crashes") {
    const bool available = Driver::available();
    const std::string reason = Driver::unavailable_reason();
    CHECK(available == reason.empty());
    CHECK(reason.find('\n') == std::string::npos);
    bool threw = false;
    try {
        Driver::get();
    } catch (const ptxsmith::Error& e) {
        threw = true;
        CHECK(reason == e.what());  // get() rethrows the one remembered failure
    }
    if (available) CHECK_FALSE(threw);

    const char* env = std::getenv("PTXSMITH_LIBCUDA");
    if (env && std::strcmp(env, FAKE_LIBCUDA) == 0) {
        CHECK(available);
        CHECK(&Driver::get() == &Driver::get());
        CHECK(Driver::get().library_path() == FAKE_LIBCUDA);
    } else if (env && *env && ::access(env, F_OK) != 0) {
        CHECK_FALSE(available);
        CHECK(contains(reason, std::string(env) + ", the path set in PTXSMITH_LIBCUDA,"));
    } else if (!available) {
        MESSAGE("no usable CUDA driver here: ", reason);
    }
}
