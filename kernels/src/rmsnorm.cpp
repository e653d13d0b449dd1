// Thread mapping: CTA r normalises row r. When k is a multiple of 4 each thread reads float4s
// t, t + block, ... (16-byte loads), otherwise single floats; the sum of squares is combined
// across the CTA (kernels/reduce.cpp), then each thread scales the elements it read again.
#include "kernels/rmsnorm.hpp"

#include <fmt/format.h>

#include <cmath>

#include "kernels/reduce.hpp"
#include "kernels/shape.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;

FamilyInfo RmsNorm::info() {
    return {"rmsnorm", "y = x / sqrt(mean(x^2) + eps) * w per row of k f32 elements, one CTA per row",
            {ParamSpec{"rows", ParamKind::integer, "number of rows (one CTA each)", "1", 1, 65535, {}},
             ParamSpec{"k", ParamKind::integer, "row length", "4096", 1, 1 << 20, {}},
             ParamSpec{"eps", ParamKind::real, "added to the mean square", "1e-05", 0, 1, {}},
             block_param()},
            {ParamValues{{"rows", "3"}, {"k", "1000"}, {"block", "128"}},
             ParamValues{{"rows", "2"}, {"k", "257"}, {"eps", "1e-06"}, {"block", "64"}}}};
}

RmsNorm RmsNorm::from(const ParamValues& v) {
    return RmsNorm{static_cast<uint32_t>(v.integer("rows")), static_cast<uint32_t>(v.integer("k")), v.real("eps"),
                   checked_block(v)};
}

std::string RmsNorm::name() const { return fmt::format("rmsnorm_r{}_k{}_eps{}_b{}", rows, k, name_number(eps), block); }

Kernel RmsNorm::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr w = b.param_ptr("w", Type::f32);
    GlobalPtr y = b.param_ptr("y", Type::f32);
    b.reqntid(block);
    Reg<u32> row = b.ctaid_x();
    Reg<u32> tid = b.tid_x();
    Reg<u32> row_offset = b.mul_lo(row, k);
    GlobalPtr xrow = b.index(x, row_offset, 4);
    GlobalPtr yrow = b.index(y, row_offset, 4);
    const bool vec4 = k % 4 == 0;
    const uint32_t width = vec4 ? 4 : 1;
    const uint32_t items = k / width;  // float4s or floats per row

    Reg<f32> sumsq = b.mov<f32>(0.0f);
    b.for_range(tid, items, block, [&](Reg<u32> i) {
        Address<Space::global> at = b.index(xrow, i, 4 * width)[0];
        if (vec4) {
            for (Reg<f32> v : b.ld_v<f32, 4>(at, {.nc = true})) b.mov(sumsq, b.fma(v, v, sumsq));
        } else {
            Reg<f32> v = b.ld<f32>(at, {.nc = true});
            b.mov(sumsq, b.fma(v, v, sumsq));
        }
    });
    Reg<f32> total = block_sum(b, sumsq, block);
    Reg<f32> mean = b.mul(total, 1.0f / static_cast<float>(k));
    Reg<f32> scale = b.rsqrt(b.add(mean, static_cast<float>(eps)));

    b.for_range(tid, items, block, [&](Reg<u32> i) {
        Address<Space::global> xa = b.index(xrow, i, 4 * width)[0];
        Address<Space::global> wa = b.index(w, i, 4 * width)[0];
        Address<Space::global> ya = b.index(yrow, i, 4 * width)[0];
        if (vec4) {
            auto xv = b.ld_v<f32, 4>(xa, {.nc = true});
            auto wv = b.ld_v<f32, 4>(wa, {.nc = true});
            Regs<f32, 4> out;
            for (size_t j = 0; j < 4; ++j) out[j] = b.mul(b.mul(xv[j], scale), wv[j]);
            b.st_v<f32, 4>(ya, out);
        } else {
            b.st(ya, b.mul(b.mul(b.ld<f32>(xa, {.nc = true}), scale), b.ld<f32>(wa, {.nc = true})));
        }
    });
    return b.finish();
}

LaunchConfig RmsNorm::launch_config() const {
    LaunchConfig c;
    c.grid = {rows, 1, 1};
    c.block = {block, 1, 1};
    return c;
}

std::vector<ArgSpec> RmsNorm::args() const {
    return {{"x", Role::input, Type::f32, size_t{rows} * k},
            {"w", Role::input, Type::f32, k},
            {"y", Role::output, Type::f32, size_t{rows} * k}};
}

void RmsNorm::reference(std::vector<HostBuffer>& args) const {
    const float* x = args[0].as<float>();
    const float* w = args[1].as<float>();
    float* y = args[2].as<float>();
    for (uint32_t r = 0; r < rows; ++r) {
        const float* xr = x + size_t{r} * k;
        double ss = 0;
        for (uint32_t i = 0; i < k; ++i) ss += double{xr[i]} * xr[i];
        double scale = 1.0 / std::sqrt(ss / k + eps);
        for (uint32_t i = 0; i < k; ++i) y[size_t{r} * k + i] = static_cast<float>(xr[i] * scale * w[i]);
    }
}

}  // namespace kernels
