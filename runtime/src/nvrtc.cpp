// NVRTC through dlopen and dlsym: a table of nine entry points, loaded on first use.
#include "ptxsmith/runtime/nvrtc.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <optional>
#include <utility>

#include "nvrtc_api.hpp"
#include "ptxgen/error.hpp"
#include "shared_library.hpp"

namespace ptxsmith {

using nvrtc_api::nvrtcProgram;
using nvrtc_api::nvrtcResult;

struct Nvrtc::Api {
#define PTXSMITH_NVRTC_SYMBOL(name, ret, params) ret(*name) params = nullptr;
    PTXSMITH_NVRTC_SYMBOLS(PTXSMITH_NVRTC_SYMBOL)
#undef PTXSMITH_NVRTC_SYMBOL

    std::string error_string(nvrtcResult result) const {
        const char* text = nvrtcGetErrorString(result);
        return text ? text : fmt::format("NVRTC error {}", static_cast<int>(result));
    }

    std::string program_log(nvrtcProgram program) const {
        std::size_t size = 0;
        if (nvrtcGetProgramLogSize(program, &size) != nvrtc_api::NVRTC_SUCCESS || size == 0) return {};
        std::string log(size, '\0');
        if (nvrtcGetProgramLog(program, log.data()) != nvrtc_api::NVRTC_SUCCESS) return {};
        while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
        return log;
    }
};

namespace {

const char* const kInstallHint =
    "Compiling CUDA C++ needs NVRTC from the CUDA toolkit (12 or newer): install it, or set PTXSMITH_LIBNVRTC to "
    "the path of its libnvrtc.so";

struct DefaultNvrtc {
    const Nvrtc* nvrtc = nullptr;  // never destroyed, like the driver: see driver.cpp
    std::exception_ptr error;
};

const DefaultNvrtc& default_nvrtc() {
    static const DefaultNvrtc state = [] {
        DefaultNvrtc s;
        try {
            s.nvrtc = Nvrtc::load_first_of(Nvrtc::default_library_paths()).release();
        } catch (...) {
            s.error = std::current_exception();
        }
        return s;
    }();
    return state;
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

}  // namespace

const Nvrtc& Nvrtc::get() {
    const DefaultNvrtc& state = default_nvrtc();
    if (!state.nvrtc) std::rethrow_exception(state.error);
    return *state.nvrtc;
}

std::vector<std::string> Nvrtc::default_library_paths() {
    if (const char* env = std::getenv("PTXSMITH_LIBNVRTC"); env && *env) return {env};
    std::vector<std::string> paths;
    for (const char* dir : {"", "/usr/local/cuda/lib64/"}) {
        for (const char* name : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) paths.push_back(std::string(dir) + name);
    }
    return paths;
}

std::unique_ptr<Nvrtc> Nvrtc::load(const std::string& path) {
    return load_first_of({path});
}

std::unique_ptr<Nvrtc> Nvrtc::load_first_of(const std::vector<std::string>& paths) {
    std::string failures;
    std::optional<detail::SharedLibrary> library = detail::SharedLibrary::open_first(paths, failures);
    if (!library) {
        throw Error(fmt::format("NVRTC not found: could not load {} ({}). {}", detail::join_names(paths), failures,
                                kInstallHint));
    }
    std::unique_ptr<Nvrtc> nvrtc(new Nvrtc(std::move(*library)));
    Api& api = *nvrtc->api_;
    std::vector<std::string> missing;
#define PTXSMITH_NVRTC_SYMBOL(name, ret, params)                                           \
    api.name = reinterpret_cast<decltype(api.name)>(nvrtc->library_->symbol(#name)); \
    if (!api.name) missing.push_back(#name);
    PTXSMITH_NVRTC_SYMBOLS(PTXSMITH_NVRTC_SYMBOL)
#undef PTXSMITH_NVRTC_SYMBOL
    const std::string& path = nvrtc->library_->path();
    if (!missing.empty()) {
        throw Error(fmt::format("The library at {} is not an NVRTC ptxsmith can use: it lacks {}. {}", path,
                                detail::join_names(missing), kInstallHint));
    }
    int major = 0;
    int minor = 0;
    if (const nvrtcResult r = api.nvrtcVersion(&major, &minor); r != nvrtc_api::NVRTC_SUCCESS) {
        throw Error(fmt::format("nvrtcVersion failed for the NVRTC at {}: {}", path, api.error_string(r)));
    }
    nvrtc->version_ = 1000 * major + 10 * minor;
    return nvrtc;
}

Nvrtc::Nvrtc(detail::SharedLibrary library)
    : library_(std::make_unique<detail::SharedLibrary>(std::move(library))), api_(std::make_unique<Api>()) {}

Nvrtc::~Nvrtc() = default;

const std::string& Nvrtc::library_path() const noexcept {
    return library_->path();
}

std::string Nvrtc::compile(const std::string& source, const std::string& name,
                           const std::vector<std::string>& options) const {
    nvrtcProgram program = nullptr;
    if (const nvrtcResult r = api_->nvrtcCreateProgram(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr);
        r != nvrtc_api::NVRTC_SUCCESS) {
        throw Error(fmt::format("NVRTC could not take the program {}: {}", name, api_->error_string(r)));
    }
    struct ProgramGuard {  // destroys the program however compile() leaves
        const Api* api;
        nvrtcProgram program;
        ~ProgramGuard() { api->nvrtcDestroyProgram(&program); }
    } guard{api_.get(), program};

    std::vector<const char*> argv;
    argv.reserve(options.size());
    for (const std::string& option : options) argv.push_back(option.c_str());
    if (const nvrtcResult r = api_->nvrtcCompileProgram(program, static_cast<int>(argv.size()), argv.data());
        r != nvrtc_api::NVRTC_SUCCESS) {
        const std::string log = api_->program_log(program);
        throw Error(fmt::format("NVRTC {}.{} could not compile {} ({}; options: {}){}{}", version_ / 1000,
                                (version_ % 1000) / 10, name,
                                api_->error_string(r), options.empty() ? "none" : join(options),
                                log.empty() ? "" : ":\n", log));
    }

    std::size_t size = 0;
    std::string ptx;
    nvrtcResult r = api_->nvrtcGetPTXSize(program, &size);
    if (r == nvrtc_api::NVRTC_SUCCESS) {
        ptx.assign(size, '\0');
        r = api_->nvrtcGetPTX(program, ptx.data());
    }
    if (r != nvrtc_api::NVRTC_SUCCESS) {
        throw Error(fmt::format("NVRTC compiled {} but could not return its PTX: {}", name, api_->error_string(r)));
    }
    while (!ptx.empty() && ptx.back() == '\0') ptx.pop_back();  // the size counts the terminating NUL
    return ptx;
}

std::string compile_cuda_to_ptx(const std::string& source, const std::string& name,
                                const std::vector<std::string>& options) {
    return Nvrtc::get().compile(source, name, options);
}

}  // namespace ptxsmith
