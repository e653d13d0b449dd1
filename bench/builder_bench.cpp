// Times building, verifying and printing a kernel of about 5,000 instructions on one core:
// the cost every shape-specialised kernel pays at load time before the driver sees it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "ptxgen/ptxgen.hpp"

using namespace ptxgen;

namespace {

// A long straight-line kernel with the mix real kernels have: loads, FMAs, conversions,
// shuffles, predicated stores.
Kernel build_kernel(int groups) {
    KernelBuilder b("builder_bench", Target{90});
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr y = b.param_ptr("y", Type::f32);
    Reg<u32> i = b.global_index_x();
    Reg<f32> acc = b.mov<f32>(0.0f);
    for (int g = 0; g < groups; ++g) {
        auto v = b.ld_v<f32, 4>(b.index(x, b.add(i, static_cast<uint32_t>(g)), 16)[0], {.nc = true});
        for (Reg<f32> e : v) acc = b.fma(e, e, acc);
        Reg<f16> h = b.cvt<f16>(acc, {.round = Round::rn});
        acc = b.add(acc, b.cvt<f32>(h));
        acc = b.add(acc, b.shfl_bfly(acc, static_cast<uint32_t>(g % 16 + 1)));
        b.predicated(b.setp(Cmp::gt, acc, 0.0f), [&] { b.st(b.index(y, i, 4)[0], acc); });
    }
    return b.finish();
}

}  // namespace

int main() {
    const int groups = 333;  // 15 instructions each: about 5,000 in all
    const size_t instructions = build_kernel(groups).code.size();
    std::vector<double> ms;
    size_t bytes = 0;
    for (int rep = 0; rep < 300; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        Kernel k = build_kernel(groups);
        std::string ptx = print_ptx(k);
        auto t1 = std::chrono::steady_clock::now();
        bytes = ptx.size();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    fmt::print("build + verify + print, {} instructions ({} bytes of PTX), 300 runs on one core:\n", instructions, bytes);
    fmt::print("  median {:.3f} ms   min {:.3f} ms   p90 {:.3f} ms   ({:.0f} ns per instruction, median)\n",
               ms[ms.size() / 2], ms.front(), ms[ms.size() * 9 / 10], ms[ms.size() / 2] * 1e6 / static_cast<double>(instructions));
}
