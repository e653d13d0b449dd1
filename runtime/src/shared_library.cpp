#include "shared_library.hpp"

#include <dlfcn.h>

#include <utility>

namespace ptxsmith::detail {

std::optional<SharedLibrary> SharedLibrary::open_first(const std::vector<std::string>& paths, std::string& failures) {
    failures.clear();
    for (const std::string& path : paths) {
        // RTLD_LOCAL: the library's symbols stay out of the global namespace, so a second copy
        // (a test's fake driver next to a real one) cannot capture the other's lookups.
        if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return SharedLibrary(handle, path);
        const char* error = ::dlerror();
        if (!failures.empty()) failures += "; ";
        failures += error ? error : path + ": dlopen failed";
    }
    return std::nullopt;
}

SharedLibrary::SharedLibrary(SharedLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), path_(std::move(other.path_)) {}

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
    if (this != &other) {
        if (handle_) ::dlclose(handle_);
        handle_ = std::exchange(other.handle_, nullptr);
        path_ = std::move(other.path_);
    }
    return *this;
}

SharedLibrary::~SharedLibrary() {
    if (handle_) ::dlclose(handle_);
}

void* SharedLibrary::symbol(const char* name) const noexcept {
    return handle_ ? ::dlsym(handle_, name) : nullptr;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
        out += names[i];
    }
    return out;
}

}  // namespace ptxsmith::detail
