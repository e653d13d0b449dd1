// Reductions that several kernels share, emitted inline into the caller's kernel.
#pragma once

#include "ptxgen/builder.hpp"

namespace kernels {

// Sum of `v` over the 32 lanes of the warp, in every lane (butterfly shuffles).
ptxgen::Reg<ptxgen::f32> warp_sum(ptxgen::KernelBuilder& b, ptxgen::Reg<ptxgen::f32> v);

// Sum of `v` over the CTA's `threads` threads (a multiple of 32), returned in every thread.
// Uses a shared array of one float per warp, declared here under `scratch_name`.
ptxgen::Reg<ptxgen::f32> block_sum(ptxgen::KernelBuilder& b, ptxgen::Reg<ptxgen::f32> v, uint32_t threads,
                                   const std::string& scratch_name = "warp_sums");

}  // namespace kernels
