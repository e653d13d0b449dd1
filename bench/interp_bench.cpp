// Interpreter speed: thread-instructions per second on one host thread, for plain arithmetic
// (a loop of integer and float operations) and for a memory-bound kernel from the registry.
#include <fmt/format.h>

#include <chrono>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/registry.hpp"
#include "ptxgen/interp.hpp"
#include "ptxgen/ptxgen.hpp"

using namespace ptxgen;

namespace {

// Each thread runs `iterations` of a 16-instruction body of adds, multiplies, FMAs and bit
// operations, then stores one value (so nothing is dead).
Kernel arithmetic_kernel(uint32_t iterations) {
    KernelBuilder b("interp_bench_arith", Target{90});
    GlobalPtr out = b.param_ptr("out", Type::f32);
    Reg<u32> i = b.global_index_x();
    Reg<u32> x = b.mov<u32>(i);
    Reg<f32> f = b.cvt<f32>(i, {.round = Round::rn});
    b.for_range(0u, iterations, 1, [&](Reg<u32>) {
        for (int k = 0; k < 3; ++k) {
            b.mov(x, b.add(b.mul_lo(x, 1664525u), 1013904223u));
            b.mov(f, b.fma(f, 0.999f, 0.001f));
            b.mov(x, b.xor_(x, b.shr(x, 7u)));
        }
    });
    b.st(b.index(out, i, 4)[0], b.add(f, b.cvt<f32>(x, {.round = Round::rn})));
    return b.finish();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
    interp::Options one_thread;
    one_thread.threads = 1;
    {
        const uint32_t ctas = 64, threads = 256, iterations = 200;
        Kernel k = arithmetic_kernel(iterations);
        interp::DeviceMemory mem;
        uint64_t out = mem.alloc(size_t{ctas} * threads * 4, "out");
        interp::ArgList args;
        args.ptr(out);
        auto t0 = std::chrono::steady_clock::now();
        interp::Stats s = interp::run(k, {{ctas, 1, 1}, {threads, 1, 1}}, mem, args, one_thread);
        const double t = seconds_since(t0);
        fmt::print("plain arithmetic: {} thread-instructions in {:.3f} s on one host thread: {:.0f} M thread-instructions/s\n",
                   s.thread_instructions, t, static_cast<double>(s.thread_instructions) / t / 1e6);
    }
    {
        auto inst = kernels::instantiate(kernels::find_family("rmsnorm"), {{"rows", "64"}, {"k", "4096"}});
        auto t0 = std::chrono::steady_clock::now();
        kernels::CheckResult r = kernels::check_on_interpreter(*inst, 1, one_thread);
        const double t = seconds_since(t0);
        fmt::print("{}: {} thread-instructions in {:.3f} s (with inputs, reference and comparison: {:.3f} s): "
                   "{:.0f} M thread-instructions/s, {}\n",
                   inst->name(), r.thread_instructions, r.seconds, t,
                   static_cast<double>(r.thread_instructions) / r.seconds / 1e6, r.comparison.pass ? "PASS" : "FAIL");
    }
}
