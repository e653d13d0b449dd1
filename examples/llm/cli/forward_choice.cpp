#include "cli/forward_choice.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <cstdio>

#include "model/cpu_forward.hpp"
#include "ptxgen/error.hpp"

namespace llm::cli {

namespace {

using Clock = std::chrono::steady_clock;

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

ForwardChoice kernel_forward(std::unique_ptr<ptxsmith::runtime::Device> dev, const model::Weights& weights,
                             const ForwardSettings& s, const std::string& why) {
    ForwardChoice c;
    const ptxsmith::runtime::DeviceInfo& info = dev->info();
    engine::KernelForwardOptions options;
    options.ctx = s.ctx;
    options.max_chunk = s.max_chunk;
    options.graph = s.graph;
    const auto start = Clock::now();
    auto last = start;
    bool shown = false;
    const engine::UploadProgress progress = [&](uint64_t done, uint64_t total) {
        const auto now = Clock::now();
        if (s.quiet || (done < total && now - last < std::chrono::milliseconds(250))) return;
        if (done < total && now - start < std::chrono::milliseconds(500)) return;
        last = now;
        shown = true;
        fmt::print(stderr, "\ruploading weights: {:3.0f}% of {:.0f} MiB", 100.0 * static_cast<double>(done) / static_cast<double>(total),
                   mib(total));
        std::fflush(stderr);
    };
    auto forward = std::make_unique<engine::KernelForward>(*dev, weights, options, progress);
    if (shown) fmt::print(stderr, "\n");
    const engine::MemoryUse m = forward->memory();
    if (!s.quiet) {
        fmt::print(stderr, "device memory: {:.1f} MiB (weights {:.1f}, KV cache {:.1f}, activations {:.1f})\n", mib(m.total()),
                   mib(m.weights), mib(m.kv_cache), mib(m.activations));
        fmt::print(stderr, "kernels: {} generated in {:.3f} s, compiled or loaded in {:.3f} s\n", forward->kernels().size(),
                   forward->kernels().generate_seconds(), forward->kernels().jit_seconds());
    }
    c.described = fmt::format("{} ({}, sm_{}{}){}", info.kind, info.name, info.cc_major, info.cc_minor, why);
    c.kernels = forward.get();
    c.forward = std::move(forward);
    c.device = std::move(dev);
    return c;
}

}  // namespace

uint64_t parameter_count(const model::Weights& weights) {
    uint64_t n = 0;
    for (const model::TensorView* t : weights.all()) n += static_cast<uint64_t>(t->cols * t->rows);
    return n;
}

ForwardChoice make_forward(const model::Weights& weights, const ForwardSettings& s) {
    using ptxsmith::runtime::DeviceKind;
    if (s.device == "cpu") {
        ForwardChoice c;
        auto f = std::make_unique<model::CpuForward>(weights, s.ctx, s.threads);
        c.described = fmt::format("cpu (f32 reference, {} threads)", f->threads());
        c.forward = std::move(f);
        return c;
    }
    if (s.device == "cuda") return kernel_forward(ptxsmith::runtime::open_device(DeviceKind::cuda), weights, s, "");
    if (s.device == "interp") return kernel_forward(ptxsmith::runtime::open_interp_device(), weights, s, "");
    if (s.device != "auto") throw ptxsmith::Error(fmt::format("device '{}' has no forward pass", s.device));

    // A model the kernels cannot run goes to the reference, whatever the hardware.
    if (const std::optional<std::string> why = engine::unsupported_reason(weights)) {
        ForwardSettings cpu = s;
        cpu.device = "cpu";
        ForwardChoice c = make_forward(weights, cpu);
        c.described += fmt::format("; auto: the generated kernels cannot run this model ({})", *why);
        return c;
    }
    std::string no_gpu;
    std::unique_ptr<ptxsmith::runtime::Device> gpu;
    try {
        gpu = ptxsmith::runtime::open_device(DeviceKind::cuda);
    } catch (const ptxsmith::Error& e) {
        no_gpu = e.what();
        no_gpu = no_gpu.substr(0, no_gpu.find(':'));  // the headline: "No CUDA driver found", ...
    }
    if (gpu) return kernel_forward(std::move(gpu), weights, s, "; auto found a GPU");
    const uint64_t params = parameter_count(weights);
    if (params <= kInterpMaxParams) {
        return kernel_forward(ptxsmith::runtime::open_interp_device(), weights, s,
                              fmt::format("; auto: no GPU ({}), and {:.1f}M parameters are few enough for the interpreter",
                                          no_gpu, static_cast<double>(params) / 1e6));
    }
    ForwardSettings cpu = s;
    cpu.device = "cpu";
    ForwardChoice c = make_forward(weights, cpu);
    c.described += fmt::format("; auto: no GPU ({}), and {:.0f}M parameters are too many for the interpreter", no_gpu,
                               static_cast<double>(params) / 1e6);
    return c;
}

}  // namespace llm::cli
