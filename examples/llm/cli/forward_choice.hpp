// The one place that turns --device into a forward pass, for every command that runs a model.
//   cpu     the f32 reference (model::CpuForward) on CPU threads
//   cuda    the generated kernels on the first GPU
//   interp  the generated kernels on the CPU interpreter (exactly the kernels a GPU would run)
//   auto    cpu for a model the kernels cannot run (engine::unsupported_reason); else cuda when
//           a GPU is there; else interp for models up to kInterpMaxParams parameters (the
//           interpreter is a checking tool, not a fast one), else cpu
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/kernel_forward.hpp"
#include "model/forward.hpp"
#include "model/weights.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace llm::cli {

inline constexpr const char* kDevices[] = {"auto", "cuda", "interp", "cpu"};
inline constexpr uint64_t kInterpMaxParams = 8'000'000;

struct ForwardSettings {
    std::string device = "auto";
    int ctx = 0;
    unsigned threads = 0;    // cpu: worker threads (0: all)
    int max_chunk = 512;     // cuda and interp: prefill rows per pass
    bool graph = true;       // cuda and interp: replay the decode step as a graph
    bool quiet = false;      // no progress or memory lines on stderr
};

struct ForwardChoice {
    std::unique_ptr<ptxsmith::runtime::Device> device;   // null for cpu; outlives `forward`
    std::unique_ptr<model::Forward> forward;
    engine::KernelForward* kernels = nullptr;             // forward, when it runs kernels
    std::string described;                                // "cuda (NVIDIA H100 ...)", with why auto chose it

    ForwardChoice() = default;
    ForwardChoice(ForwardChoice&& o) noexcept
        : device(std::move(o.device)), forward(std::move(o.forward)), kernels(o.kernels), described(std::move(o.described)) {
        o.kernels = nullptr;
    }
    // The forward goes before its device, whatever the member order would do.
    ForwardChoice& operator=(ForwardChoice&& o) noexcept {
        forward.reset();
        device = std::move(o.device);
        forward = std::move(o.forward);
        kernels = o.kernels;
        o.kernels = nullptr;
        described = std::move(o.described);
        return *this;
    }
    ~ForwardChoice() { forward.reset(); }
};

// Throws ptxsmith::Error when the device cannot be opened or cannot run the model.
ForwardChoice make_forward(const model::Weights& weights, const ForwardSettings& settings);

// Parameters (elements of every tensor) of a model.
uint64_t parameter_count(const model::Weights& weights);

}  // namespace llm::cli
