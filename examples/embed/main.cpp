// The smallest program that embeds ptxsmith: builds its own kernel, y[i] = a * x[i] + b, runs it on
// a CUDA GPU when there is one (else on the CPU interpreter) and checks it on the host.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

#include "ptxgen/builder.hpp"
#include "ptxsmith/runtime/device.hpp"

using namespace ptxgen;
namespace rt = ptxsmith::runtime;

static Kernel affine(const Target& target) {
    KernelBuilder b("affine", target);
    Reg<f32> a = b.param<f32>("a");
    Reg<f32> c = b.param<f32>("b");
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr y = b.param_ptr("y", Type::f32);
    Reg<u32> n = b.param<u32>("n");
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Reg<f32> xv = b.ld<f32>(b.index(x, i, 4)[0]);
        b.st(b.index(y, i, 4)[0], b.fma(a, xv, c));
    });
    return b.finish();
}

int main() try {
    const uint32_t n = 1000, block = 256;
    const float a = 2.5f, c = -1.0f;
    std::vector<float> x(n), y(n);
    for (uint32_t i = 0; i < n; ++i) x[i] = 0.25f * static_cast<float>(i) - 7.0f;

    auto dev = rt::open_device(rt::DeviceKind::automatic);  // CUDA if present, else the interpreter
    const Kernel k = affine(dev->info().target());
    rt::DeviceBuffer dx(*dev, n * sizeof(float), "x"), dy(*dev, n * sizeof(float), "y");
    dx.upload(x.data());
    dev->launch(k, {{(n + block - 1) / block, 1, 1}, {block, 1, 1}, 0},
                rt::Args().f32(a).f32(c).ptr(dx.address()).ptr(dy.address()).u32(n));
    dev->synchronize();
    dy.download(y.data());

    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (y[i] != std::fma(a, x[i], c)) {
            if (bad++ < 5) std::printf("y[%u] = %g, expected %g\n", i, y[i], std::fma(a, x[i], c));
        }
    }
    std::printf("%s (%s): %u elements, %s\n", dev->info().kind.c_str(), dev->info().name.c_str(), n,
                bad ? "MISMATCH" : "OK");
    return bad ? 1 : 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "embed: %s\n", e.what());
    return 2;
}
