// Lane mapping: the 8 lanes of a block combine their partial max|x| and quant sums with butterfly
// shuffles over lane masks 1, 2 and 4, which never leave an aligned group of 8 lanes.
#include "q8_1_store.hpp"

namespace kernels {

using namespace ptxgen;

void store_q8_1_block(KernelBuilder& b, const std::array<Reg<f32>, 4>& values, Address<Space::global> q,
                      Address<Space::global> ds, std::optional<Pred> store) {
    Reg<f32> amax = b.abs(values[0]);
    for (size_t i = 1; i < values.size(); ++i) amax = b.max(amax, b.abs(values[i]));
    for (uint32_t mask = 1; mask < kQ8_1LanesPerBlock; mask *= 2) amax = b.max(amax, b.shfl_bfly(amax, mask));

    // The rounding of kernels::quant::quantize_q8_1: d = amax / 127 correctly rounded, id = 1 / d
    // correctly rounded (0 for an all-zero block), q = round-half-even(x * id). The explicit .rn
    // keeps ptxas from contracting anything into an fma.
    Reg<f32> d = b.div(amax, 127.0f, {.round = Round::rn});
    Reg<f32> id = b.selp<f32>(0.0f, b.rcp(d, {.round = Round::rn}), b.setp(Cmp::eq, d, 0.0f));
    std::array<Reg<s32>, 4> quants;
    for (size_t i = 0; i < values.size(); ++i) {
        quants[i] = b.cvt<s32>(b.mul(values[i], id, {.round = Round::rn}), {.round = Round::rni});
    }
    Reg<s32> sum = b.add(b.add(quants[0], quants[1]), b.add(quants[2], quants[3]));
    for (uint32_t mask = 1; mask < kQ8_1LanesPerBlock; mask *= 2) sum = b.add(sum, b.shfl_bfly(sum, mask));
    Reg<f32> s = b.mul(d, b.cvt<f32>(sum, {.round = Round::rn}), {.round = Round::rn});

    // Byte 0 of each quant, in element order: prmt picks byte 0 of a (selector 0) and of b (4).
    Reg<s32> lo = b.prmt(quants[0], quants[1], 0x0040u);
    Reg<s32> hi = b.prmt(quants[2], quants[3], 0x0040u);
    Reg<b32> packed = b.bitcast<b32>(b.prmt(lo, hi, 0x5410u));
    // {d, s} as one 32-bit word: d in the low half (the lower address).
    Reg<b32> pair = b.pack<b32>(b.cvt<f16>(d, {.round = Round::rn}), b.cvt<f16>(s, {.round = Round::rn}));

    Pred first = b.setp(Cmp::eq, b.and_(b.laneid(), kQ8_1LanesPerBlock - 1), 0u);
    Pred write_ds = store ? b.and_(first, *store) : first;
    auto stores = [&] { b.st(q, packed); };
    if (store) b.predicated(*store, stores);
    else stores();
    b.predicated(write_ds, [&] { b.st(ds, pair); });
}

}  // namespace kernels
