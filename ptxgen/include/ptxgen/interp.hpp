// A CPU interpreter that runs a kernel's IR with PTX semantics: the device every test can use,
// with no GPU. Warps execute in lockstep over 32 lanes; divergent lanes reconverge at the lowest
// program counter; a CTA's warps run until each finishes or waits at a barrier; CTAs of the grid
// run on several host threads.
//
//   interp::DeviceMemory mem;
//   uint64_t x = mem.alloc(n * 4, "x");            // a device address
//   mem.write(x, host_x.data(), n * 4);
//   interp::ArgList args;  args.ptr(x).ptr(y).u32(n);
//   interp::run(kernel, {{grid, 1, 1}, {256, 1, 1}}, mem, args);
//   mem.read(y, host_y.data(), n * 4);
//
// A run that would hang or corrupt memory on a GPU throws ptxsmith::Error naming the kernel,
// the instruction, the block and the thread: out-of-bounds or misaligned accesses, barriers some
// threads never reach, warp-synchronous instructions whose member lanes diverge.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptxgen/ir.hpp"

namespace ptxgen::interp {

struct Dim3 {
    uint32_t x = 1, y = 1, z = 1;
    uint64_t count() const { return uint64_t{x} * y * z; }
};

struct Launch {
    Dim3 grid;
    Dim3 block;
    uint32_t dynamic_shared_bytes = 0;
};

// Simulated global memory: named buffers at distinct device addresses with unmapped gaps
// between them, so an access past one buffer's end faults instead of landing in another.
class DeviceMemory {
public:
    DeviceMemory();
    ~DeviceMemory();
    DeviceMemory(const DeviceMemory&) = delete;
    DeviceMemory& operator=(const DeviceMemory&) = delete;

    // A new zero-filled buffer; returns its device address (256-byte aligned).
    uint64_t alloc(size_t bytes, std::string name);
    void free(uint64_t address);
    void write(uint64_t address, const void* src, size_t bytes);
    void read(uint64_t address, void* dst, size_t bytes) const;
    void fill(uint64_t address, uint8_t byte, size_t bytes);

    struct Buffer {
        uint64_t address = 0;
        std::string name;
        std::vector<uint8_t> bytes;
    };
    // The buffer holding [address, address + bytes), or nullptr when none holds all of it.
    Buffer* find(uint64_t address, size_t bytes);
    // The buffer nearest to `address` (for error messages), or nullptr when there are none.
    const Buffer* nearest(uint64_t address) const;

private:
    std::vector<std::unique_ptr<Buffer>> buffers_;  // sorted by address
    uint64_t next_address_;
};

// Kernel arguments in parameter order, each as the bytes the parameter holds.
class ArgList {
public:
    ArgList& ptr(uint64_t device_address) { return raw(&device_address, 8); }
    ArgList& u32(uint32_t v) { return raw(&v, 4); }
    ArgList& s32(int32_t v) { return raw(&v, 4); }
    ArgList& u64(uint64_t v) { return raw(&v, 8); }
    ArgList& f32(float v) { return raw(&v, 4); }
    ArgList& f64(double v) { return raw(&v, 8); }
    ArgList& raw(const void* bytes, size_t size);
    const std::vector<std::vector<uint8_t>>& values() const { return values_; }

private:
    std::vector<std::vector<uint8_t>> values_;
};

struct Options {
    // Report a read of shared memory that nothing in the CTA has written.
    bool check_uninitialized_shared = false;
    // Report two threads touching one shared byte, at least one writing, with no barrier between.
    bool check_shared_races = false;
    // Host threads running CTAs; 0 means one per core. 1 gives a deterministic order of atomics.
    unsigned threads = 0;
};

struct Stats {
    uint64_t thread_instructions = 0;  // instructions times the lanes that executed them
    uint64_t warp_instructions = 0;
    uint64_t ctas = 0;
};

// Runs the kernel over the grid. Arguments are checked against the kernel's parameter list.
Stats run(const Kernel& kernel, const Launch& launch, DeviceMemory& memory, const ArgList& args,
          const Options& options = {});

}  // namespace ptxgen::interp
