// Thread mapping: one thread per element, i = ctaid.x * ntid.x + tid.x; threads past n do nothing.
#include "kernels/saxpy.hpp"

#include <fmt/format.h>

#include <cmath>

#include "kernels/shape.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;

FamilyInfo Saxpy::info() {
    return {"saxpy", "y = a * x + y over n f32 elements (a passed at launch), one thread per element",
            {elements_param(), block_param()},
            {ParamValues{{"n", "777"}, {"block", "64"}}, ParamValues{{"n", "4096"}, {"block", "1024"}}}};
}

Saxpy Saxpy::from(const ParamValues& v) { return Saxpy{static_cast<uint32_t>(v.integer("n")), checked_block(v)}; }

std::string Saxpy::name() const { return fmt::format("saxpy_n{}_b{}", n, block); }

Kernel Saxpy::build(const Target& target) const {
    KernelBuilder b(name(), target);
    Reg<f32> a = b.param<f32>("a");
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr y = b.param_ptr("y", Type::f32);
    b.reqntid(block);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Address<Space::global> yi = b.index(y, i, 4)[0];
        Reg<f32> xv = b.ld<f32>(b.index(x, i, 4)[0], {.nc = true});
        b.st(yi, b.fma(a, xv, b.ld<f32>(yi)));
    });
    return b.finish();
}

LaunchConfig Saxpy::launch_config() const { return launch_1d(n, block); }

std::vector<ArgSpec> Saxpy::args() const {
    return {{"a", Role::scalar, Type::f32, 1}, {"x", Role::input, Type::f32, n}, {"y", Role::inout, Type::f32, n}};
}

void Saxpy::reference(std::vector<HostBuffer>& args) const {
    const float a = *args[0].as<float>();
    const float* x = args[1].as<float>();
    float* y = args[2].as<float>();
    for (uint32_t i = 0; i < n; ++i) y[i] = std::fma(a, x[i], y[i]);
}

}  // namespace kernels
