// Pieces shared by the matrix-vector generators (gemv_build.cpp and gemv_mma.cpp): parameters,
// weight-load options, the SwiGLU and Q8_1 output epilogues.
#pragma once

#include <vector>

#include "kernels/gemv.hpp"
#include "ptxgen/builder.hpp"

namespace kernels::gemv {

// A product's parameters, declared in the order Gemv::args() lists them: the weights (w, or wg
// and wu for SwiGLU), the input (xq and xds for Q8_1, else x), the output (y, or yq and yds).
struct Params {
    std::vector<ptxgen::GlobalPtr> w;
    ptxgen::GlobalPtr xq, xds, x, y, yq, yds;
};
Params declare_params(ptxgen::KernelBuilder& b, const GemvShape& s, bool q8_in);

// The options of the weight loads: read-only path, the plan's L1 policy and L2 fetch size
// (256 bytes becomes 128 below sm_80, where ptxas knows no .L2::256B).
ptxgen::LdOpts weight_load_options(const GemvPlan& plan, const ptxgen::Target& target);

// silu(gate) * up, for the SwiGLU epilogue.
ptxgen::Reg<ptxgen::f32> silu_times(ptxgen::KernelBuilder& b, ptxgen::Reg<ptxgen::f32> gate, ptxgen::Reg<ptxgen::f32> up);

// Q8_1 output of a CTA whose 32 consecutive rows (from row cta_first) are staged in shared memory
// as f32, vector v's at staged[v * 32 .. v * 32 + 31], already written and followed by a barrier.
// Warp v % warps quantises vector v's block with its first 8 lanes (q8_1_store.hpp).
void quantize_staged(ptxgen::KernelBuilder& b, ptxgen::SharedPtr staged, uint32_t vecs, uint32_t n, uint32_t warps,
                     ptxgen::Reg<ptxgen::u32> warp, ptxgen::Reg<ptxgen::u32> lane, ptxgen::Reg<ptxgen::u32> cta_first,
                     ptxgen::GlobalPtr yq, ptxgen::GlobalPtr yds);

}  // namespace kernels::gemv
