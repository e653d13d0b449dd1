// Thread mapping: CTA r normalises row r. Thread t owns float4s t, t + block, ... of the row
// (16-byte loads), one per step; the sum of squares is combined across the CTA (reduce.cpp), and
// in each step the 8 consecutive threads holding a 32-value block scale their values by the row's
// factor and the weights and quantise them (q8_1_store.cpp). Rows of at most kMaxCachedSteps steps
// load x and w once, up front, and keep them in registers; longer rows read them again in a loop.
// Every thread takes every step, so that whole warps reach the shuffles: in a partial last step,
// threads past the row's end read its last float4 and store nothing (k is a multiple of 32 and
// the CTA a whole number of warps, so a block's 8 lanes agree on that).
#include "kernels/rmsnorm_q8_1.hpp"

#include <fmt/format.h>

#include <cmath>

#include "kernels/quant.hpp"
#include "kernels/reduce.hpp"
#include "kernels/shape.hpp"
#include "ptxgen/error.hpp"
#include "q8_1_store.hpp"

namespace kernels {

using namespace ptxgen;

namespace {
// Rows of at most this many steps keep their x and w float4s in registers (8 registers a step).
constexpr uint32_t kMaxCachedSteps = 8;
}  // namespace

FamilyInfo RmsNormQ8_1::info() {
    return {"rmsnorm_q8_1",
            "rmsnorm of each row times w, written as Q8_1 activations (int8 quants + f16 {d, s} per 32 values), "
            "one CTA per row",
            {ParamSpec{"rows", ParamKind::integer, "number of rows (one CTA each)", "1", 1, 65535, {}},
             ParamSpec{"k", ParamKind::integer, "row length (a multiple of 32)", "4096", 32, 1 << 20, {}},
             ParamSpec{"eps", ParamKind::real, "added to the mean square", "1e-05", 0, 1, {}},
             block_param()},
            {ParamValues{{"rows", "3"}, {"k", "96"}, {"block", "64"}},
             ParamValues{{"rows", "2"}, {"k", "2080"}, {"eps", "1e-06"}, {"block", "128"}},
             ParamValues{{"rows", "2"}, {"k", "4096"}},
             ParamValues{{"rows", "2"}, {"k", "1056"}, {"block", "32"}}}};
}

RmsNormQ8_1 RmsNormQ8_1::from(const ParamValues& v) {
    RmsNormQ8_1 f{static_cast<uint32_t>(v.integer("rows")), static_cast<uint32_t>(v.integer("k")), v.real("eps"),
                  checked_block(v)};
    if (f.k % 32 != 0) {
        throw ptxsmith::Error(fmt::format("rmsnorm_q8_1: --k {} is not a multiple of 32 (the Q8_1 block size)", f.k));
    }
    if (uint64_t{f.rows} * f.k > 0xffffffffu) {  // element offsets are 32-bit
        throw ptxsmith::Error(
            fmt::format("rmsnorm_q8_1: --rows {} times --k {} exceeds 2^32 - 1 values", f.rows, f.k));
    }
    return f;
}

std::string RmsNormQ8_1::name() const {
    return fmt::format("rmsnorm_q8_1_r{}_k{}_eps{}_b{}", rows, k, name_number(eps), block);
}

std::string RmsNormQ8_1::notes() const {
    const uint32_t steps = (k / 4 + block - 1) / block;
    return fmt::format("{} step{} of {} float4s: {}", steps, steps == 1 ? "" : "s", block,
                       steps <= kMaxCachedSteps ? "x and w loaded once and held in registers"
                                                : "x and w read again in the quantising loop");
}

Kernel RmsNormQ8_1::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr w = b.param_ptr("w", Type::f32);
    GlobalPtr q = b.param_ptr("q", Type::s8);
    GlobalPtr ds = b.param_ptr("ds", Type::f16);
    b.reqntid(block);
    // The product that reads these activations may start now and load its weights meanwhile
    // (it waits for this kernel before reading them; programmatic dependent launch, sm_90).
    if (target.sm >= 90) b.griddep_launch_dependents();
    // Everything below reads or writes what earlier kernels touch: wait for them, so that this
    // kernel may be launched to overlap its predecessor's tail (programmatic dependent launch).
    if (target.sm >= 90) b.griddep_wait();
    Reg<u32> row = b.ctaid_x();
    Reg<u32> tid = b.tid_x();
    Reg<u32> row_offset = b.mul_lo(row, k);
    GlobalPtr xrow = b.index(x, row_offset, 4);
    GlobalPtr qrow = b.index(q, row_offset, 1);
    GlobalPtr dsrow = b.index(ds, b.mul_lo(row, k / 32), 4);  // one 4-byte {d, s} pair per 32 values
    const uint32_t items = k / 4;  // float4s per row

    const uint32_t steps = (items + block - 1) / block;
    const bool partial = items % block != 0;
    // Step j's float4 index for this thread, and (in a partial last step) whether it is in the row;
    // a thread past the end takes the row's last float4 so that its warp stays whole.
    auto place = [&](Reg<u32> i, bool last) {
        std::optional<Pred> in_row;
        if (last && partial) {
            in_row = b.setp(Cmp::lt, i, items);
            i = b.min(i, items - 1);
        }
        return std::pair{i, in_row};
    };
    auto scale_and_store = [&](Reg<u32> i, std::optional<Pred> in_row, const Regs<f32, 4>& xv, const Regs<f32, 4>& wv,
                               Reg<f32> scale) {
        std::array<Reg<f32>, 4> y;
        for (size_t j = 0; j < 4; ++j) y[j] = b.mul(b.mul(xv[j], scale), wv[j]);
        store_q8_1_block(b, y, b.index(qrow, i, 4)[0], b.index(dsrow, b.shr(i, 3u), 4)[0], in_row);
    };
    auto row_scale = [&](Reg<f32> sumsq) {
        Reg<f32> total = block_sum(b, sumsq, block);
        Reg<f32> mean = b.mul(total, 1.0f / static_cast<float>(k));
        return b.rsqrt(b.add(mean, static_cast<float>(eps)));
    };

    Reg<f32> sumsq = b.mov<f32>(0.0f);
    if (steps <= kMaxCachedSteps) {
        // Short rows: every load of x and w is issued up front and x stays in registers, so the
        // row costs one round of memory latency rather than one per step.
        std::vector<std::pair<Reg<u32>, std::optional<Pred>>> at;
        std::vector<Regs<f32, 4>> xs, ws;
        for (uint32_t j = 0; j < steps; ++j) {
            at.push_back(place(j == 0 ? tid : b.add(tid, j * block), j + 1 == steps));
            xs.push_back(b.ld_v<f32, 4>(b.index(xrow, at[j].first, 16)[0], {.nc = true}));
            ws.push_back(b.ld_v<f32, 4>(b.index(w, at[j].first, 16)[0], {.nc = true}));
        }
        for (uint32_t j = 0; j < steps; ++j) {
            Reg<f32> part = b.mov<f32>(0.0f);
            for (Reg<f32> v : xs[j]) b.mov(part, b.fma(v, v, part));
            if (at[j].second) part = b.selp<f32>(part, 0.0f, *at[j].second);
            b.mov(sumsq, b.add(sumsq, part));
        }
        Reg<f32> scale = row_scale(sumsq);
        for (uint32_t j = 0; j < steps; ++j) scale_and_store(at[j].first, at[j].second, xs[j], ws[j], scale);
    } else {
        b.for_range(tid, items, block, [&](Reg<u32> i) {
            for (Reg<f32> v : b.ld_v<f32, 4>(b.index(xrow, i, 16)[0], {.nc = true})) b.mov(sumsq, b.fma(v, v, sumsq));
        });
        Reg<f32> scale = row_scale(sumsq);
        // Long rows read x again (from L1/L2) in steps that every thread takes together.
        b.for_range(0u, steps, 1, [&](Reg<u32> step) {
            auto [i, in_row] = place(b.mad_lo(step, block, tid), true);
            auto xv = b.ld_v<f32, 4>(b.index(xrow, i, 16)[0], {.nc = true});
            auto wv = b.ld_v<f32, 4>(b.index(w, i, 16)[0], {.nc = true});
            scale_and_store(i, in_row, xv, wv, scale);
        });
    }
    return b.finish();
}

LaunchConfig RmsNormQ8_1::launch_config() const {
    LaunchConfig c;
    c.grid = {rows, 1, 1};
    c.block = {block, 1, 1};
    return c;
}

std::vector<ArgSpec> RmsNormQ8_1::args() const {
    const size_t n = size_t{rows} * k;
    return {{"x", Role::input, Type::f32, n},
            {"w", Role::input, Type::f32, k},
            {"q", Role::output, Type::s8, n},
            {"ds", Role::output, Type::f16, 2 * n / 32}};
}

void RmsNormQ8_1::reference(std::vector<HostBuffer>& args) const {
    const float* x = args[0].as<float>();
    const float* w = args[1].as<float>();
    std::vector<float> y(k);
    for (uint32_t r = 0; r < rows; ++r) {
        const float* xr = x + size_t{r} * k;
        double ss = 0;
        for (uint32_t i = 0; i < k; ++i) ss += double{xr[i]} * xr[i];
        const double factor = 1.0 / std::sqrt(ss / k + eps);
        for (uint32_t i = 0; i < k; ++i) y[i] = static_cast<float>(xr[i] * factor * w[i]);
        // Row r's quants start at r * k, its {d, s} pairs (two f16 per 32 values) at r * k / 16.
        quant::quantize_q8_1(y.data(), k, args[2].as<int8_t>() + size_t{r} * k,
                             args[3].as<uint16_t>() + size_t{r} * k / 16);
    }
}

}  // namespace kernels
