// Q6_K units: with L = 8 or 16 (plan.unit_weights = 4L), unit j of super-block sb covers half
// h = j / (32 / L) and l = l0 .. l0 + L - 1 with l0 = L (j % (32 / L)): 4L weights, elements
// 128h + 32t + l0 + [0, L) for t = 0..3, read from ql[64h + l0 ..] (t = 0, 2: low / high
// nibbles), ql[64h + 32 + l0 ..] (t = 1, 3) and qh[32h + l0 ..] (2 bits per t). The L weights of
// one t share scale scales[8h + 2t + l0 / 16] and Q8_1 block 8sb + 4h + t. Blocks are 210 bytes,
// so fields are only 2-byte aligned: words are assembled with load_words_align2.
#include "gemv_codec.hpp"

namespace kernels::gemv {

using namespace ptxgen;

namespace {

class Q6kCodec final : public Codec {
public:
    Q6kCodec(bool dp4a, uint32_t k, uint32_t unit_weights)
        : dp4a_(dp4a), k_(k), l_(unit_weights / 4), words_(l_ / 4), per_half_(32 / l_), per_block_(64 / l_) {}
    uint32_t units_per_row() const override { return k_ / 256 * per_block_; }

    void load_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit, WeightUnit& w) const override {
        GlobalPtr block = b.index(row, b.shr(unit, shift(per_block_)), 210);
        Reg<u32> j = b.and_(unit, per_block_ - 1);
        Reg<u32> h = b.shr(j, shift(per_half_));
        Reg<u32> l0 = b.mul_lo(b.and_(j, per_half_ - 1), l_);
        Reg<u32> ql_at = b.add(b.shl(h, 6u), l0);  // 64h + l0
        Reg<u32> qh_at = b.add(b.shl(h, 5u), l0);  // 32h + l0
        for (Reg<u32> r : load_words_align2(b, b.index(block, ql_at, 1), words_, weight_load)) w.raw.push_back(r);
        for (Reg<u32> r : load_words_align2(b, b.offset(b.index(block, ql_at, 1), uint64_t{32}), words_, weight_load)) {
            w.raw.push_back(r);
        }
        for (Reg<u32> r : load_words_align2(b, b.offset(b.index(block, qh_at, 1), uint64_t{128}), words_, weight_load)) {
            w.raw.push_back(r);
        }
        // scales[8h .. 8h + 8)
        for (Reg<u32> r : load_words_align2(b, b.offset(b.index(block, h, 8), uint64_t{192}), 2, weight_load)) w.raw.push_back(r);
        w.h.push_back(b.ld<f16>(block[208], {.nc = true}));
    }

    void prefetch_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit) const override {
        // The unit's low bits (ql) and high bits (qh): with the neighbouring units' they cover
        // the 210-byte blocks.
        GlobalPtr block = b.index(row, b.shr(unit, shift(per_block_)), 210);
        Reg<u32> j = b.and_(unit, per_block_ - 1);
        Reg<u32> l0 = b.mul_lo(b.and_(j, per_half_ - 1), l_);
        Reg<u32> h = b.shr(j, shift(per_half_));
        b.prefetch_l2(b.index(block, b.add(b.shl(h, 6u), l0), 1)[0]);
        b.prefetch_l2(b.index(block, b.add(b.shl(h, 5u), l0), 1)[128]);
    }

    void load_inputs(KernelBuilder& b, const Inputs& in, uint32_t vec, Reg<u32> unit, InputUnit& x) const override {
        Reg<u32> j = b.and_(unit, per_block_ - 1);
        Reg<u32> h = b.shr(j, shift(per_half_));
        // 256 sb + 128 h + l0
        Reg<u32> first = b.add(b.shl(b.shr(unit, shift(per_block_)), 8u), b.mad_lo(b.and_(j, per_half_ - 1), l_, b.shl(h, 7u)));
        if (dp4a_) {
            GlobalPtr q = b.index(in.xq, first, 1);
            for (int64_t t = 0; t < 4; ++t) {
                if (l_ == 8) {
                    for (Reg<s32> r : b.ld_v<s32, 2>(q[int64_t{vec} * k_ + 32 * t], {.nc = true})) x.q.push_back(r);
                } else {
                    for (Reg<s32> r : b.ld_v<s32, 4>(q[int64_t{vec} * k_ + 32 * t], {.nc = true})) x.q.push_back(r);
                }
            }
            Reg<u32> block = b.add(b.shl(b.shr(unit, shift(per_block_)), 3u), b.shl(h, 2u));  // 8 sb + 4 h
            GlobalPtr ds = b.index(in.xds, block, 4);
            for (Reg<u32> pair : b.ld_v<u32, 4>(ds[int64_t{vec} * (k_ / 32) * 4], {.nc = true})) {
                x.f.push_back(half2_to_f32(b, pair).first);
            }
        } else {
            GlobalPtr xs = b.index(in.x, first, 4);
            for (int64_t t = 0; t < 4; ++t) {
                for (uint32_t v4 = 0; v4 < words_; ++v4) {
                    for (Reg<f32> r : b.ld_v<f32, 4>(xs[(int64_t{vec} * k_ + 32 * t + 4 * v4) * 4], {.nc = true})) x.f.push_back(r);
                }
            }
        }
    }

    void decode(KernelBuilder& b, Reg<u32> unit, WeightUnit& w) const override {
        // raw: ql_a[W], ql_b[W], qh[W], scales[2] (W = L / 4 words). q - 32 as a signed byte:
        // q + 96 stays below 256 in every byte, and flipping the top bit subtracts 128.
        for (uint32_t t = 0; t < 4; ++t) {
            for (size_t i = 0; i < words_; ++i) {
                Reg<u32> ql = w.raw[(t % 2) * words_ + i];
                Reg<u32> low4 = b.and_(t >= 2 ? b.shr(ql, 4u) : ql, 0x0F0F0F0Fu);
                Reg<u32> high2 = b.shl(b.and_(b.shr(w.raw[2 * words_ + i], 2 * t), 0x03030303u), 4u);
                Reg<u32> biased = b.add(b.or_(low4, high2), 0x60606060u);  // q + 96
                w.q.push_back(dp4a_ ? b.xor_(biased, 0x80808080u) : biased);
            }
        }
        Reg<f32> d = b.cvt<f32>(w.h[0]);
        // Scale of t: byte 2t + l0 / 16 of the eight loaded.
        Reg<u32> l0 = b.mul_lo(b.and_(unit, per_half_ - 1), l_);
        Reg<u32> pick = b.shl(b.shr(l0, 4u), 3u);  // 8 * (l0 / 16)
        for (uint32_t t = 0; t < 4; ++t) {
            Reg<u32> word = w.raw[3 * words_ + t / 2];
            Reg<s32> sc = b.bfe(b.bitcast<s32>(word), b.add(pick, 16 * (t % 2)), 8u);
            w.f.push_back(b.mul(d, b.cvt<f32>(sc, {.round = Round::rn})));
        }
        if (!dp4a_) {
            for (size_t i = 0; i < 4 * words_; ++i) {
                for (Reg<f32> v : bytes_to_f32(b, w.q[i], 128.0f)) w.f.push_back(v);
            }
        }
    }

    void accumulate(KernelBuilder& b, const WeightUnit& w, const InputUnit& x, Reg<f32> acc) const override {
        for (size_t t = 0; t < 4; ++t) {
            if (dp4a_) {
                Reg<f32> dot = b.cvt<f32>(dot_words(b, w.q, words_ * t, x.q, words_ * t, words_, true), {.round = Round::rn});
                b.mov(acc, b.fma(b.mul(w.f[t], x.f[t]), dot, acc));
            } else {
                Reg<f32> qx = b.mov<f32>(0.0f);
                for (size_t i = 0; i < l_; ++i) qx = b.fma(w.f[4 + l_ * t + i], x.f[l_ * t + i], qx);
                b.mov(acc, b.fma(w.f[t], qx, acc));
            }
        }
    }

private:
    static uint32_t shift(uint32_t v) { return v == 8 ? 3u : v == 4 ? 2u : 1u; }
    bool dp4a_;
    uint32_t k_;
    uint32_t l_;          // L: values of l per unit
    uint32_t words_;      // L / 4
    uint32_t per_half_;   // units per half super-block
    uint32_t per_block_;  // units per super-block
};

}  // namespace

std::unique_ptr<Codec> make_q6k_codec(bool dp4a, uint32_t k, uint32_t unit_weights) {
    return std::make_unique<Q6kCodec>(dp4a, k, unit_weights);
}

}  // namespace kernels::gemv
