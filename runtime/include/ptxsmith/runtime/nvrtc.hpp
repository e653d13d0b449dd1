// NVRTC, NVIDIA's run-time CUDA C++ compiler, loaded with dlopen the first time it is used (the
// runtime itself never needs it: it is for comparing our kernels with CUDA C++ ones, and for
// users who bring their own CUDA source).
//
// Where the library comes from: $PTXSMITH_LIBNVRTC when set and not empty (that path only, no
// fallback), otherwise libnvrtc.so.13, libnvrtc.so.12 and libnvrtc.so on the loader's search path,
// then the same names in /usr/local/cuda/lib64, where the toolkit installs by default.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace ptxsmith {

namespace detail {
class SharedLibrary;
}

class Nvrtc {
public:
    // The process's NVRTC, loaded on first use from the default paths; thread-safe. A failure is
    // remembered, and every call rethrows the same Error naming the paths tried.
    static const Nvrtc& get();
    // A fresh, separately loaded NVRTC (for tests; get() caches one of these).
    static std::unique_ptr<Nvrtc> load(const std::string& path);
    static std::unique_ptr<Nvrtc> load_first_of(const std::vector<std::string>& paths);
    static std::vector<std::string> default_library_paths();

    Nvrtc(const Nvrtc&) = delete;
    Nvrtc& operator=(const Nvrtc&) = delete;
    ~Nvrtc();

    // Compiles CUDA C++ `source` to PTX text. `name` is the program's file name in NVRTC's
    // messages ("axpy.cu"); `options` are NVRTC's (--gpu-architecture=compute_80, -default-device,
    // ...). Throws Error with NVRTC's log when compilation fails. Safe to call from several threads.
    std::string compile(const std::string& source, const std::string& name,
                        const std::vector<std::string>& options) const;

    int version() const noexcept { return version_; }  // as CUDA numbers them: 13000 is 13.0
    const std::string& library_path() const noexcept;

private:
    struct Api;
    explicit Nvrtc(detail::SharedLibrary library);

    std::unique_ptr<detail::SharedLibrary> library_;
    std::unique_ptr<Api> api_;
    int version_ = 0;
};

// Nvrtc::get().compile(source, name, options).
std::string compile_cuda_to_ptx(const std::string& source, const std::string& name,
                                const std::vector<std::string>& options);

}  // namespace ptxsmith
