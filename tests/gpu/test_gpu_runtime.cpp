// The runtime on a GPU: graph capture, replay and update; a CUDA C++ kernel built with NVRTC
// agrees with the generated one; cold JIT (sequential and prefetched) and warm starts from the
// disk cache, timed. Exits 77 (skipped) without a GPU.
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "kernels/registry.hpp"
#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxsmith/runtime/device.hpp"
#include "ptxsmith/runtime/driver.hpp"
#include "ptxsmith/runtime/nvrtc.hpp"

namespace rt = ptxsmith::runtime;

namespace ptxsmith::runtime {
bool cuda_device_available(std::string* why_not);
}

namespace {

int failures = 0;
void expect(bool ok, const std::string& what) {
    fmt::print("{}  {}\n", ok ? "PASS" : "FAIL", what);
    if (!ok) ++failures;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

// saxpy three times per graph, replayed: y = fma(a, x, y) applied 3 * replays times.
void graph_test(rt::Device& dev, std::mt19937& rng) {
    const uint32_t n = 100000;
    auto inst = kernels::instantiate(kernels::find_family("saxpy"), {{"n", std::to_string(n)}});
    ptxgen::Kernel k = inst->build(dev.info().target());
    const auto lc = inst->launch_config();
    std::vector<float> x = random_floats(n, rng), y = random_floats(n, rng), want = y;
    rt::DeviceBuffer dx(dev, n * 4, "x"), dy(dev, n * 4, "y");
    dx.upload(x.data());
    dy.upload(y.data());
    auto capture = [&](float a) {
        dev.begin_capture();
        for (int i = 0; i < 3; ++i) dev.launch(k, {lc.grid, lc.block, 0}, rt::Args().f32(a).ptr(dx.address()).ptr(dy.address()));
        return dev.end_capture();
    };
    std::unique_ptr<rt::Graph> g = capture(0.5f);
    for (int r = 0; r < 5; ++r) g->replay();
    g->update(capture(-0.25f));
    g->replay();
    dev.synchronize();
    for (uint32_t i = 0; i < n; ++i) {
        for (int s = 0; s < 15; ++s) want[i] = std::fma(0.5f, x[i], want[i]);
        for (int s = 0; s < 3; ++s) want[i] = std::fma(-0.25f, x[i], want[i]);
    }
    dy.download(y.data());
    expect(y == want, "graph: captured saxpy x3, replayed 5 times, updated with another a, replayed: bit-exact");
}

void nvrtc_test(rt::Device& dev, std::mt19937& rng) {
    const char* source = R"(extern "C" __global__ void add_cpp(const float* x, const float* y, float* z, unsigned n) {
        unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) z[i] = x[i] + y[i];
    })";
    const uint32_t n = 1 << 20;
    std::string ptx;
    try {
        ptx = ptxsmith::compile_cuda_to_ptx(source, "add_cpp.cu",
                                            {fmt::format("--gpu-architecture=compute_{}{}", dev.info().cc_major, dev.info().cc_minor)});
    } catch (const ptxsmith::Error& e) {
        fmt::print("SKIP  NVRTC cross-check: {}\n", e.what());
        return;
    }
    rt::ExternalKernel ext = rt::external_kernel(ptx, "add_cpp");
    auto inst = kernels::instantiate(kernels::find_family("vector_add"), {{"n", std::to_string(n)}});
    std::vector<float> x = random_floats(n, rng), y = random_floats(n, rng), z1(n), z2(n);
    rt::DeviceBuffer dx(dev, n * 4, "x"), dy(dev, n * 4, "y"), dz(dev, n * 4, "z");
    dx.upload(x.data());
    dy.upload(y.data());
    const auto lc = inst->launch_config();
    dev.memset(dz.address(), 0xff, n * 4);
    dev.launch(ext, {lc.grid, lc.block, 0}, rt::Args().ptr(dx.address()).ptr(dy.address()).ptr(dz.address()).u32(n));
    dz.download(z1.data());
    dev.memset(dz.address(), 0xff, n * 4);
    dev.launch(inst->build(dev.info().target()), {lc.grid, lc.block, 0}, rt::Args().ptr(dx.address()).ptr(dy.address()).ptr(dz.address()));
    dz.download(z2.data());
    expect(z1 == z2, fmt::format("NVRTC-built CUDA C++ vector add and the generated vector_add agree on {} elements", n));
}

std::vector<ptxgen::Kernel> every_kernel(const rt::Device& dev) {
    std::vector<ptxgen::Kernel> ks;
    for (const kernels::Family& f : kernels::registry()) {
        std::vector<kernels::ParamValues> shapes{kernels::ParamValues{}};
        shapes.insert(shapes.end(), f.info.test_shapes.begin(), f.info.test_shapes.end());
        for (const auto& s : shapes) ks.push_back(kernels::instantiate(f, s)->build(dev.info().target()));
    }
    return ks;
}

void jit_timing() {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "ptxsmith-gpu-jit-timing";
    fs::remove_all(dir);
    setenv("PTXSMITH_CACHE_DIR", dir.c_str(), 1);
    size_t count = 0;
    double cold_sequential = 0, cold_prefetch = 0, warm = 0;
    {
        auto dev = rt::open_device(rt::DeviceKind::cuda);
        auto ks = every_kernel(*dev);
        count = ks.size();
        auto t0 = std::chrono::steady_clock::now();
        for (const auto& k : ks) dev->prefetch({k});
        cold_sequential = seconds_since(t0);
    }
    fs::remove_all(dir);
    {
        auto dev = rt::open_device(rt::DeviceKind::cuda);
        auto ks = every_kernel(*dev);
        auto t0 = std::chrono::steady_clock::now();
        dev->prefetch(ks);
        cold_prefetch = seconds_since(t0);
    }
    {
        auto dev = rt::open_device(rt::DeviceKind::cuda);  // a new device: empty level 1, level 2 on disk
        auto ks = every_kernel(*dev);
        auto t0 = std::chrono::steady_clock::now();
        for (const auto& k : ks) dev->prefetch({k});
        warm = seconds_since(t0);
    }
    fmt::print("JIT of {} kernels: cold sequential {:.1f} ms ({:.2f} ms per kernel), cold prefetch {:.1f} ms, "
               "warm from disk {:.2f} ms ({:.3f} ms per kernel)\n",
               count, cold_sequential * 1e3, cold_sequential * 1e3 / static_cast<double>(count), cold_prefetch * 1e3, warm * 1e3,
               warm * 1e3 / static_cast<double>(count));
    expect(warm * 1e3 / static_cast<double>(count) < 5.0, "warm start from the disk cache under 5 ms per kernel");
    fs::remove_all(dir);
}

// Static and dynamic shared memory together above 48 KB with the dynamic part below it: the
// launch must still opt in to the dynamic part (16 KB static + 40 KB dynamic here).
void shared_opt_in_test(rt::Device& dev) {
    constexpr uint32_t kStatic = 16 * 1024, kDynamic = 40 * 1024, kThreads = 256;
    ptxgen::KernelBuilder b("shared_opt_in", dev.info().target());
    ptxgen::GlobalPtr out = b.param_ptr("out", ptxgen::Type::u32);
    b.reqntid(kThreads);
    ptxgen::Reg<ptxgen::u32> tid = b.tid_x();
    ptxgen::SharedPtr fixed = b.addr_of(b.shared_array("fixed", kStatic, 16));
    ptxgen::SharedPtr dynamic = b.addr_of(b.dynamic_shared(16));
    b.st(b.index(fixed, tid, 4)[kStatic - 4 * kThreads], tid);
    b.st(b.index(dynamic, tid, 4)[kDynamic - 4 * kThreads], b.mul_lo(tid, 3u));
    b.bar_sync();
    ptxgen::Reg<ptxgen::u32> other = b.sub(b.mov<ptxgen::u32>(kThreads - 1), tid);
    ptxgen::Reg<ptxgen::u32> sum = b.add(b.ld<ptxgen::u32>(b.index(fixed, other, 4)[kStatic - 4 * kThreads]),
                                         b.ld<ptxgen::u32>(b.index(dynamic, other, 4)[kDynamic - 4 * kThreads]));
    b.st(b.index(out, tid, 4)[0], sum);
    ptxgen::Kernel k = b.finish();
    rt::DeviceBuffer d_out(dev, kThreads * 4, "out");
    auto check = [&](const std::string& how) {
        dev.synchronize();
        std::vector<uint32_t> got(kThreads);
        d_out.download(got.data());
        bool ok = true;
        for (uint32_t t = 0; t < kThreads; ++t) ok = ok && got[t] == 4 * (kThreads - 1 - t);
        expect(ok, fmt::format("shared memory: 16 KB static + 40 KB dynamic (over 48 KB together), {}, launches and reads back", how));
        dev.memset(d_out.address(), 0xff, kThreads * 4);
    };
    dev.launch(k, {{1, 1, 1}, {kThreads, 1, 1}, kDynamic}, rt::Args().ptr(d_out.address()));
    check("generated");
    // The same PTX as an external kernel: its static size comes from the driver.
    dev.launch(rt::external_kernel(ptxgen::print_ptx(k), k.name), {{1, 1, 1}, {kThreads, 1, 1}, kDynamic},
               rt::Args().ptr(d_out.address()));
    check("as external PTX");
}

void launch_overhead(rt::Device& dev) {
    auto inst = kernels::instantiate(kernels::find_family("vector_add"), {{"n", "32"}, {"block", "32"}});
    ptxgen::Kernel k = inst->build(dev.info().target());
    rt::DeviceBuffer a(dev, 128, "a"), b(dev, 128, "b"), c(dev, 128, "c");
    rt::Args args = rt::Args().ptr(a.address()).ptr(b.address()).ptr(c.address());
    dev.launch(k, {{1, 1, 1}, {32, 1, 1}, 0}, args);
    dev.synchronize();
    const int n = 2000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) dev.launch(k, {{1, 1, 1}, {32, 1, 1}, 0}, args);
    const double host_us = seconds_since(t0) * 1e6 / n;
    dev.synchronize();
    std::shared_ptr<rt::PreparedKernel> prepared = dev.prepare(k);
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) dev.launch(*prepared, {{1, 1, 1}, {32, 1, 1}, 0}, args);
    const double prepared_us = seconds_since(t0) * 1e6 / n;
    dev.synchronize();
    // The floor: cuLaunchKernel alone, on a module loaded straight from the same PTX.
    ptxsmith::Driver& d = ptxsmith::Driver::get();
    const std::string ptx = ptxgen::print_ptx(k);
    ptxsmith::CUmodule module = nullptr;
    ptxsmith::CUfunction function = nullptr;
    d.check(d.cuModuleLoadDataEx(&module, ptx.c_str(), 0, nullptr, nullptr), "cuModuleLoadDataEx");
    d.check(d.cuModuleGetFunction(&function, module, k.name.c_str()), "cuModuleGetFunction");
    std::array<uint64_t, 3> raw_args{a.address(), b.address(), c.address()};
    std::array<void*, 3> params{&raw_args[0], &raw_args[1], &raw_args[2]};
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) d.check(d.cuLaunchKernel(function, 1, 1, 1, 32, 1, 1, 0, nullptr, params.data(), nullptr), "cuLaunchKernel");
    const double raw_us = seconds_since(t0) * 1e6 / n;
    d.check(d.cuCtxSynchronize(), "cuCtxSynchronize");
    d.cuModuleUnload(module);
    fmt::print("host time per launch of a tiny kernel, {} launches: from IR (checks, print, SHA-256, cache lookup, cuLaunchKernel) "
               "{:.1f} us; prepared (checks, cuLaunchKernel) {:.2f} us; raw cuLaunchKernel {:.2f} us\n",
               n, host_us, prepared_us, raw_us);
}

}  // namespace

int main() {
    std::string why;
    if (!rt::cuda_device_available(&why)) {
        fmt::print("SKIPPED: no GPU ({})\n", why);
        return 77;
    }
    std::mt19937 rng(std::random_device{}());
    try {
        auto dev = rt::open_device(rt::DeviceKind::cuda);
        graph_test(*dev, rng);
        nvrtc_test(*dev, rng);
        shared_opt_in_test(*dev);
        launch_overhead(*dev);
        jit_timing();
    } catch (const ptxsmith::Error& e) {
        fmt::print("FAIL  {}\n", e.what());
        ++failures;
    }
    fmt::print("{}\n", failures ? "FAILED" : "all runtime GPU checks passed");
    return failures ? 1 : 0;
}
