// The interpreter's scheduler. A warp runs its lanes in lockstep; when a branch splits them,
// each lane keeps its own program counter and the warp executes the lowest one first, which
// reconverges structured control flow (if/else, loops) where it joins. A CTA's warps run in turn
// until each has finished or waits at a barrier; a barrier releases when its count of threads
// has arrived, and a CTA in which nobody can run while some wait is a barrier that some threads
// never reach. CTAs are independent and run on several host threads.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "exec.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"

namespace ptxgen::interp {

Dim3 Warp::tid(int lane) const {
    const Dim3& b = grid->launch.block;
    const uint32_t t = thread(lane);
    return Dim3{t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
}

namespace {

constexpr uint32_t kMaxBarriers = 16;
constexpr uint32_t kMaxSharedBytes = 227 * 1024;  // the largest any supported GPU offers a CTA

// Where each lane of a warp is: one counter for all when converged, one per lane otherwise.
struct LaneState {
    bool uniform = true;
    uint32_t upc = 0;
    std::array<uint32_t, 32> pc{};
    uint32_t exited = 0;
    uint32_t blocked = 0;  // waiting at a barrier
    std::array<uint8_t, 32> barrier{};  // which barrier a blocked lane waits at

    void split() {
        if (!uniform) return;
        pc.fill(upc);
        uniform = false;
    }
    // Moves the lanes of `mask` to `to`; `alive` is every lane not exited (waiting ones included).
    void advance(uint32_t mask, uint32_t alive, uint32_t to) {
        if (uniform && mask == alive) {
            upc = to;
            return;
        }
        split();
        for_lanes(mask, [&](int l) { pc[static_cast<size_t>(l)] = to; });
    }
    // Back to one counter when every lane still alive sits at the same instruction.
    void try_merge(uint32_t valid) {
        if (uniform) return;
        const uint32_t alive = valid & ~exited;
        if (!alive) return;
        const uint32_t first = pc[static_cast<size_t>(std::countr_zero(alive))];
        bool same = true;
        for_lanes(alive, [&](int l) { same = same && pc[static_cast<size_t>(l)] == first; });
        if (same) {
            uniform = true;
            upc = first;
        }
    }
};

struct Barrier {
    uint32_t arrived = 0;
    uint32_t expected = 0;  // 0 until the first arrival sets it
    uint32_t pc = 0;        // an instruction that arrived (for messages)
};

class CtaRunner {
public:
    CtaRunner(const Grid& g, std::vector<uint64_t>& regs, Stats& stats) : g_(g), p_(g.prog), regs_(regs), stats_(stats) {}

    void run(uint64_t linear_id) {
        const Launch& L = g_.launch;
        cta_.grid = &g_;
        cta_.id = Dim3{static_cast<uint32_t>(linear_id % L.grid.x), static_cast<uint32_t>((linear_id / L.grid.x) % L.grid.y),
                       static_cast<uint32_t>(linear_id / (uint64_t{L.grid.x} * L.grid.y))};
        cta_.threads = static_cast<uint32_t>(L.block.count());
        cta_.epoch = 1;
        // Shared and local memory start as garbage on a GPU; a fixed pattern makes reliance on it visible.
        cta_.shared.assign(p_.dynamic_shared_offset + L.dynamic_shared_bytes, 0xa5);
        cta_.local.assign(size_t{p_.local_bytes} * cta_.threads, 0xa5);
        if (g_.options.check_shared_races || g_.options.check_uninitialized_shared) {
            cta_.shadow.assign(cta_.shared.size(), SharedShadow{});
        }
        const uint32_t nwarps = (cta_.threads + 31) / 32;
        regs_.resize(size_t{nwarps} * p_.slots * 32);
        warps_.assign(nwarps, Warp{});
        lanes_.assign(nwarps, LaneState{});
        barriers_.fill(Barrier{});
        for (uint32_t w = 0; w < nwarps; ++w) {
            Warp& wp = warps_[w];
            wp.R = regs_.data() + size_t{w} * p_.slots * 32;
            wp.cta = &cta_;
            wp.grid = &g_;
            wp.index = w;
            const uint32_t n = std::min<uint32_t>(32, cta_.threads - w * 32);
            wp.valid = n == 32 ? 0xffffffffu : (1u << n) - 1;
            for (const auto& [slot, value] : p_.constants) std::fill_n(wp.R + size_t{slot} * 32, 32, value);
            lanes_[w].exited = ~wp.valid;
        }

        size_t finished = 0;
        while (finished < nwarps) {
            bool progress = false;
            finished = 0;
            for (uint32_t w = 0; w < nwarps; ++w) {
                progress = run_warp(w) || progress;
                if ((lanes_[w].exited & warps_[w].valid) == warps_[w].valid) ++finished;
            }
            if (!progress && finished < nwarps) report_stuck_barrier();
        }
        ++stats_.ctas;
    }

private:
    const Grid& g_;
    const Program& p_;
    std::vector<uint64_t>& regs_;
    Stats& stats_;
    Cta cta_;
    std::vector<Warp> warps_;
    std::vector<LaneState> lanes_;
    std::array<Barrier, kMaxBarriers> barriers_{};

    // Runs warp `w` until it finishes or all its live lanes wait at barriers. Returns whether it ran.
    bool run_warp(uint32_t w) {
        Warp& wp = warps_[w];
        LaneState& ls = lanes_[w];
        bool ran = false;
        uint64_t thread_instructions = 0, warp_instructions = 0;
        for (;;) {
            const uint32_t alive = wp.valid & ~ls.exited;
            const uint32_t runnable = alive & ~ls.blocked;
            if (!runnable) break;
            uint32_t pc, mask;
            if (ls.uniform) {
                pc = ls.upc;
                mask = runnable;
            } else {
                pc = 0xffffffffu;
                for_lanes(runnable, [&](int l) { pc = std::min(pc, ls.pc[static_cast<size_t>(l)]); });
                mask = 0;
                for_lanes(runnable, [&](int l) { mask |= ls.pc[static_cast<size_t>(l)] == pc ? 1u << l : 0u; });
            }
            const DInstr& d = p_.code[pc];
            uint32_t exec = mask;
            if (d.guard != kNoSlot) {
                uint32_t on = 0;
                for_lanes(mask, [&](int l) { on |= (wp.r(d.guard, l) != 0) != d.guard_neg ? 1u << l : 0u; });
                exec = on;
            }
            wp.present = mask;
            ran = true;
            ++warp_instructions;
            thread_instructions += static_cast<uint64_t>(std::popcount(exec));
            try {
                switch (d.ctl) {
                case Ctl::none:
                    if (exec) d.fn(wp, d, exec);
                    ls.advance(mask, alive, pc + 1);
                    break;
                case Ctl::bra:
                    if (exec == mask) {
                        ls.advance(mask, alive, d.target);
                    } else {
                        ls.advance(exec, alive, d.target);
                        ls.advance(mask & ~exec, alive, pc + 1);
                    }
                    break;
                case Ctl::exit:
                    ls.exited |= exec;
                    ls.advance(mask & ~exec, alive, pc + 1);
                    break;
                case Ctl::bar_sync:
                case Ctl::bar_arrive:
                    ls.advance(mask, alive, pc + 1);
                    if (exec) arrive(w, d, pc, exec, d.ctl == Ctl::bar_sync);
                    break;
                case Ctl::warp_sync:
                    check_warp_sync(wp, d, exec);
                    // A whole-warp sync orders the shared accesses before it against those after.
                    if ((imm(wp, d, 0) & wp.valid) == wp.valid) ++wp.warp_syncs;
                    ls.advance(mask, alive, pc + 1);
                    break;
                }
            } catch (const LaneFault& f) {
                fail(d, wp, f.lane, f.message);
            }
            ls.try_merge(wp.valid);
        }
        stats_.thread_instructions += thread_instructions;
        stats_.warp_instructions += warp_instructions;
        return ran;
    }

    uint32_t imm(const Warp& wp, const DInstr& d, int operand) const {
        return static_cast<uint32_t>(const_cast<Warp&>(wp).r(d.s(operand), 0));
    }

    void arrive(uint32_t w, const DInstr& d, uint32_t pc, uint32_t exec, bool wait) {
        Warp& wp = warps_[w];
        const uint32_t id = imm(wp, d, 0);
        const uint32_t expected = d.in->nops > 1 ? imm(wp, d, 1) : cta_.threads;
        Barrier& b = barriers_[id];
        if (b.arrived == 0) {
            b.expected = expected;
            b.pc = pc;
        } else if (b.expected != expected) {
            fail(d, wp, std::countr_zero(exec),
                 fmt::format("barrier {} is used with {} threads here but {} at instruction {}", id, expected, b.expected,
                             p_.code[b.pc].ir_index));
        }
        if (expected > cta_.threads) {
            fail(d, wp, std::countr_zero(exec),
                 fmt::format("barrier {} waits for {} threads but the CTA has {}", id, expected, cta_.threads));
        }
        b.arrived += static_cast<uint32_t>(std::popcount(exec));
        if (wait) {
            LaneState& ls = lanes_[w];
            ls.blocked |= exec;
            for_lanes(exec, [&](int l) { ls.barrier[static_cast<size_t>(l)] = static_cast<uint8_t>(id); });
        }
        if (b.arrived >= b.expected) release(id);
    }

    void release(uint32_t id) {
        for (size_t w = 0; w < lanes_.size(); ++w) {
            LaneState& ls = lanes_[w];
            uint32_t waiting = 0;
            for_lanes(ls.blocked, [&](int l) { waiting |= ls.barrier[static_cast<size_t>(l)] == id ? 1u << l : 0u; });
            ls.blocked &= ~waiting;
        }
        barriers_[id] = Barrier{};
        ++cta_.epoch;
    }

    void check_warp_sync(Warp& wp, const DInstr& d, uint32_t exec) {
        const uint32_t members = imm(wp, d, 0) & wp.valid;
        if (members & ~exec) {
            fail(d, wp, std::countr_zero(exec ? exec : wp.present),
                 fmt::format("bar.warp.sync: lanes 0x{:08x} of membermask 0x{:08x} are not executing it", members & ~exec,
                             members));
        }
    }

    [[noreturn]] void report_stuck_barrier() {
        // Find a waiting barrier and a thread that will never arrive.
        for (uint32_t id = 0; id < kMaxBarriers; ++id) {
            const Barrier& b = barriers_[id];
            if (b.arrived == 0) continue;
            std::string missing;
            for (size_t w = 0; w < lanes_.size() && missing.empty(); ++w) {
                const uint32_t gone = lanes_[w].exited & warps_[w].valid;
                if (gone) {
                    Dim3 t = warps_[w].tid(std::countr_zero(gone));
                    missing = fmt::format("thread ({},{},{}) exited without reaching it", t.x, t.y, t.z);
                }
            }
            if (missing.empty()) missing = "the other threads wait at other barriers";
            const DInstr& d = p_.code[b.pc];
            throw ptxsmith::Error(fmt::format(
                "kernel {}, instruction {} `{}`, block ({},{},{}): barrier {} can never complete: {} of {} threads arrived; {}",
                p_.kernel->name, d.ir_index, print_instruction(*p_.kernel, d.ir_index), cta_.id.x, cta_.id.y, cta_.id.z, id,
                b.arrived, b.expected, missing));
        }
        throw ptxsmith::Error(fmt::format("kernel {}, block ({},{},{}): no thread can run, yet the CTA has not finished",
                                          p_.kernel->name, cta_.id.x, cta_.id.y, cta_.id.z));
    }

    [[noreturn]] void fail(const DInstr& d, const Warp& wp, int lane, const std::string& what) const {
        const Dim3 t = wp.tid(lane);
        throw ptxsmith::Error(fmt::format("kernel {}, instruction {} `{}`, block ({},{},{}), thread ({},{},{}): {}",
                                          p_.kernel->name, d.ir_index, print_instruction(*p_.kernel, d.ir_index), cta_.id.x,
                                          cta_.id.y, cta_.id.z, t.x, t.y, t.z, what));
    }
};

void check_launch(const Kernel& k, const Program& p, const Launch& L) {
    auto bad = [&](const std::string& what) {
        throw ptxsmith::Error(fmt::format("kernel {}: cannot launch: {}", k.name, what));
    };
    if (L.grid.count() == 0 || L.block.count() == 0) bad("grid and block dimensions must be at least 1");
    if (L.block.count() > 1024) bad(fmt::format("{} threads per block; at most 1024", L.block.count()));
    if (L.block.z > 64) bad(fmt::format("block z is {}; at most 64", L.block.z));
    if (L.grid.y > 65535 || L.grid.z > 65535) bad("grid y and z are at most 65535");
    if (k.reqntid[0] && (L.block.x != k.reqntid[0] || L.block.y != k.reqntid[1] || L.block.z != k.reqntid[2])) {
        bad(fmt::format("the kernel requires a block of {} x {} x {} (.reqntid), not {} x {} x {}", k.reqntid[0], k.reqntid[1],
                        k.reqntid[2], L.block.x, L.block.y, L.block.z));
    }
    if (k.maxntid[0] && L.block.count() > uint64_t{k.maxntid[0]} * k.maxntid[1] * k.maxntid[2]) {
        bad(fmt::format("{} threads exceed the kernel's .maxntid", L.block.count()));
    }
    const uint64_t shared = uint64_t{p.dynamic_shared_offset} + L.dynamic_shared_bytes;
    if (shared > kMaxSharedBytes) bad(fmt::format("{} bytes of shared memory; at most {}", shared, kMaxSharedBytes));
}

std::vector<uint8_t> pack_params(const Kernel& k, const Program& p, const ArgList& args) {
    const auto& v = args.values();
    if (v.size() != k.params.size()) {
        throw ptxsmith::Error(fmt::format("kernel {} takes {} arguments, got {}", k.name, k.params.size(), v.size()));
    }
    std::vector<uint8_t> blob(p.param_bytes, 0);
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].size() != p.param_sizes[i]) {
            throw ptxsmith::Error(fmt::format("kernel {}: argument {} ({}) is {} bytes, but the parameter is .{} ({} bytes)",
                                              k.name, i, k.params[i].name, v[i].size(), type_name(k.params[i].type),
                                              p.param_sizes[i]));
        }
        std::copy(v[i].begin(), v[i].end(), blob.begin() + p.param_offsets[i]);
    }
    return blob;
}

}  // namespace

Stats run(const Kernel& kernel, const Launch& launch, DeviceMemory& memory, const ArgList& args, const Options& options) {
    Program prog = decode(kernel);
    check_launch(kernel, prog, launch);
    Grid grid{prog, memory, launch, options, pack_params(kernel, prog, args)};

    const uint64_t ctas = launch.grid.count();
    unsigned workers = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    workers = static_cast<unsigned>(std::min<uint64_t>(workers, ctas));

    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    std::vector<Stats> stats(workers);
    auto work = [&](unsigned me) {
        std::vector<uint64_t> regs;
        CtaRunner runner(grid, regs, stats[me]);
        try {
            for (uint64_t c; !failed.load(std::memory_order_relaxed) && (c = next++) < ctas;) runner.run(c);
        } catch (...) {
            std::lock_guard lock(error_mutex);
            if (!failed.exchange(true)) error = std::current_exception();
        }
    };
    if (workers == 1) {
        work(0);
    } else {
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < workers; ++t) pool.emplace_back(work, t);
        for (auto& t : pool) t.join();
    }
    if (error) std::rethrow_exception(error);
    Stats total;
    for (const Stats& s : stats) {
        total.thread_instructions += s.thread_instructions;
        total.warp_instructions += s.warp_instructions;
        total.ctas += s.ctas;
    }
    return total;
}

}  // namespace ptxgen::interp
