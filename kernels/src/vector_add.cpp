// Thread mapping: one thread per element, i = ctaid.x * ntid.x + tid.x; threads past n do nothing.
#include "kernels/vector_add.hpp"

#include <fmt/format.h>

#include "kernels/shape.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;

FamilyInfo VectorAdd::info() {
    return {"vector_add", "z = x + y over n f32 elements, one thread per element",
            {elements_param(), block_param()},
            {ParamValues{{"n", "1000"}, {"block", "128"}}, ParamValues{{"n", "1"}, {"block", "32"}}}};
}

VectorAdd VectorAdd::from(const ParamValues& v) {
    return VectorAdd{static_cast<uint32_t>(v.integer("n")), checked_block(v)};
}

std::string VectorAdd::name() const { return fmt::format("vector_add_n{}_b{}", n, block); }

Kernel VectorAdd::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr y = b.param_ptr("y", Type::f32);
    GlobalPtr z = b.param_ptr("z", Type::f32);
    b.reqntid(block);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Reg<f32> a = b.ld<f32>(b.index(x, i, 4)[0], {.nc = true});
        Reg<f32> c = b.ld<f32>(b.index(y, i, 4)[0], {.nc = true});
        b.st(b.index(z, i, 4)[0], b.add(a, c));
    });
    return b.finish();
}

LaunchConfig VectorAdd::launch_config() const { return launch_1d(n, block); }

std::vector<ArgSpec> VectorAdd::args() const {
    return {{"x", Role::input, Type::f32, n}, {"y", Role::input, Type::f32, n}, {"z", Role::output, Type::f32, n}};
}

void VectorAdd::reference(std::vector<HostBuffer>& args) const {
    const float* x = args[0].as<float>();
    const float* y = args[1].as<float>();
    float* z = args[2].as<float>();
    for (uint32_t i = 0; i < n; ++i) z[i] = x[i] + y[i];
}

}  // namespace kernels
