// The measurements behind `ptxgen bench`: a kernel launched back to back, once with its weights
// rotated through enough copies to miss L2 and once with one copy that stays in L2, and the
// device-to-device copy bandwidth that serves as the memory-bound ceiling of the same run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/family.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace cli::bench {

struct Settings {
    std::optional<size_t> copies;   // --rotate N; unset: enough that the copies exceed 2x L2
    std::optional<uint64_t> iters;  // launches per timing; unset: about target_ms of work
    uint64_t warmup = 20;           // launches before the first timing
    uint64_t repeats = 5;           // timings, each of `iters` launches
    bool graph = true;              // launches captured once into a graph and replayed
    double target_ms = 20;          // what an unset `iters` aims for
};

// One series of timings of back-to-back launches.
struct Timing {
    uint64_t iters = 0;       // launches per timing (graph mode: a whole number of replays)
    uint64_t warmup = 0;      // launches before the first timing
    std::vector<double> us;   // time per launch, one entry per timing, in the order taken
    double median_us = 0, min_us = 0, max_us = 0;
};

struct KernelResult {
    std::string name;
    bool counts_family = false;   // counted by the family's bench_work() (its bytes, maybe flops)
    bool counts_weights = false;  // else: the weight arguments' bytes (else every buffer's)
    uint64_t counted_bytes = 0;   // bytes one launch must move, as counted (see counted_bytes())
    uint64_t flops = 0;           // flops of one launch, from bench_work(); 0: not counted
    std::string counted_how;      // bench_work()'s own line on how it counted
    size_t copies = 1;            // copies of the rotated buffers in the "rotated" measurement
    uint64_t rotated_bytes = 0;   // those copies together
    bool copies_capped = false;   // kMaxCopies stopped the copies short of 2x L2
    Timing rotated;               // each launch on the next copy, round robin
    Timing resident;              // every launch on copy 0
};

struct CopyResult {
    uint64_t bytes = 0;   // one copy reads this many bytes and writes as many
    Timing timing;        // per copy
    double gb_per_s = 0;  // (read + written) over the median time
};

// An empty kernel launched exactly as a kernel is: the same parameter list, grid, block and
// dynamic shared memory, timed the same way (graph replays or host launches). The floor under
// a launch-bound kernel's time.
struct EmptyResult {
    std::string name;
    Timing timing;
};

// Kernels that move fewer counted bytes than this are timed beside an empty kernel without
// --vs-empty: at a few TB/s they take less time than a launch costs.
inline constexpr uint64_t kEmptyBelowBytes = 1'000'000;

// More copies than this are not made (a kernel with a few bytes of weights would need millions).
inline constexpr size_t kMaxCopies = 1024;

// Bytes a launch moves for a benchmark's bandwidth: the weight buffers (each read once) when the
// kernel has any, else every buffer: inputs read, outputs written, in/out buffers both.
uint64_t counted_bytes(const std::vector<kernels::ArgSpec>& args);

// The size of the copy whose bandwidth is the ceiling: max(256 MiB, 4x L2) on a GPU, 16 MiB on the
// interpreter (whose figure is a CPU memmove's anyway).
uint64_t copy_bytes(const ptxsmith::runtime::DeviceInfo& info);

// Builds and prepares `k` for the device, uploads inputs from make_host_args and times it.
// Device errors throw ptxsmith::Error.
KernelResult bench_kernel(ptxsmith::runtime::Device& dev, const kernels::KernelInstance& k, const Settings& s);

// Times an empty kernel with `k`'s parameters, grid, block and shared memory (see EmptyResult).
EmptyResult bench_empty(ptxsmith::runtime::Device& dev, const kernels::KernelInstance& k, const Settings& s);

// Times Device::copy of copy_bytes(dev.info()) bytes (never in a graph: copies cannot be captured).
CopyResult bench_copy(ptxsmith::runtime::Device& dev, const Settings& s);

// Bandwidth in GB/s (1e9 bytes) of `bytes` moved in `us` microseconds; 0 when us is not positive.
double gb_per_s(uint64_t bytes, double us);

// TFLOP/s (1e12 flops per second) of `flops` done in `us` microseconds; 0 when us is not positive.
double tflop_per_s(uint64_t flops, double us);

}  // namespace cli::bench
