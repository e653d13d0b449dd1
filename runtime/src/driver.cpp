// Loading the CUDA driver: dlopen, then cuGetProcAddress for everything else at the pinned API
// version. Every way this can fail ends in an Error that says what to do, never in a crash.
#include "ptxsmith/runtime/driver.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <optional>
#include <utility>

#include "ptxsmith/runtime/errors.hpp"
#include "shared_library.hpp"

namespace ptxsmith {

namespace {

// Every message about a driver that cannot be used ends with this: only the GPU devices need one.
constexpr const char* kInterpreterNote = "the CPU interpreter device works without a GPU";

enum class SymbolNeed { required, optional };

std::string enumerator_name(CUresult result) {
    switch (result) {
#define PTXSMITH_CU_RESULT_CASE(name, value) \
    case name: return #name;
        PTXSMITH_CU_RESULT_VALUES(PTXSMITH_CU_RESULT_CASE)
#undef PTXSMITH_CU_RESULT_CASE
    }
    return fmt::format("CUDA error {}", static_cast<int>(result));
}

// What to do about a failed cuInit, which is where a driver without a usable GPU shows itself.
std::string cu_init_hint(CUresult result, const std::string& path) {
    switch (result) {
        case CUDA_ERROR_NO_DEVICE:
            return fmt::format("No CUDA GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES); {}", kInterpreterNote);
        case CUDA_ERROR_STUB_LIBRARY:
            return fmt::format("{} is the CUDA toolkit's stub library, not the driver: install the NVIDIA driver, "
                               "or take the toolkit's stubs directory out of LD_LIBRARY_PATH; {}",
                               path, kInterpreterNote);
        default:
            return fmt::format("The driver library loaded but cannot start: check that the NVIDIA kernel module is "
                               "loaded and matches the driver library (nvidia-smi reports both); {}",
                               kInterpreterNote);
    }
}

// get()'s driver, loaded once. It is never destroyed: objects with static storage elsewhere (a
// module cache, a device) may still call the driver while the program exits, and unloading
// libcuda at exit is not safe.
struct DefaultDriver {
    Driver* driver = nullptr;
    std::exception_ptr error;
    std::string reason;  // one line; empty when available
};

std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return text;
}

const DefaultDriver& default_driver() {
    static const DefaultDriver state = [] {
        DefaultDriver s;
        try {
            s.driver = Driver::load_first_of(Driver::default_library_paths()).release();
            if (s.driver->device_count() == 0) {
                s.reason = fmt::format("The CUDA driver at {} (CUDA {}) reports no GPU; {}", s.driver->library_path(),
                                       cuda_version_string(s.driver->version()), kInterpreterNote);
            }
        } catch (const std::exception& e) {
            s.error = std::current_exception();
            s.reason = one_line(e.what());
        } catch (...) {
            s.error = std::current_exception();
            s.reason = "loading the CUDA driver failed with an unknown exception";
        }
        return s;
    }();
    return state;
}

}  // namespace

std::string cuda_version_string(int version) {
    return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

Driver& Driver::get() {
    const DefaultDriver& state = default_driver();
    if (!state.driver) std::rethrow_exception(state.error);
    return *state.driver;
}

bool Driver::available() noexcept {
    const DefaultDriver& state = default_driver();
    return state.driver && state.driver->device_count() > 0;
}

const std::string& Driver::unavailable_reason() noexcept {
    return default_driver().reason;
}

std::vector<std::string> Driver::default_library_paths() {
    if (const char* env = std::getenv("PTXSMITH_LIBCUDA"); env && *env) return {env};
    return {"libcuda.so.1", "libcuda.so"};
}

std::unique_ptr<Driver> Driver::load(const std::string& path) {
    return load_first_of({path});
}

std::unique_ptr<Driver> Driver::load_first_of(const std::vector<std::string>& paths) {
    std::string failures;
    std::optional<detail::SharedLibrary> library = detail::SharedLibrary::open_first(paths, failures);
    if (!library) {
        const char* env = std::getenv("PTXSMITH_LIBCUDA");
        const bool from_env = env && *env && paths.size() == 1 && paths[0] == env;
        throw Error(fmt::format("No CUDA driver found: could not load {}{} ({}). Running kernels on a GPU needs "
                                "the NVIDIA driver installed; {}",
                                detail::join_names(paths), from_env ? ", the path set in PTXSMITH_LIBCUDA," : "",
                                failures, kInterpreterNote));
    }
    std::unique_ptr<Driver> driver(new Driver(std::move(*library)));
    driver->resolve_entry_points();
    driver->initialise();
    return driver;
}

Driver::Driver(detail::SharedLibrary library)
    : library_(std::make_unique<detail::SharedLibrary>(std::move(library))) {}

Driver::~Driver() = default;

const std::string& Driver::library_path() const noexcept {
    return library_->path();
}

void* Driver::proc_address(const char* symbol, int api_version, std::string* why_missing) const {
    void* fn = nullptr;
    if (get_proc_v2_) {
        CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
        const CUresult r = get_proc_v2_(symbol, &fn, api_version, CU_GET_PROC_ADDRESS_DEFAULT, &status);
        if (r == CUDA_SUCCESS && status == CU_GET_PROC_ADDRESS_SUCCESS && fn) return fn;
        if (status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT) {
            *why_missing = fmt::format("not at API version {}", cuda_version_string(api_version));
        } else if (r != CUDA_SUCCESS && status == CU_GET_PROC_ADDRESS_SUCCESS) {
            *why_missing = fmt::format("cuGetProcAddress returned {}", result_name(r));
        } else {
            *why_missing = "not found";
        }
    } else {
        const CUresult r = get_proc_v1_(symbol, &fn, api_version, CU_GET_PROC_ADDRESS_DEFAULT);
        if (r == CUDA_SUCCESS && fn) return fn;
        *why_missing = r == CUDA_SUCCESS ? "not found" : fmt::format("not found: {}", result_name(r));
    }
    return nullptr;
}

void Driver::resolve_entry_points() {
    const std::string& path = library_->path();
    // cuGetProcAddress_v2 (CUDA 12.0 on) says why a symbol is missing; cuGetProcAddress (11.3 on)
    // is enough for a driver whose version check is still to come.
    get_proc_v2_ = reinterpret_cast<CuGetProcAddressV2>(library_->symbol("cuGetProcAddress_v2"));
    if (!get_proc_v2_) get_proc_v1_ = reinterpret_cast<CuGetProcAddressV1>(library_->symbol("cuGetProcAddress"));
    if (!get_proc_v2_ && !get_proc_v1_) {
        // The one dlsym besides cuGetProcAddress, only to name the installed version: a driver
        // older than CUDA 11.3 still exports cuDriverGetVersion under its own name.
        std::string reports;
        if (auto old_version = reinterpret_cast<CUresult (*)(int*)>(library_->symbol("cuDriverGetVersion"))) {
            int v = 0;
            if (old_version(&v) == CUDA_SUCCESS) reports = fmt::format(" (it reports CUDA {})", cuda_version_string(v));
        }
        throw Error(fmt::format("The library at {} is not a CUDA driver ptxsmith can use: it has no cuGetProcAddress{}, "
                                "which drivers have had since CUDA 11.3, and ptxsmith needs a driver for CUDA {} or "
                                "newer. Install or update the NVIDIA driver; {}",
                                path, reports, cuda_version_string(kApiVersion), kInterpreterNote));
    }

    // The version first, asked for at the version that introduced it (2.2) so that an old driver
    // answers too, and the message can say which driver is installed.
    std::string why;
    auto get_version = reinterpret_cast<CUresult (*)(int*)>(proc_address("cuDriverGetVersion", 2020, &why));
    if (!get_version) {
        throw Error(fmt::format("The library at {} is not a CUDA driver ptxsmith can use: cuGetProcAddress does not "
                                "know cuDriverGetVersion ({}). Reinstall the NVIDIA driver; {}",
                                path, why, kInterpreterNote));
    }
    check(get_version(&version_), "cuDriverGetVersion", fmt::format("asking the driver at {} for its version", path));
    if (version_ < kApiVersion) {
        throw Error(fmt::format("The CUDA driver at {} supports CUDA {} (version {}), but ptxsmith needs a driver for "
                                "CUDA {} or newer: update the NVIDIA driver; {}",
                                path, cuda_version_string(version_), version_, cuda_version_string(kApiVersion),
                                kInterpreterNote));
    }

    std::vector<std::string> missing;
    auto resolve = [&](const char* name, SymbolNeed need) {
        std::string why_missing;
        void* fn = proc_address(name, kApiVersion, &why_missing);
        if (!fn && need == SymbolNeed::required) missing.push_back(fmt::format("{} ({})", name, why_missing));
        return fn;
    };
#define PTXSMITH_CUDA_SYMBOL(name, need, abi, ret, params) \
    name = reinterpret_cast<decltype(name)>(resolve(#name, SymbolNeed::need));
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL
    if (!missing.empty()) {
        throw Error(fmt::format("The CUDA driver at {} (CUDA {}) lacks {} that ptxsmith requires: {}. Update the "
                                "NVIDIA driver, or check that {} is NVIDIA's libcuda; {}",
                                path, cuda_version_string(version_), missing.size() == 1 ? "an entry point" : "entry points",
                                detail::join_names(missing), path, kInterpreterNote));
    }
}

void Driver::initialise() {
    const std::string& path = library_->path();
    if (const CUresult r = cuInit(0); r != CUDA_SUCCESS) {
        throw CudaError("cuInit", r, result_name(r), result_string(r),
                        fmt::format("initialising the CUDA driver at {}", path), cu_init_hint(r, path));
    }
    check(cuDeviceGetCount(&device_count_), "cuDeviceGetCount", fmt::format("counting the GPUs of the driver at {}", path));
}

void Driver::fail(CUresult result, const char* call, std::string_view context) const {
    throw CudaError(call, result, result_name(result), result_string(result), context);
}

std::string Driver::result_name(CUresult result) const {
    const char* name = nullptr;
    if (cuGetErrorName && cuGetErrorName(result, &name) == CUDA_SUCCESS && name) return name;
    return enumerator_name(result);
}

std::string Driver::result_string(CUresult result) const {
    const char* text = nullptr;
    if (cuGetErrorString && cuGetErrorString(result, &text) == CUDA_SUCCESS && text) return text;
    return {};
}

bool Driver::has(std::string_view symbol) const {
#define PTXSMITH_CUDA_SYMBOL(name, need, abi, ret, params) \
    if (symbol == #name) return name != nullptr;
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL
    throw Error(fmt::format("Driver::has(\"{}\"): the driver table (cuda_symbols.def) has no entry point of that name",
                            symbol));
}

}  // namespace ptxsmith
