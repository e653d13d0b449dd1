// Devices: one interface over a CUDA GPU and the CPU interpreter, so the same launch code runs on
// both. Memory is addressed by 64-bit device addresses; kernels are ptxgen IR, compiled (CUDA)
// or decoded (interpreter) on first launch and cached.
//
//   auto dev = ptxsmith::runtime::open_device(ptxsmith::runtime::DeviceKind::automatic);
//   ptxsmith::runtime::DeviceBuffer x(*dev, n * 4, "x");
//   x.upload(host.data());
//   dev->launch(kernel, {{grid, 1, 1}, {256, 1, 1}, 0}, ptxsmith::runtime::Args().ptr(x).u32(n));
//   dev->synchronize();
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ptxgen/interp.hpp"
#include "ptxgen/ir.hpp"
#include "ptxgen/target.hpp"

namespace ptxsmith::runtime {

enum class DeviceKind { automatic, cuda, interp };

// Parses "auto", "cuda" or "interp"; throws ptxsmith::Error otherwise.
DeviceKind parse_device_kind(const std::string& text);

struct DeviceInfo {
    std::string kind;                 // "cuda" or "interp"
    std::string name;
    int cc_major = 0, cc_minor = 0;   // compute capability (the interpreter reports sm_90's)
    int sm_count = 0;
    uint64_t l2_bytes = 0;
    uint64_t memory_bytes = 0;
    uint32_t shared_per_block = 0;        // without opting in
    uint32_t shared_per_block_optin = 0;  // the most a kernel may opt into
    uint32_t shared_per_sm = 0;
    uint32_t max_threads_per_block = 0;
    int driver_version = 0;           // CUDA only, e.g. 13000

    ptxgen::Target target() const { return ptxgen::Target{cc_major * 10 + cc_minor, false}; }
};

struct Dims {
    std::array<uint32_t, 3> grid{1, 1, 1};
    std::array<uint32_t, 3> block{1, 1, 1};
    uint32_t shared_bytes = 0;  // dynamic shared memory
    // Programmatic dependent launch (CUDA, sm_90 and a driver with cuLaunchKernelEx; ignored
    // elsewhere): the kernel may start before the previous kernel on the stream has finished. Only
    // for kernels that execute griddepcontrol.wait before touching memory earlier kernels write
    // (KernelBuilder::griddep_wait; kernel_waits_for_grids says whether a kernel does).
    bool overlap_previous = false;
};

// Whether a kernel executes griddepcontrol.wait (and so may be launched with overlap_previous).
bool kernel_waits_for_grids(const ptxgen::Kernel& k);

// Kernel arguments in parameter order, as the bytes each parameter holds: .ptr(address), .u32(n),
// .f32(x), ... (the interpreter's argument list, shared by every device).
using Args = ptxgen::interp::ArgList;

// PTX that ptxgen did not build (hand-written, NVRTC's, another compiler's): the entry to launch and
// its parameter sizes, read from the .entry signature.
struct ExternalKernel {
    std::string ptx;
    std::string entry;
    std::vector<size_t> param_sizes;
};

// Finds `entry` in `ptx` and reads its parameter list; throws ptxsmith::Error when absent.
ExternalKernel external_kernel(std::string ptx, const std::string& entry);

// Checks arguments against an external kernel's parameter sizes; throws ptxsmith::Error.
void check_external_args(const ExternalKernel& k, const Args& args);

// Checks arguments against the kernel's recorded parameters (count, order, sizes) and the
// launch against the device's limits, before anything reaches a driver. Throws ptxsmith::Error.
void check_launch(const ptxgen::Kernel& k, const DeviceInfo& info, const Dims& dims, const Args& args);

// Launches recorded between Device::begin_capture and Device::end_capture, replayed as one unit:
// a CUDA graph on a GPU, the recorded launches in order on the interpreter.
class Graph {
public:
    virtual ~Graph() = default;
    virtual void replay() = 0;
    // Takes over the launches of `newer` (the same shape of work with other arguments), in place
    // where the device can (cuGraphExecUpdate), else by rebuilding.
    virtual void update(std::unique_ptr<Graph> newer) = 0;
};

// A kernel made ready to launch on one device (compiled and loaded on CUDA): launching it skips
// printing and the cache lookup, which is what a model's hot loop wants.
class PreparedKernel {
public:
    virtual ~PreparedKernel() = default;
    const ptxgen::Kernel& kernel() const { return kernel_; }

protected:
    explicit PreparedKernel(ptxgen::Kernel k) : kernel_(std::move(k)) {}

private:
    ptxgen::Kernel kernel_;
};

class Device {
public:
    virtual ~Device() = default;
    virtual const DeviceInfo& info() const = 0;

    // Device memory. alloc throws ptxsmith::Error naming the size asked for and what is free.
    virtual uint64_t alloc(size_t bytes, const std::string& name) = 0;
    virtual void free(uint64_t address) = 0;
    virtual void upload(uint64_t dst, const void* src, size_t bytes) = 0;
    virtual void download(void* dst, uint64_t src, size_t bytes) = 0;
    virtual void memset(uint64_t dst, uint8_t value, size_t bytes) = 0;
    // Device to device, ordered with launches and not waited for (refused during a capture, like
    // the other copies). The ranges must not overlap.
    virtual void copy(uint64_t dst, uint64_t src, size_t bytes) = 0;

    // Launches on the device's default stream; returns before the kernel finishes on CUDA.
    virtual void launch(const ptxgen::Kernel& k, const Dims& dims, const Args& args) = 0;
    // Compiles (or finds in the cache) once; launches of the result check only dims and arguments.
    virtual std::shared_ptr<PreparedKernel> prepare(const ptxgen::Kernel& k) = 0;
    virtual void launch(const PreparedKernel& k, const Dims& dims, const Args& args) = 0;
    // External PTX, compiled through the same cache (the interpreter runs ptxgen's subset only).
    virtual void launch(const ExternalKernel& k, const Dims& dims, const Args& args) = 0;
    virtual void synchronize() = 0;
    // Compiles (or loads from the disk cache) every kernel now, in parallel, so that first launches
    // do not wait for the JIT. A no-op where there is nothing to compile.
    virtual void prefetch(const std::vector<ptxgen::Kernel>& kernels) = 0;
    // The JIT's own report for this kernel (registers, spills, stack), compiling it afresh; the
    // interpreter, which compiles nothing, says so.
    virtual std::string jit_info_log(const ptxgen::Kernel& k) = 0;

    // Page-locked host memory (plain memory on the interpreter) for fast, asynchronous copies.
    virtual void* alloc_host(size_t bytes) = 0;
    virtual void free_host(void* p) = 0;
    // Copies ordered with launches but not waited for (`host` must stay valid until synchronize).
    virtual void upload_async(uint64_t dst, const void* host, size_t bytes) = 0;
    virtual void download_async(void* host, uint64_t src, size_t bytes) = 0;

    // Launches between these two are recorded instead of run (copies are not allowed meanwhile).
    virtual void begin_capture() = 0;
    virtual std::unique_ptr<Graph> end_capture() = 0;

    // Milliseconds the work enqueued by `enqueue` takes on the device (CUDA events around it on a
    // GPU; wall-clock time on the interpreter). Waits for the work.
    virtual double measure_ms(const std::function<void()>& enqueue) = 0;

    // Thread-instructions executed so far: the interpreter counts them; other devices report 0.
    virtual uint64_t executed_thread_instructions() const { return 0; }
};

// Opens a device. automatic picks CUDA when a driver and a GPU are there, else the interpreter,
// and says once on stderr why it chose the interpreter.
std::unique_ptr<Device> open_device(DeviceKind kind);

// The CPU interpreter as a device.
std::unique_ptr<Device> open_interp_device(ptxgen::interp::Options options = {});

// Per-step scratch memory: one allocation handed out in aligned pieces and reset as a whole, so
// a model step allocates nothing from the driver.
class Arena {
public:
    Arena(Device& dev, size_t bytes, const std::string& name);
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // A piece of `bytes` aligned to `align` (a power of two); throws ptxsmith::Error when full,
    // naming what was asked for and what is left.
    uint64_t take(size_t bytes, size_t align = 256);
    void reset() { used_ = 0; }
    size_t used() const { return used_; }
    size_t capacity() const { return bytes_; }

private:
    Device& dev_;
    std::string name_;
    size_t bytes_;
    uint64_t base_;
    size_t used_ = 0;
};

// A device allocation that frees itself.
class DeviceBuffer {
public:
    DeviceBuffer(Device& dev, size_t bytes, const std::string& name) : dev_(&dev), bytes_(bytes), address_(dev.alloc(bytes, name)) {}
    ~DeviceBuffer() {
        if (dev_) dev_->free(address_);
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept : dev_(o.dev_), bytes_(o.bytes_), address_(o.address_) { o.dev_ = nullptr; }

    uint64_t address() const { return address_; }
    size_t bytes() const { return bytes_; }
    void upload(const void* src) { dev_->upload(address_, src, bytes_); }
    void download(void* dst) const { dev_->download(dst, address_, bytes_); }

private:
    Device* dev_;
    size_t bytes_;
    uint64_t address_;
};

}  // namespace ptxsmith::runtime
