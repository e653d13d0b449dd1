// Every registered kernel on the GPU against its CPU reference, at its default (full) shape, its
// test shapes and its GPU-only full-size shapes, on fresh random data with poisoned outputs. Without a usable CUDA driver
// and GPU the test exits with 77, which ctest counts as skipped.
//   gpu_kernel_tests [FAMILY ...]   only the families named (default: every one)
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace ptxsmith::runtime {
bool cuda_device_available(std::string* why_not);
}

int main(int argc, char** argv) {
    const std::vector<std::string> only(argv + 1, argv + argc);
    std::string why;
    if (!ptxsmith::runtime::cuda_device_available(&why)) {
        fmt::print("SKIPPED: no GPU ({})\n", why);
        return 77;
    }
    auto dev = ptxsmith::runtime::open_device(ptxsmith::runtime::DeviceKind::cuda);
    fmt::print("device: {} (sm_{}{}, {} SMs)\n", dev->info().name, dev->info().cc_major, dev->info().cc_minor, dev->info().sm_count);
    std::random_device rd;
    int passed = 0, failed = 0;
    for (const kernels::Family& f : kernels::registry()) {
        if (!only.empty() && std::find(only.begin(), only.end(), f.info.name) == only.end()) continue;
        std::vector<kernels::ParamValues> shapes{kernels::ParamValues{}};
        shapes.insert(shapes.end(), f.info.test_shapes.begin(), f.info.test_shapes.end());
        shapes.insert(shapes.end(), f.info.gpu_shapes.begin(), f.info.gpu_shapes.end());
        for (const kernels::ParamValues& shape : shapes) {
            const uint64_t seed = (uint64_t{rd()} << 32) | rd();
            std::string name = f.info.name;
            try {
                auto inst = kernels::instantiate(f, shape);
                name = inst->name();
                kernels::CheckResult r = kernels::check_on_device(*dev, *inst, seed);
                const auto& c = r.comparison;
                fmt::print("{}  {:<56} seed {:>20}  max rel {:.2e} (tol {:.0e})  {}\n", c.pass ? "PASS" : "FAIL", inst->name(), seed,
                           c.max_rel_error, c.tolerance, c.pass ? "" : c.worst);
                (c.pass ? passed : failed)++;
            } catch (const ptxsmith::Error& e) {
                fmt::print("FAIL  {:<56} seed {:>20}  {}\n", name, seed, e.what());
                ++failed;
            }
        }
    }
    fmt::print("{} passed, {} failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
