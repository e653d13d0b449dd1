#include "bench_measure.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>

#include "kernels/check.hpp"
#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"

namespace cli::bench {

namespace rt = ptxsmith::runtime;

namespace {

constexpr uint64_t kMinIters = 10;
constexpr uint64_t kMaxIters = 10'000'000;
// Launches captured into one graph (at least the number of copies, so that a replay rotates
// through all of them): enough that the host's cuGraphLaunch is small beside the work it starts.
constexpr uint64_t kGraphLaunches = 128;
constexpr uint64_t kAlign = 256;  // where each copy of a buffer starts, as cuMemAlloc aligns
constexpr uint64_t kSeed = 1;

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t round_up(uint64_t a, uint64_t b) { return ceil_div(a, b) * b; }

uint64_t buffer_bytes(const kernels::ArgSpec& a) { return a.count * static_cast<uint64_t>(ptxgen::byte_size(a.type)); }

// The buffers that get one copy each in the rotated measurement: the weights, or when the kernel
// names none, every buffer it reads.
std::vector<bool> rotated_args(const std::vector<kernels::ArgSpec>& args) {
    const bool any_weight = std::any_of(args.begin(), args.end(),
                                        [](const kernels::ArgSpec& a) { return a.weight && a.role != kernels::Role::scalar; });
    std::vector<bool> rotated;
    for (const kernels::ArgSpec& a : args) {
        const bool read = a.role == kernels::Role::input || a.role == kernels::Role::inout;
        rotated.push_back(any_weight ? a.weight && a.role != kernels::Role::scalar : read);
    }
    return rotated;
}

// Launches for about target_ms, from the time one launch took.
uint64_t iters_for(double ms_per_launch, const Settings& s) {
    if (!(ms_per_launch > 0) || !std::isfinite(ms_per_launch)) return kMaxIters;
    const double wanted = std::ceil(s.target_ms / ms_per_launch);
    return std::clamp(static_cast<uint64_t>(std::min(wanted, static_cast<double>(kMaxIters))), kMinIters, kMaxIters);
}

void summarise(Timing& t) {
    std::vector<double> sorted = t.us;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    t.median_us = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    t.min_us = sorted.front();
    t.max_us = sorted.back();
}

// Enqueues launch j for j = 0, 1, ... (taken mod `cycle`) straight onto the stream: nothing in
// the timed loop waits for the device.
Timing time_stream(rt::Device& dev, size_t cycle, const std::function<void(size_t)>& enqueue, const Settings& s) {
    uint64_t next = 0;
    auto run = [&](uint64_t n) {
        for (uint64_t i = 0; i < n; ++i) enqueue(static_cast<size_t>(next++ % cycle));
    };
    Timing t;
    t.warmup = s.warmup;
    run(s.warmup);
    dev.synchronize();
    if (s.iters) {
        t.iters = *s.iters;
    } else {
        const uint64_t probe = std::max<uint64_t>(kMinIters, cycle);
        t.iters = iters_for(dev.measure_ms([&] { run(probe); }) / static_cast<double>(probe), s);
    }
    for (uint64_t r = 0; r < s.repeats; ++r) {
        t.us.push_back(dev.measure_ms([&] { run(t.iters); }) * 1000.0 / static_cast<double>(t.iters));
    }
    summarise(t);
    return t;
}

// Captures a whole number of rotations into a graph once, then times replays of it: the
// device runs the launches back to back without waiting for the host to issue each one.
Timing time_graph(rt::Device& dev, size_t cycle, const std::function<void(size_t)>& enqueue, const Settings& s) {
    const uint64_t wanted = std::min(s.iters.value_or(kGraphLaunches), kGraphLaunches);
    const uint64_t per_graph = round_up(std::max<uint64_t>(wanted, 1), cycle);
    dev.begin_capture();
    try {
        for (uint64_t j = 0; j < per_graph; ++j) enqueue(static_cast<size_t>(j % cycle));
    } catch (...) {
        try {
            dev.end_capture();  // leave the stream usable; the launch's own error is the one to report
        } catch (...) {
        }
        throw;
    }
    std::unique_ptr<rt::Graph> graph = dev.end_capture();
    auto replay = [&](uint64_t n) {
        for (uint64_t i = 0; i < n; ++i) graph->replay();
    };
    Timing t;
    // At least one replay: the first launch of a graph also uploads it to the device.
    const uint64_t warm_replays = std::max<uint64_t>(1, ceil_div(s.warmup, per_graph));
    t.warmup = warm_replays * per_graph;
    replay(warm_replays);
    dev.synchronize();
    uint64_t replays = 0;
    if (s.iters) {
        replays = ceil_div(*s.iters, per_graph);
    } else {
        const double ms = dev.measure_ms([&] { replay(1); });
        replays = ceil_div(iters_for(ms / static_cast<double>(per_graph), s), per_graph);
    }
    t.iters = replays * per_graph;
    for (uint64_t r = 0; r < s.repeats; ++r) {
        t.us.push_back(dev.measure_ms([&] { replay(replays); }) * 1000.0 / static_cast<double>(t.iters));
    }
    summarise(t);
    return t;
}

Timing time_launches(rt::Device& dev, size_t cycle, const std::function<void(size_t)>& enqueue, const Settings& s) {
    return s.graph ? time_graph(dev, cycle, enqueue, s) : time_stream(dev, cycle, enqueue, s);
}

}  // namespace

double gb_per_s(uint64_t bytes, double us) { return us > 0 ? static_cast<double>(bytes) / (us * 1e3) : 0.0; }

double tflop_per_s(uint64_t flops, double us) { return us > 0 ? static_cast<double>(flops) / (us * 1e6) : 0.0; }

uint64_t counted_bytes(const std::vector<kernels::ArgSpec>& args) {
    const bool any_weight = std::any_of(args.begin(), args.end(),
                                        [](const kernels::ArgSpec& a) { return a.weight && a.role != kernels::Role::scalar; });
    uint64_t total = 0;
    for (const kernels::ArgSpec& a : args) {
        if (a.role == kernels::Role::scalar) continue;
        if (any_weight) {
            if (a.weight) total += buffer_bytes(a);
        } else {
            total += buffer_bytes(a) * (a.role == kernels::Role::inout ? 2 : 1);
        }
    }
    return total;
}

uint64_t copy_bytes(const rt::DeviceInfo& info) {
    if (info.kind == "interp") return uint64_t{16} << 20;
    return std::max<uint64_t>(uint64_t{256} << 20, 4 * info.l2_bytes);
}

KernelResult bench_kernel(rt::Device& dev, const kernels::KernelInstance& k, const Settings& s) {
    const ptxgen::Kernel kernel = k.build(dev.info().target());
    const std::shared_ptr<rt::PreparedKernel> prepared = dev.prepare(kernel);
    const std::vector<kernels::HostBuffer> host = kernels::make_host_args(k, kSeed);
    std::vector<kernels::ArgSpec> specs;
    for (const kernels::HostBuffer& b : host) specs.push_back(b.spec);
    const std::vector<bool> rotated = rotated_args(specs);

    KernelResult r;
    r.name = kernel.name;
    r.counted_bytes = counted_bytes(specs);
    r.counts_weights = std::any_of(specs.begin(), specs.end(), [](const kernels::ArgSpec& a) { return a.weight && a.role != kernels::Role::scalar; });
    if (const std::optional<kernels::BenchWork> work = k.bench_work()) {
        r.counts_family = true;
        r.counted_bytes = work->bytes;
        r.flops = work->flops;
        r.counted_how = work->what;
    }
    uint64_t per_copy = 0;
    for (size_t i = 0; i < host.size(); ++i) {
        if (rotated[i]) per_copy += host[i].bytes.size();
    }
    if (s.copies) {
        r.copies = *s.copies;
    } else if (dev.info().kind != "interp" && dev.info().l2_bytes > 0 && per_copy > 0) {
        // The fewest copies whose total exceeds twice the L2: a copy is evicted before its turn comes again.
        const uint64_t needed = 2 * dev.info().l2_bytes / per_copy + 1;
        r.copies = static_cast<size_t>(std::min<uint64_t>(needed, kMaxCopies));
        r.copies_capped = needed > kMaxCopies;
    }
    r.rotated_bytes = per_copy * r.copies;

    // One allocation per buffer argument; a rotated one holds its copies kAlign-aligned, one
    // after another, copy 0 uploaded and the rest copied from it on the device.
    std::vector<std::unique_ptr<rt::DeviceBuffer>> buffers(host.size());
    std::vector<uint64_t> stride(host.size(), 0);
    for (size_t i = 0; i < host.size(); ++i) {
        const kernels::HostBuffer& b = host[i];
        if (b.spec.role == kernels::Role::scalar) continue;
        const uint64_t size = b.bytes.size();
        stride[i] = rotated[i] ? round_up(std::max<uint64_t>(size, 1), kAlign) : 0;
        const uint64_t total = rotated[i] ? stride[i] * r.copies : std::max<uint64_t>(size, 1);
        buffers[i] = std::make_unique<rt::DeviceBuffer>(dev, static_cast<size_t>(total), b.spec.name);
        if (size == 0) continue;
        dev.upload(buffers[i]->address(), b.bytes.data(), b.bytes.size());
        for (size_t c = 1; rotated[i] && c < r.copies; ++c) dev.copy(buffers[i]->address() + c * stride[i], buffers[i]->address(), b.bytes.size());
    }
    dev.synchronize();

    // The arguments of every copy, built once: the timed loops only pick one.
    std::vector<rt::Args> args(r.copies);
    for (size_t c = 0; c < r.copies; ++c) {
        for (size_t i = 0; i < host.size(); ++i) {
            if (host[i].spec.role == kernels::Role::scalar) {
                args[c].raw(host[i].bytes.data(), host[i].bytes.size());
            } else {
                args[c].ptr(buffers[i]->address() + c * stride[i]);
            }
        }
    }
    const kernels::LaunchConfig lc = k.launch_config();
    const rt::Dims dims{lc.grid, lc.block, lc.shared_bytes};
    auto launch = [&](size_t c) { dev.launch(*prepared, dims, args[c]); };
    r.rotated = time_launches(dev, r.copies, launch, s);
    r.resident = time_launches(dev, 1, launch, s);
    return r;
}

EmptyResult bench_empty(rt::Device& dev, const kernels::KernelInstance& k, const Settings& s) {
    const ptxgen::Kernel kernel = k.build(dev.info().target());
    // Nothing but `ret`, declaring the kernel's parameters so that a launch passes the same bytes.
    ptxgen::KernelBuilder b(kernel.name + "_empty", kernel.target);
    ptxgen::Kernel empty = b.finish();
    empty.params = kernel.params;
    empty.reqntid = kernel.reqntid;
    empty.maxntid = kernel.maxntid;
    const std::shared_ptr<rt::PreparedKernel> prepared = dev.prepare(empty);

    // Every pointer argument points at one small buffer, scalars are zeros: nothing is read.
    rt::DeviceBuffer dummy(dev, kAlign, "bench empty kernel argument");
    const std::vector<uint8_t> zeros(8, 0);
    rt::Args args;
    for (const kernels::ArgSpec& a : k.args()) {
        if (a.role == kernels::Role::scalar) {
            args.raw(zeros.data(), ptxgen::byte_size(a.type));
        } else {
            args.ptr(dummy.address());
        }
    }
    const kernels::LaunchConfig lc = k.launch_config();
    const rt::Dims dims{lc.grid, lc.block, lc.shared_bytes};
    EmptyResult r;
    r.name = empty.name;
    r.timing = time_launches(dev, 1, [&](size_t) { dev.launch(*prepared, dims, args); }, s);
    return r;
}

CopyResult bench_copy(rt::Device& dev, const Settings& s) {
    CopyResult r;
    r.bytes = copy_bytes(dev.info());
    rt::DeviceBuffer src(dev, static_cast<size_t>(r.bytes), "bench copy source");
    rt::DeviceBuffer dst(dev, static_cast<size_t>(r.bytes), "bench copy destination");
    // Random bytes, not zeros: 1 MiB uploaded, then doubled on the device until the buffer is full.
    std::vector<uint8_t> block(std::min<uint64_t>(r.bytes, uint64_t{1} << 20));
    std::mt19937_64 rng(kSeed);
    for (uint8_t& b : block) b = static_cast<uint8_t>(rng());
    dev.upload(src.address(), block.data(), block.size());
    for (uint64_t filled = block.size(); filled < r.bytes; filled *= 2) {
        dev.copy(src.address() + filled, src.address(), static_cast<size_t>(std::min(filled, r.bytes - filled)));
    }
    dev.synchronize();
    Settings stream = s;
    stream.graph = false;
    r.timing = time_launches(dev, 1, [&](size_t) { dev.copy(dst.address(), src.address(), static_cast<size_t>(r.bytes)); }, stream);
    r.gb_per_s = gb_per_s(2 * r.bytes, r.timing.median_us);
    return r;
}

}  // namespace cli::bench
