// Q4_K units: with P = 16 or 32 bytes of quants per unit (plan.unit_weights = 2P), unit j of
// super-block sb is qs[Pj .. Pj + P) of its 144-byte block, 2P weights: the low nibbles are
// elements 64c + o + [0, P) of sub-block 2c and the high nibbles elements 64c + 32 + o + [0, P)
// of sub-block 2c + 1 (c = Pj / 32, o = Pj % 32). The lane also loads the block's 16-byte header
// (d, dmin, packed scales), which the lanes of a block share through L1. Blocks are
// 144 = 9 x 16 bytes, so every load is a 16-byte vector load. Wider units halve the scale
// decoding per weight; narrower ones put more lanes on short rows.
#include <fmt/format.h>

#include "gemv_codec.hpp"
#include "ptxgen/error.hpp"

namespace kernels::gemv {

using namespace ptxgen;

namespace {

// Scale and min of sub-block j (a register, 0..7) from the header's scale words s0 = scales[0..3],
// s1 = scales[4..7], s2 = scales[8..11] (formats.md): for j < 4 the low 6 bits of scales[j] and
// scales[j + 4]; for j >= 4 four bits from scales[j + 4] and the top two of scales[j - 4] / scales[j].
std::pair<Reg<u32>, Reg<u32>> scale_and_min(KernelBuilder& b, Reg<u32> j, Reg<u32> s0, Reg<u32> s1, Reg<u32> s2) {
    Reg<u32> pos = b.shl(b.and_(j, 3u), 3u);
    Reg<u32> b0 = b.bfe(s0, pos, 8u);
    Reg<u32> b1 = b.bfe(s1, pos, 8u);
    Reg<u32> b2 = b.bfe(s2, pos, 8u);
    Pred low = b.setp(Cmp::lt, j, 4u);
    Reg<u32> sc_high = b.or_(b.and_(b2, 15u), b.shl(b.shr(b0, 6u), 4u));
    Reg<u32> m_high = b.or_(b.shr(b2, 4u), b.shl(b.shr(b1, 6u), 4u));
    Reg<u32> sc = b.selp<u32>(b.and_(b0, 63u), sc_high, low);
    Reg<u32> m = b.selp<u32>(b.and_(b1, 63u), m_high, low);
    return {sc, m};
}

class Q4kCodec final : public Codec {
public:
    Q4kCodec(bool dp4a, uint32_t k, uint32_t unit_weights)
        : dp4a_(dp4a), k_(k), bytes_(unit_weights / 2), words_(bytes_ / 4), per_block_(128 / bytes_) {}
    uint32_t units_per_row() const override { return k_ / 256 * per_block_; }

    void load_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit, WeightUnit& w) const override {
        GlobalPtr block = b.index(row, b.shr(unit, log2(per_block_)), 144);
        GlobalPtr piece = b.index(block, b.and_(unit, per_block_ - 1), bytes_);
        for (uint32_t v = 0; v < words_ / 4; ++v) {
            for (Reg<u32> r : b.ld_v<u32, 4>(piece[16 + 16 * int64_t{v}], weight_load)) w.raw.push_back(r);
        }
        for (Reg<u32> r : b.ld_v<u32, 4>(block[0], {.nc = true})) w.raw.push_back(r);
    }

    void prefetch_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit) const override {
        // The header shares a line with the quants of its block or the previous block's.
        GlobalPtr block = b.index(row, b.shr(unit, log2(per_block_)), 144);
        b.prefetch_l2(b.index(block, b.and_(unit, per_block_ - 1), bytes_)[16]);
    }

    void load_inputs(KernelBuilder& b, const Inputs& in, uint32_t vec, Reg<u32> unit, InputUnit& x) const override {
        // First element of the unit's low half: 256 sb + 64c + o = 256 sb + 2 P j - o (o = Pj % 32).
        Reg<u32> j = b.and_(unit, per_block_ - 1);
        Reg<u32> pj = b.mul_lo(j, bytes_);
        Reg<u32> first = b.add(b.shl(b.shr(unit, log2(per_block_)), 8u), b.sub(b.shl(pj, 1u), b.and_(pj, 31u)));
        if (dp4a_) {
            GlobalPtr q = b.index(in.xq, first, 1);
            for (int64_t half : {0, 32}) {
                for (uint32_t v = 0; v < words_ / 4; ++v) {
                    for (Reg<s32> r : b.ld_v<s32, 4>(q[int64_t{vec} * k_ + half + 16 * v], {.nc = true})) x.q.push_back(r);
                }
            }
            // Q8_1 blocks 2c and 2c + 1 of the super-block: their (d, s) pairs are adjacent.
            Reg<u32> block = b.add(b.shl(b.shr(unit, log2(per_block_)), 3u), b.and_(b.shr(pj, 4u), ~1u));
            GlobalPtr ds = b.index(in.xds, block, 4);
            Regs<u32, 2> pair = b.ld_v<u32, 2>(ds[int64_t{vec} * (k_ / 32) * 4], {.nc = true});
            x.f.push_back(half2_to_f32(b, pair[0]).first);
            x.f.push_back(half2_to_f32(b, pair[1]).first);
        } else {
            GlobalPtr xs = b.index(in.x, first, 4);
            for (int64_t half : {0, 32}) {
                for (uint32_t v4 = 0; v4 < words_; ++v4) {
                    for (Reg<f32> r : b.ld_v<f32, 4>(xs[(int64_t{vec} * k_ + half + 4 * v4) * 4], {.nc = true})) x.f.push_back(r);
                }
            }
        }
    }

    void decode(KernelBuilder& b, Reg<u32> unit, WeightUnit& w) const override {
        for (size_t i = 0; i < words_; ++i) w.q.push_back(b.and_(w.raw[i], 0x0F0F0F0Fu));
        for (size_t i = 0; i < words_; ++i) w.q.push_back(b.and_(b.shr(w.raw[i], 4u), 0x0F0F0F0Fu));
        const size_t hdr = words_;
        auto [d, dmin] = half2_to_f32(b, w.raw[hdr]);
        // Sub-block 2c (c = Pj / 32) for the low nibbles; 2c + 1 for the high ones.
        Reg<u32> j_low = b.and_(b.shr(b.mul_lo(b.and_(unit, per_block_ - 1), bytes_), 4u), ~1u);
        auto [sc_lo, m_lo] = scale_and_min(b, j_low, w.raw[hdr + 1], w.raw[hdr + 2], w.raw[hdr + 3]);
        auto [sc_hi, m_hi] = scale_and_min(b, b.add(j_low, 1u), w.raw[hdr + 1], w.raw[hdr + 2], w.raw[hdr + 3]);
        Reg<f32> ndmin = b.neg(dmin);
        w.f = {b.mul(d, b.cvt<f32>(sc_lo, {.round = Round::rn})), b.mul(d, b.cvt<f32>(sc_hi, {.round = Round::rn})),
               b.mul(ndmin, b.cvt<f32>(m_lo, {.round = Round::rn})), b.mul(ndmin, b.cvt<f32>(m_hi, {.round = Round::rn}))};
        if (!dp4a_) {
            // The quants as floats, low half then high half, in element order.
            for (size_t i = 0; i < 2 * words_; ++i) {
                for (Reg<f32> v : bytes_to_f32(b, w.q[i], 0.0f)) w.f.push_back(v);
            }
        }
    }

    void prepare_inputs(KernelBuilder& b, InputUnit& x) const override {
        // The sums of the quants of each half (the min term), exact, shared by every row:
        // appended to x.f after the two block scales.
        if (!dp4a_) return;
        for (size_t half = 0; half < 2; ++half) {
            x.f.push_back(b.cvt<f32>(sum_bytes(b, x.q, words_ * half, words_), {.round = Round::rn}));
        }
    }

    void accumulate(KernelBuilder& b, const WeightUnit& w, const InputUnit& x, Reg<f32> acc) const override {
        if (dp4a_) {
            // sum over the unit of (d sc q - dmin m) * dx * qx, per half, with exact integer sums.
            for (size_t half = 0; half < 2; ++half) {
                Reg<f32> dot = b.cvt<f32>(dot_words(b, w.q, words_ * half, x.q, words_ * half, words_, false), {.round = Round::rn});
                Reg<f32> sum = x.f[2 + half];
                Reg<f32> t = b.fma(w.f[half], dot, b.mul(w.f[2 + half], sum));
                b.mov(acc, b.fma(t, x.f[half], acc));
            }
        } else {
            for (size_t half = 0; half < 2; ++half) {
                Reg<f32> qx = b.mov<f32>(0.0f);
                Reg<f32> sx = b.mov<f32>(0.0f);
                for (size_t i = 0; i < bytes_; ++i) {
                    qx = b.fma(w.f[4 + bytes_ * half + i], x.f[bytes_ * half + i], qx);
                    sx = b.add(sx, x.f[bytes_ * half + i]);
                }
                b.mov(acc, b.fma(w.f[half], qx, b.fma(w.f[2 + half], sx, acc)));
            }
        }
    }

private:
    static uint32_t log2(uint32_t v) { return v == 8 ? 3u : 2u; }
    bool dp4a_;
    uint32_t k_;
    uint32_t bytes_;      // P: quant bytes per unit
    uint32_t words_;      // P / 4
    uint32_t per_block_;  // units per super-block
};

}  // namespace

std::unique_ptr<Codec> make_q4k_codec(bool dp4a, uint32_t k, uint32_t unit_weights) {
    return std::make_unique<Q4kCodec>(dp4a, k, unit_weights);
}

}  // namespace kernels::gemv
