// Thread mapping: CTA r sums row r. Thread t accumulates x[r][t], x[r][t + block], ... in f32, then
// the CTA combines the per-thread sums (kernels/reduce.cpp) and thread 0 writes out[r].
#include "kernels/block_sum.hpp"

#include <fmt/format.h>

#include "kernels/reduce.hpp"
#include "kernels/shape.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;

FamilyInfo BlockSum::info() {
    return {"block_sum", "out[r] = sum of row r of x[rows][cols], one CTA per row",
            {ParamSpec{"rows", ParamKind::integer, "number of rows (one CTA each)", "1024", 1, 65535, {}},
             ParamSpec{"cols", ParamKind::integer, "elements per row", "4096", 1, 1 << 24, {}},
             block_param()},
            {ParamValues{{"rows", "3"}, {"cols", "1000"}, {"block", "128"}},
             ParamValues{{"rows", "7"}, {"cols", "31"}, {"block", "32"}}}};
}

BlockSum BlockSum::from(const ParamValues& v) {
    return BlockSum{static_cast<uint32_t>(v.integer("rows")), static_cast<uint32_t>(v.integer("cols")), checked_block(v)};
}

std::string BlockSum::name() const { return fmt::format("block_sum_r{}_c{}_b{}", rows, cols, block); }

Kernel BlockSum::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr out = b.param_ptr("out", Type::f32);
    b.reqntid(block);
    Reg<u32> row = b.ctaid_x();
    Reg<u32> tid = b.tid_x();
    GlobalPtr row_start = b.index(x, b.mul_lo(row, cols), 4);
    Reg<f32> acc = b.mov<f32>(0.0f);
    b.for_range(tid, cols, block, [&](Reg<u32> i) {
        b.mov(acc, b.add(acc, b.ld<f32>(b.index(row_start, i, 4)[0], {.nc = true})));
    });
    Reg<f32> total = block_sum(b, acc, block);
    b.predicated(b.setp(Cmp::eq, tid, 0u), [&] { b.st(b.index(out, row, 4)[0], total); });
    return b.finish();
}

LaunchConfig BlockSum::launch_config() const {
    LaunchConfig c;
    c.grid = {rows, 1, 1};
    c.block = {block, 1, 1};
    return c;
}

std::vector<ArgSpec> BlockSum::args() const {
    return {{"x", Role::input, Type::f32, size_t{rows} * cols}, {"out", Role::output, Type::f32, rows}};
}

void BlockSum::reference(std::vector<HostBuffer>& args) const {
    const float* x = args[0].as<float>();
    float* out = args[1].as<float>();
    for (uint32_t r = 0; r < rows; ++r) {
        double s = 0;
        for (uint32_t c = 0; c < cols; ++c) s += x[size_t{r} * cols + c];
        out[r] = static_cast<float>(s);
    }
}

}  // namespace kernels
