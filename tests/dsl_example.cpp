// The example kernel of docs/dsl.md; test_dsl_example.cpp checks the two stay identical.
// [example]
#include "ptxgen/ptxgen.hpp"

using namespace ptxgen;

// y[i] = max(x[i], 0) * scale for i < n: one thread per element.
Kernel scaled_relu(uint32_t n, float scale, Target target) {
    KernelBuilder b("scaled_relu", target);
    GlobalPtr x = b.param_ptr("x", Type::f32);   // pointer parameters, in launch order
    GlobalPtr y = b.param_ptr("y", Type::f32);
    b.reqntid(256);

    Reg<u32> i = b.global_index_x();             // ctaid.x * ntid.x + tid.x
    b.if_(b.setp(Cmp::lt, i, n), [&] {           // n is baked into the code
        Reg<f32> v = b.ld<f32>(b.index(x, i, 4)[0], {.nc = true});
        Reg<f32> r = b.mul(b.max(v, 0.0f), scale);
        b.st(b.index(y, i, 4)[0], r);
    });
    return b.finish();                           // verifies; print with print_ptx()
}
// [example]
