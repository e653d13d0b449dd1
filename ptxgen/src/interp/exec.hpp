// Run-time state of the interpreter: the grid being run, one CTA's shared and local memory, one
// warp's registers and lanes. Handlers see a Warp and reach the rest through it.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "program.hpp"

namespace ptxgen::interp {

// Generic addresses in [kSharedWindow, kSharedWindow + 2^32) refer to the CTA's shared memory.
inline constexpr uint64_t kSharedWindow = 0x0000100000000000ull;

struct Grid {
    const Program& prog;
    DeviceMemory& mem;
    const Launch& launch;
    const Options& options;
    std::vector<uint8_t> params;  // the parameter blob
};

// Per-byte bookkeeping of the optional shared-memory checks.
struct SharedShadow {
    static constexpr uint32_t kNobody = 0xffffffffu;
    uint32_t writer = kNobody;       // thread that last wrote, in the current barrier epoch
    uint32_t reader = kNobody;       // a thread that read in the current epoch
    uint32_t write_epoch = 0;
    uint32_t read_epoch = 0;
    // The warp's bar.warp.sync count at the write and at the latest read: accesses by threads of
    // one warp with a whole-warp bar.warp.sync between them are ordered.
    uint32_t write_syncs = 0;
    uint32_t read_syncs = 0;
    uint32_t read_warp = kNobody;    // warp of this epoch's readers (kNobody: several warps)
    bool several_readers = false;
    bool written = false;            // ever written (uninitialised-read check)
};

struct Cta {
    const Grid* grid = nullptr;
    Dim3 id;
    uint32_t threads = 0;
    std::vector<uint8_t> shared;
    std::vector<uint8_t> local;   // local_bytes per thread
    std::vector<SharedShadow> shadow;  // one per shared byte when a check is on
    uint32_t epoch = 1;           // advances each time a barrier releases
};

// One asynchronous copy waiting for its lane's wait_group.
struct PendingCopy {
    uint32_t lane;
    uint32_t group;       // commit-group number of the lane at issue time
    uint32_t shared_offset;
    uint64_t global_address;
    uint32_t bytes;       // copied from global
    uint32_t total;       // bytes written to shared (the rest zero-filled)
};

struct Warp {
    uint64_t* R = nullptr;        // slots x 32 lanes
    Cta* cta = nullptr;
    const Grid* grid = nullptr;
    uint32_t index = 0;           // warp number within the CTA
    uint32_t warp_syncs = 0;      // bar.warp.sync of the whole warp executed so far (race check)
    uint32_t valid = 0;           // lanes that exist (the last warp of a CTA may be partial)
    uint32_t present = 0;         // lanes executing the current instruction, before its guard
    std::vector<PendingCopy> copies;
    std::array<uint32_t, 32> committed{};  // cp.async groups committed so far, per lane

    uint64_t& r(uint32_t slot, int lane) { return R[static_cast<size_t>(slot) * 32 + static_cast<size_t>(lane)]; }
    uint32_t thread(int lane) const { return index * 32 + static_cast<uint32_t>(lane); }
    Dim3 tid(int lane) const;
};

template <class F> inline void for_lanes(uint32_t mask, F&& f) {
    if (mask == 0xffffffffu) {
        for (int l = 0; l < 32; ++l) f(l);
    } else {
        while (mask) {
            const int l = std::countr_zero(mask);
            mask &= mask - 1;
            f(l);
        }
    }
}

// Memory access for one lane: checks bounds (naming the buffer) and alignment, runs the optional
// shared-memory checks, and returns where the bytes live. Throws LaneFault.
// Atomic accesses are writes that never race with each other; a probe only checks bounds and
// alignment (cp.async checks its operands when issued and moves the bytes at its wait).
enum class Access : uint8_t { read, write, atomic, probe };
uint8_t* access(Warp& w, int lane, Space space, uint64_t address, uint32_t bytes, Access kind);

// The effective address of an instruction's address operand for one lane.
inline uint64_t address_of(Warp& w, const DAddr& a, int lane) {
    uint64_t base = a.base == AddrBase::reg ? w.r(a.slot, lane) : 0;
    return base + static_cast<uint64_t>(a.offset);
}

// Completes the lane's pending cp.async copies from groups older than the newest `keep` committed
// ones (keep < 0: all of them, committed or not).
void complete_copies(Warp& w, int lane, int keep);

}  // namespace ptxgen::interp
