// The interpreter as a runtime device: launches, recorded graphs (replay, update), the refusal of
// copies during a capture, argument checks, the arena, and reading an external .entry signature.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace rt = ptxsmith::runtime;
using namespace ptxgen;

namespace {

// y[i] = fma(a, x[i], y[i]) for i < n.
Kernel saxpy(uint32_t n) {
    KernelBuilder b("device_test_saxpy", Target{90});
    Reg<f32> a = b.param<f32>("a");
    GlobalPtr x = b.param_ptr("x", Type::f32), y = b.param_ptr("y", Type::f32);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Address<Space::global> yi = b.index(y, i, 4)[0];
        b.st(yi, b.fma(a, b.ld<f32>(b.index(x, i, 4)[0]), b.ld<f32>(yi)));
    });
    return b.finish();
}

}  // namespace

TEST_CASE("interpreter device: a captured graph replays, updates, and copies during capture are refused") {
    const uint32_t n = 300;
    auto dev = rt::open_interp_device();
    Kernel k = saxpy(n);
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> x(n), y(n), want(n), got(n);
    for (uint32_t i = 0; i < n; ++i) {
        x[i] = u(rng);
        y[i] = want[i] = u(rng);
    }
    rt::DeviceBuffer dx(*dev, n * 4, "x"), dy(*dev, n * 4, "y");
    dx.upload(x.data());
    dy.upload(y.data());
    const rt::Dims dims{{(n + 127) / 128, 1, 1}, {128, 1, 1}, 0};
    auto capture = [&](float a) {
        dev->begin_capture();
        dev->launch(k, dims, rt::Args().f32(a).ptr(dx.address()).ptr(dy.address()));
        dev->launch(k, dims, rt::Args().f32(a).ptr(dx.address()).ptr(dy.address()));
        return dev->end_capture();
    };
    auto graph = capture(2.0f);
    CHECK(dev->executed_thread_instructions() == 0);  // recorded, not run
    graph->replay();
    graph->replay();
    graph->update(capture(-0.5f));
    graph->replay();
    for (uint32_t i = 0; i < n; ++i) {
        for (int s = 0; s < 4; ++s) want[i] = std::fma(2.0f, x[i], want[i]);
        for (int s = 0; s < 2; ++s) want[i] = std::fma(-0.5f, x[i], want[i]);
    }
    dy.download(got.data());
    CHECK(got == want);

    dev->begin_capture();
    CHECK_THROWS_WITH_AS(dy.upload(y.data()), doctest::Contains("during a graph capture"), ptxsmith::Error);
    dev->end_capture();
}

TEST_CASE("device launches check arguments against the kernel's parameters") {
    auto dev = rt::open_interp_device();
    Kernel k = saxpy(10);
    rt::DeviceBuffer x(*dev, 40, "x");
    const rt::Dims dims{{1, 1, 1}, {32, 1, 1}, 0};
    CHECK_THROWS_WITH_AS(dev->launch(k, dims, rt::Args().f32(1).ptr(x.address())), doctest::Contains("2 arguments given, the kernel takes 3"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(dev->launch(k, dims, rt::Args().u64(1).ptr(x.address()).ptr(x.address())),
                         doctest::Contains("argument 0 (a) is 8 bytes"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(dev->launch(k, {{1, 1, 1}, {2048, 1, 1}, 0}, rt::Args().f32(1).ptr(x.address()).ptr(x.address())),
                         doctest::Contains("2048 threads per block"), ptxsmith::Error);
}

TEST_CASE("the arena hands out aligned pieces and says when it is full") {
    auto dev = rt::open_interp_device();
    rt::Arena arena(*dev, 1000, "scratch");
    const uint64_t a = arena.take(10), b = arena.take(10, 64);
    CHECK(b % 64 == 0);
    CHECK(b > a);
    CHECK_THROWS_WITH_AS(arena.take(2000), doctest::Contains("arena scratch is full: 2000 bytes asked for"), ptxsmith::Error);
    arena.reset();
    CHECK(arena.take(10) == a);
}

TEST_CASE("an external kernel's parameter sizes come from its .entry signature") {
    const std::string ptx = ".visible .entry other(\n\t.param .u32 other_param_0\n)\n{ ret; }\n"
                            ".visible .entry add_cpp(\n\t.param .u64 .ptr .global .align 1 add_cpp_param_0,\n"
                            "\t.param .f32 add_cpp_param_1,\n\t.param .u16 add_cpp_param_2\n)\n{ ret; }\n";
    rt::ExternalKernel k = rt::external_kernel(ptx, "add_cpp");
    CHECK(k.param_sizes == std::vector<size_t>{8, 4, 2});
    CHECK(rt::external_kernel(ptx, "other").param_sizes == std::vector<size_t>{4});
    CHECK_THROWS_WITH_AS(rt::external_kernel(ptx, "add"), doctest::Contains("no .entry add"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(rt::check_external_args(k, rt::Args().u64(0)), doctest::Contains("1 arguments given, the .entry takes 3"),
                         ptxsmith::Error);
}
