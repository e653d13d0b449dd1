// A shared library opened with dlopen, for the loaders of the CUDA driver and NVRTC: both try a
// list of names in order and must report every attempt when none loads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptxsmith::detail {

class SharedLibrary {
public:
    // The first of `paths` that dlopen accepts (RTLD_NOW | RTLD_LOCAL). When none does, nullopt,
    // and `failures` holds dlerror's message for each attempt, joined with "; ".
    static std::optional<SharedLibrary> open_first(const std::vector<std::string>& paths, std::string& failures);

    SharedLibrary(SharedLibrary&& other) noexcept;
    SharedLibrary& operator=(SharedLibrary&& other) noexcept;
    SharedLibrary(const SharedLibrary&) = delete;
    SharedLibrary& operator=(const SharedLibrary&) = delete;
    ~SharedLibrary();  // dlclose

    // dlsym; nullptr when the library has no such symbol.
    void* symbol(const char* name) const noexcept;
    // The path as it was given to dlopen (a bare name was found on the loader's search path).
    const std::string& path() const noexcept { return path_; }

private:
    SharedLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
    void* handle_ = nullptr;
    std::string path_;
};

// "a, b and c": how messages list the paths that were tried.
std::string join_names(const std::vector<std::string>& names);

}  // namespace ptxsmith::detail
