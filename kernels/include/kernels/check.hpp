// Runs a kernel instance on fresh random inputs and compares its outputs with the family's CPU
// reference: the one check behind `ptxgen run`, the interpreter tests and (later) the GPU tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/family.hpp"
#include "ptxgen/interp.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace kernels {

// Inputs and outputs on the host, filled from a seed: inputs random, outputs poisoned (all bits
// set, a NaN for floats) so that an element the kernel never writes cannot match the reference.
std::vector<HostBuffer> make_host_args(const KernelInstance& k, uint64_t seed);

struct Comparison {
    double max_abs_error = 0;   // largest |got - want| over every output element
    double max_rel_error = 0;   // max_abs_error over the largest |want| of that output
    double tolerance = 0;
    bool pass = false;
    size_t elements = 0;
    std::string worst;          // where the largest error is: "y[17]: got 0.5, want 0.25"
};

// Compares the outputs (Role::output and Role::inout) of `got` with `want`.
Comparison compare_outputs(const std::vector<HostBuffer>& got, const std::vector<HostBuffer>& want, double tolerance);

struct CheckResult {
    Comparison comparison;
    double seconds = 0;         // from the launch to the end of the kernel (first launch: with JIT)
    std::string device;         // the device's name
    uint64_t thread_instructions = 0;  // executed (the interpreter counts them; 0 elsewhere)
};

// Builds the kernel for the device's architecture, runs it with random inputs from `seed` and
// compares with the reference. Device faults (the interpreter's out-of-bounds and barrier
// checks, CUDA errors) throw ptxsmith::Error.
// `target` overrides the architecture the kernel is built for (default: the device's).
CheckResult check_on_device(ptxsmith::runtime::Device& dev, const KernelInstance& k, uint64_t seed,
                            std::optional<ptxgen::Target> target = std::nullopt);

// check_on_device on a fresh interpreter device with these options.
CheckResult check_on_interpreter(const KernelInstance& k, uint64_t seed, const ptxgen::interp::Options& options = {},
                                 std::optional<ptxgen::Target> target = std::nullopt);

}  // namespace kernels
