#include "engine/kernel_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "ptxgen/error.hpp"

namespace llm::engine {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Runs fn(i) for i in [0, n) on every hardware thread; rethrows the first exception.
void parallel_for(size_t n, const std::function<void(size_t)>& fn) {
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&] {
        for (size_t i; (i = next++) < n;) {
            try {
                fn(i);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace

size_t KernelSet::add(const std::string& name, const kernels::LaunchConfig& config,
                      std::function<ptxgen::Kernel(const ptxgen::Target&)> build) {
    const auto it = by_name_.find(name);
    if (it != by_name_.end()) return it->second;
    Launchable l;
    l.name = name;
    l.dims = {config.grid, config.block, config.shared_bytes};
    kernels_.push_back(std::move(l));
    builders_.push_back(std::move(build));
    by_name_[name] = kernels_.size() - 1;
    return kernels_.size() - 1;
}

void KernelSet::compile() {
    const size_t first = compiled_, n = kernels_.size() - first;
    if (n == 0) return;
    const ptxgen::Target target = dev_.info().target();
    std::vector<ptxgen::Kernel> ir(n);
    auto start = std::chrono::steady_clock::now();
    parallel_for(n, [&](size_t i) {
        try {
            ir[i] = builders_[first + i](target);
        } catch (const std::exception& e) {
            throw ptxsmith::Error(fmt::format("generating {}: {}", kernels_[first + i].name, e.what()));
        }
    });
    generate_s_ = seconds_since(start);
    start = std::chrono::steady_clock::now();
    dev_.prefetch(ir);
    // The modules are loaded now; preparing prints and hashes each kernel's PTX once more to find
    // its module, which for large kernels is worth doing on every thread.
    parallel_for(n, [&](size_t i) { kernels_[first + i].kernel = dev_.prepare(ir[i]); });
    for (size_t i = 0; i < n; ++i) {
        // Products wait for their inputs after issuing their first weight loads: they may start
        // while the kernel before them finishes (programmatic dependent launch, sm_90).
        kernels_[first + i].dims.overlap_previous = ptxsmith::runtime::kernel_waits_for_grids(ir[i]);
    }
    jit_s_ = seconds_since(start);
    compiled_ = kernels_.size();
}

}  // namespace llm::engine
