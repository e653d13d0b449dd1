// The m16n8k16 helpers the tensor-core attention kernels share (see mma_fragments.hpp).
#include "mma_fragments.hpp"

#include <array>

namespace kernels::mma_detail {

using namespace ptxgen;

namespace {

// mma.sync m16n8k16 before sm_80 does not exist: the same product from the same fragments. In step
// tp (a device loop, to keep the code small) every lane fetches from lane 4g + tp the A elements of
// its rows g, g + 8 at k = 2tp, 2tp + 1, 2tp + 8, 2tp + 9, and from lanes 4(2t + e) + tp the B
// elements of its columns 2t + e at the same k. Slow; it keeps sm_75 correct.
Acc emulated_mma(KernelBuilder& b, Reg<u32> lane, const AFrag& a, const BFrag& bf, const Acc& c) {
    Reg<u32> group_base = b.and_(lane, 0xfffffffcu);
    Reg<u32> t8 = b.shl(b.and_(lane, 3u), 3u);
    auto halves = [&](Reg<f16x2> v) {
        Regs<f16, 2> h = b.unpack<f16>(v);
        return std::array<Reg<f32>, 2>{b.cvt<f32>(h[0]), b.cvt<f32>(h[1])};
    };
    Acc d;
    for (uint32_t i = 0; i < 4; ++i) d[i] = b.mov<f32>(c[i]);
    b.for_range(0u, 4u, 1, [&](Reg<u32> tp) {
        // av[i][h]: A(g + 8 (i % 2), 2tp + 8 (i / 2) + h); bv[e][j][h]: B(2tp + 8j + h, 2t + e).
        std::array<std::array<Reg<f32>, 2>, 4> av;
        Reg<u32> src_a = b.or_(group_base, tp);
        for (uint32_t i = 0; i < 4; ++i) av[i] = halves(b.shfl_idx(a[i], src_a));
        std::array<std::array<std::array<Reg<f32>, 2>, 2>, 2> bv;
        for (uint32_t e = 0; e < 2; ++e) {
            Reg<u32> src_b = b.add(t8, b.add(tp, 4 * e));
            for (uint32_t j = 0; j < 2; ++j) bv[e][j] = halves(b.shfl_idx(bf[j], src_b));
        }
        for (uint32_t i = 0; i < 4; ++i) {
            const uint32_t r = i / 2, e = i % 2;
            Reg<f32> acc = d[i];
            for (uint32_t j = 0; j < 2; ++j)
                for (uint32_t h = 0; h < 2; ++h) acc = b.fma(av[r + 2 * j][h], bv[e][j][h], acc);
            b.mov(d[i], acc);
        }
    }, Unroll{1});
    return d;
}

}  // namespace

Reg<f16x2> to_f16x2(KernelBuilder& b, Reg<f32> lo, Reg<f32> hi) {
    if (b.target().sm >= 80) return b.cvt_pair<f16x2>(hi, lo);
    return b.pack<f16x2>(b.cvt<f16>(lo, {.round = Round::rn}), b.cvt<f16>(hi, {.round = Round::rn}));
}

Acc mma(KernelBuilder& b, Reg<u32> lane, const AFrag& a, const BFrag& bf, const Acc& c) {
    if (b.target().sm >= 80) return b.mma_m16n8k16(a, bf, c);
    return emulated_mma(b, lane, a, bf, c);
}

void copy16(KernelBuilder& b, Address<Space::shared> dst, Address<Space::global> src, Pred inside) {
    if (b.target().sm >= 80) {
        b.cp_async(dst, src, 16, CpAsyncCache::cg, b.selp<u32>(16u, 0u, inside));
        return;
    }
    Regs<b32, 4> v = b.ld_v<b32, 4>(src);
    for (auto& x : v) x = b.selp<b32>(x, 0u, inside);
    b.st_v<b32, 4>(dst, v);
}

}  // namespace kernels::mma_detail
