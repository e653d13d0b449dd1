// Thread mapping: the rows are contiguous and k is a multiple of 32, so the Q8_1 layout of the
// whole input is that of one flat vector of rows*k values. Thread c of the grid reads values
// 4c..4c+3 with one 16-byte load; the 8 consecutive lanes holding a 32-value block quantise it
// together (q8_1_store.cpp), each writing its 4 quants, the block's first lane its {d, s}.
// Threads past the end load the last valid float4 (so that no lane of a warp leaves before the
// shuffles) and store nothing.
#include "kernels/quantize_q8_1.hpp"

#include <fmt/format.h>

#include "kernels/quant.hpp"
#include "kernels/shape.hpp"
#include "ptxgen/error.hpp"
#include "q8_1_store.hpp"

namespace kernels {

using namespace ptxgen;

FamilyInfo QuantizeQ8_1::info() {
    return {"quantize_q8_1",
            "f32 rows -> Q8_1 activations (int8 quants + f16 {d, s} per 32 values), 4 values per thread",
            {ParamSpec{"rows", ParamKind::integer, "number of rows", "1", 1, 65535, {}},
             ParamSpec{"k", ParamKind::integer, "row length (a multiple of 32)", "4096", 32, 1 << 20, {}},
             block_param()},
            {ParamValues{{"rows", "3"}, {"k", "96"}, {"block", "64"}},
             ParamValues{{"rows", "5"}, {"k", "32"}, {"block", "32"}},
             ParamValues{{"rows", "2"}, {"k", "4096"}}}};
}

QuantizeQ8_1 QuantizeQ8_1::from(const ParamValues& v) {
    QuantizeQ8_1 f{static_cast<uint32_t>(v.integer("rows")), static_cast<uint32_t>(v.integer("k")), checked_block(v)};
    if (f.k % 32 != 0) {
        throw ptxsmith::Error(fmt::format("quantize_q8_1: --k {} is not a multiple of 32 (the Q8_1 block size)", f.k));
    }
    if (uint64_t{f.rows} * f.k > 0xffffffffu) {
        throw ptxsmith::Error(
            fmt::format("quantize_q8_1: --rows {} times --k {} exceeds 2^32 - 1 values", f.rows, f.k));
    }
    return f;
}

std::string QuantizeQ8_1::name() const { return fmt::format("quantize_q8_1_r{}_k{}_b{}", rows, k, block); }

Kernel QuantizeQ8_1::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr q = b.param_ptr("q", Type::s8);
    GlobalPtr ds = b.param_ptr("ds", Type::f16);
    b.reqntid(block);
    // The product that reads these activations may start now and load its weights meanwhile
    // (it waits for this kernel before reading them; programmatic dependent launch, sm_90).
    if (target.sm >= 90) b.griddep_launch_dependents();
    // Everything below reads or writes what earlier kernels touch: wait for them, so that this
    // kernel may be launched to overlap its predecessor's tail (programmatic dependent launch).
    if (target.sm >= 90) b.griddep_wait();
    const uint32_t chunks = rows * k / 4;  // float4s in the input
    Reg<u32> at = b.global_index_x();
    std::optional<Pred> in_range;
    if (chunks % block != 0) {
        in_range = b.setp(Cmp::lt, at, chunks);
        at = b.min(at, chunks - 1);
    }
    std::array<Reg<f32>, 4> v = b.ld_v<f32, 4>(b.index(x, at, 16)[0], {.nc = true});
    // Quants: 4 bytes per thread; {d, s}: 4 bytes per block of 8 threads.
    store_q8_1_block(b, v, b.index(q, at, 4)[0], b.index(ds, b.shr(at, 3u), 4)[0], in_range);
    return b.finish();
}

LaunchConfig QuantizeQ8_1::launch_config() const { return launch_1d(rows * k / 4, block); }

std::vector<ArgSpec> QuantizeQ8_1::args() const {
    const size_t n = size_t{rows} * k;
    return {{"x", Role::input, Type::f32, n},
            {"q", Role::output, Type::s8, n},
            {"ds", Role::output, Type::f16, 2 * n / 32}};
}

void QuantizeQ8_1::reference(std::vector<HostBuffer>& args) const {
    quant::quantize_q8_1(args[0].as<float>(), int64_t{rows} * k, args[1].as<int8_t>(), args[2].as<uint16_t>());
}

}  // namespace kernels
