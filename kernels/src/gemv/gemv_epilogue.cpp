// Pieces shared by the matrix-vector generators.
#include "gemv_epilogue.hpp"

#include <algorithm>

#include "../q8_1_store.hpp"

namespace kernels::gemv {

ptxgen::LdOpts weight_load_options(const GemvPlan& plan, const ptxgen::Target& target) {
    const uint32_t fetch = target.sm < 80 ? std::min(plan.l2_fetch, 128u) : plan.l2_fetch;
    return ptxgen::LdOpts{.evict = plan.weight_evict, .nc = true, .l2_prefetch = static_cast<uint16_t>(fetch)};
}

using namespace ptxgen;

Params declare_params(KernelBuilder& b, const GemvShape& s, bool q8_in) {
    Params p;
    if (s.epilogue == GemvEpilogue::swiglu) {
        p.w.push_back(b.param_ptr("wg", Type::u8));
        p.w.push_back(b.param_ptr("wu", Type::u8));
    } else {
        p.w.push_back(b.param_ptr("w", Type::u8));
    }
    if (q8_in) {
        p.xq = b.param_ptr("xq", Type::s8);
        p.xds = b.param_ptr("xds", Type::f16);
    } else {
        p.x = b.param_ptr("x", Type::f32);
    }
    if (s.output == GemvOutput::q8_1) {
        p.yq = b.param_ptr("yq", Type::s8);
        p.yds = b.param_ptr("yds", Type::f16);
    } else {
        p.y = b.param_ptr("y", Type::f32);
    }
    return p;
}

Reg<f32> silu_times(KernelBuilder& b, Reg<f32> gate, Reg<f32> up) {
    // silu(g) = g / (1 + e^-g), with e^-g = 2^(-g log2 e).
    Reg<f32> e = b.ex2(b.mul(gate, -1.4426950408889634f));
    return b.mul(b.mul(gate, b.rcp(b.add(e, 1.0f))), up);
}

void quantize_staged(KernelBuilder& b, SharedPtr staged, uint32_t vecs, uint32_t n, uint32_t warps, Reg<u32> warp,
                     Reg<u32> lane, Reg<u32> cta_first, GlobalPtr yq, GlobalPtr yds) {
    Reg<u32> lane8 = b.and_(lane, 7u);
    for (uint32_t v = 0; v < vecs; ++v) {
        b.if_(b.setp(Cmp::eq, warp, v % warps), [&] {
            Regs<f32, 4> values = b.ld_v<f32, 4>(b.index(staged, lane8, 16)[int64_t{v} * 32 * 4]);
            Reg<u32> block_first = b.add(cta_first, v * n);
            store_q8_1_block(b, values, b.index(yq, b.mad_lo(lane8, 4u, block_first), 1)[0],
                             b.index(yds, b.shr(block_first, 5u), 4)[0], b.setp(Cmp::lt, lane, 8u));
        });
    }
}

}  // namespace kernels::gemv
