// What the tensor-core attention kernels (flash_attention, decode_attention's mma variant) share:
// the m16n8k16 fragment types, the f32 -> f16x2 packing of a C fragment into an A fragment, the
// product itself (emulated by shuffles before sm_80), and the 16-byte global -> shared copy that
// cp.async does from sm_80 on.
//
// Fragment layout (PTX ISA, mma.m16n8k16, f16 in, f32 accumulate): lane (g = lane / 4,
// t = lane % 4) holds A rows g and g + 8 at columns 2t, 2t + 1 and 2t + 8, 2t + 9 (registers
// {g, 2t}, {g + 8, 2t}, {g, 2t + 8}, {g + 8, 2t + 8}); B columns g at rows 2t, 2t + 1 and 2t + 8,
// 2t + 9; C rows g and g + 8 at columns 2t, 2t + 1 (registers c0, c1 for row g, c2, c3 for g + 8).
#pragma once

#include "ptxgen/builder.hpp"

namespace kernels::mma_detail {

using Acc = ptxgen::Regs<ptxgen::f32, 4>;  // an m16n8 f32 accumulator fragment
using AFrag = ptxgen::Regs<ptxgen::f16x2, 4>;
using BFrag = ptxgen::Regs<ptxgen::f16x2, 2>;

// Two f32 as one f16x2 (round to nearest), `lo` in the low half (the element of the lower column).
ptxgen::Reg<ptxgen::f16x2> to_f16x2(ptxgen::KernelBuilder& b, ptxgen::Reg<ptxgen::f32> lo, ptxgen::Reg<ptxgen::f32> hi);

// d = a b + c: mma.sync from sm_80, the same product from shuffles and FMAs before (slow; it keeps
// sm_75 correct).
Acc mma(ptxgen::KernelBuilder& b, ptxgen::Reg<ptxgen::u32> lane, const AFrag& a, const BFrag& bf, const Acc& c);

// 16 bytes from `src` to `dst`, or 16 zero bytes (reading nothing) where `inside` is false:
// cp.async.cg from sm_80 (complete after the next commit's wait), a load and a store before.
void copy16(ptxgen::KernelBuilder& b, ptxgen::Address<ptxgen::Space::shared> dst,
            ptxgen::Address<ptxgen::Space::global> src, ptxgen::Pred inside);

}  // namespace kernels::mma_detail
