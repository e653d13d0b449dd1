// The CUDA driver (libcuda), opened with dlopen at run time so that building ptxsmith needs no
// CUDA toolkit. Only cuGetProcAddress comes from dlsym; every other entry point of
// cuda_symbols.def is asked of it at one pinned API version, so the signatures we declare are the
// ones the driver hands out, whichever newer driver is installed.
//
//   Driver& d = Driver::get();
//   CUdeviceptr p = 0;
//   d.check(d.cuMemAlloc(&p, bytes), "cuMemAlloc", "the weights");
//
// Where the library comes from: $PTXSMITH_LIBCUDA when set and not empty (that path only, with no
// fallback, so that a wrong value is reported rather than quietly replaced; the tests point it at
// a fake driver), otherwise libcuda.so.1 and then libcuda.so on the loader's search path.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptxsmith/runtime/cuda_types.hpp"

namespace ptxsmith {

namespace detail {
class SharedLibrary;
}

class Driver {
public:
    // The API version every entry point is resolved at: CUDA 12.0. A driver older than this is
    // refused with a message that says so; a newer one still hands out the 12.0 signatures.
    static constexpr int kApiVersion = 12000;

    // The process's driver, loaded and initialised (cuInit) on first use, from the default paths;
    // thread-safe. A failure is remembered: every call rethrows the same Error (a CudaError when a
    // driver call failed) with a sentence a user can act on.
    static Driver& get();

    // Whether get() succeeds and sees at least one device. Never throws. When false,
    // unavailable_reason() says why in one line (for "no GPU: using the interpreter device").
    static bool available() noexcept;
    static const std::string& unavailable_reason() noexcept;

    // A fresh, separately loaded driver (tests use these to load fakes; get() caches one of them).
    static std::unique_ptr<Driver> load(const std::string& path);
    static std::unique_ptr<Driver> load_first_of(const std::vector<std::string>& paths);
    // $PTXSMITH_LIBCUDA alone when set, otherwise {"libcuda.so.1", "libcuda.so"}.
    static std::vector<std::string> default_library_paths();

    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;
    ~Driver();  // closes the library (get()'s driver is never destroyed: see driver.cpp)

    // Throws CudaError naming `call`, the result's name and string, and `context` (what was being
    // done, with which values) unless `result` is CUDA_SUCCESS.
    void check(CUresult result, const char* call, std::string_view context = {}) const {
        if (result != CUDA_SUCCESS) fail(result, call, context);
    }
    [[noreturn]] void fail(CUresult result, const char* call, std::string_view context = {}) const;

    // "CUDA_ERROR_OUT_OF_MEMORY" and "out of memory": the driver's words when it has them, else
    // the enumerator's name from cuda_types.hpp (or "CUDA error <n>") and an empty string.
    std::string result_name(CUresult result) const;
    std::string result_string(CUresult result) const;

    // Whether the driver provided `symbol`, a name from cuda_symbols.def. Required symbols are
    // always there; optional ones may be null. A name not in the table throws Error.
    bool has(std::string_view symbol) const;

    int version() const noexcept { return version_; }             // cuDriverGetVersion: 12040 is 12.4
    int device_count() const noexcept { return device_count_; }   // cuDeviceGetCount after cuInit
    const std::string& library_path() const noexcept;             // as given to dlopen

    // The entry points, named after the symbols: d.cuMemAlloc(&ptr, bytes).
#define PTXSMITH_CUDA_SYMBOL(name, need, abi, ret, params) ret(*name) params = nullptr;
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL

private:
    explicit Driver(detail::SharedLibrary library);
    void* proc_address(const char* symbol, int api_version, std::string* why_missing) const;
    void resolve_entry_points();
    void initialise();

    std::unique_ptr<detail::SharedLibrary> library_;
    CuGetProcAddressV2 get_proc_v2_ = nullptr;
    CuGetProcAddressV1 get_proc_v1_ = nullptr;
    int version_ = 0;
    int device_count_ = 0;
};

// 12040 -> "12.4": a CUDA version number as people write it.
std::string cuda_version_string(int version);

}  // namespace ptxsmith
