// The kernels one model needs, generated for the device and compiled together: families are added
// while the passes are planned (an identical kernel added twice is kept once), then compile()
// generates every kernel's IR and has the device JIT them in parallel (from the module cache's
// disk level when it has them), so that no launch waits for a compiler.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/family.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace llm::engine {

struct Launchable {
    std::string name;
    std::shared_ptr<ptxsmith::runtime::PreparedKernel> kernel;  // set by KernelSet::compile
    ptxsmith::runtime::Dims dims;
};

class KernelSet {
public:
    explicit KernelSet(ptxsmith::runtime::Device& dev) : dev_(dev) {}

    // Adds a family at one shape (any struct with name(), build(target) and launch_config())
    // and returns its index; a kernel of the same name returns the index it already has.
    template <class F> size_t add(const F& family) {
        return add(family.name(), family.launch_config(), [family](const ptxgen::Target& t) { return family.build(t); });
    }
    size_t add(const std::string& name, const kernels::LaunchConfig& config,
               std::function<ptxgen::Kernel(const ptxgen::Target&)> build);

    // Generates and compiles every kernel added since the last call. Throws ptxsmith::Error
    // naming the kernel that failed.
    void compile();

    const Launchable& operator[](size_t i) const { return kernels_[i]; }
    size_t size() const { return kernels_.size(); }
    // Seconds the last compile() spent generating IR and in the JIT (or the disk cache).
    double generate_seconds() const { return generate_s_; }
    double jit_seconds() const { return jit_s_; }

private:
    ptxsmith::runtime::Device& dev_;
    std::vector<Launchable> kernels_;
    std::vector<std::function<ptxgen::Kernel(const ptxgen::Target&)>> builders_;
    std::map<std::string, size_t> by_name_;
    size_t compiled_ = 0;
    double generate_s_ = 0, jit_s_ = 0;
};

}  // namespace llm::engine
