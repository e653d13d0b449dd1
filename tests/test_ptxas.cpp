// ptxas validates every registered kernel, at its defaults and at its test shapes, for every
// architecture the project supports. Without ptxas the test exits with code 77, which ctest
// counts as skipped (tests/CMakeLists.txt sets SKIP_RETURN_CODE).
#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/registry.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/ptxas.hpp"

namespace {

struct Job {
    std::string kernel;
    std::string ptx;
    ptxgen::Target target;
};

}  // namespace

int main() {
    std::optional<std::string> ptxas = ptxgen::find_ptxas();
    if (!ptxas) {
        fmt::print("SKIPPED: ptxas not found (install the CUDA toolkit or set PTXAS)\n");
        return 77;
    }

    std::vector<Job> jobs;
    for (const kernels::Family& f : kernels::registry()) {
        std::vector<kernels::ParamValues> shapes{kernels::ParamValues{}};
        shapes.insert(shapes.end(), f.info.test_shapes.begin(), f.info.test_shapes.end());
        for (const kernels::ParamValues& shape : shapes) {
            auto inst = kernels::instantiate(f, shape);
            for (const ptxgen::Target& t : ptxgen::kValidationTargets) {
                jobs.push_back({inst->name(), ptxgen::print_ptx(inst->build(t)), t});
            }
        }
    }

    std::atomic<size_t> next{0};
    std::atomic<size_t> failed{0};
    std::mutex print_mutex;
    auto worker = [&] {
        for (size_t i; (i = next++) < jobs.size();) {
            const Job& j = jobs[i];
            ptxgen::PtxasResult r = ptxgen::run_ptxas(*ptxas, j.ptx, j.target, false);
            if (r.ok) continue;
            ++failed;
            std::lock_guard lock(print_mutex);
            fmt::print("FAIL {} for {}:\n{}\n", j.kernel, j.target.str(), r.log);
            for (const auto& line : ptxgen::pointed_lines(r.log, j.ptx)) fmt::print("  line {}: {}\n", line.line, line.text);
        }
    };
    std::vector<std::thread> threads;
    unsigned n = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned t = 0; t < n; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();

    const size_t kernels_count = jobs.size() / ptxgen::kValidationTargets.size();
    fmt::print("ptxas ({}) validated {} kernel x target pairs ({} kernel shapes x {} targets): {} passed, {} failed\n",
               *ptxas, jobs.size(), kernels_count, ptxgen::kValidationTargets.size(), jobs.size() - failed, failed.load());
    return failed == 0 && !jobs.empty() ? 0 : 1;
}
