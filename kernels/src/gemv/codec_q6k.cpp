// Q6_K units: with L = 8 or 16 (plan.unit_weights = 4L), unit j of super-block sb covers half
// h = j / (32 / L) and l = l0 .. l0 + L - 1 with l0 = L (j % (32 / L)): 4L weights, elements
// 128h + 32t + l0 + [0, L) for t = 0..3, read from ql[64h + l0 ..] (t = 0, 2: low / high
// nibbles), ql[64h + 32 + l0 ..] (t = 1, 3) and qh[32h + l0 ..] (2 bits per t). The L weights of
// one t share scale scales[8h + 2t + l0 / 16] and Q8_1 block 8sb + 4h + t.
//
// Blocks are 210 bytes, so a block starts 0 or 2 bytes past a 4-byte boundary (o), and every field
// of a unit (all at offsets that are multiples of 4) with it: the loads are 4-byte words from the
// aligned address below the block, one more per field than it needs, and decode picks the bytes
// with prmt. Decoding after the loop-carried copy (not at the load) keeps the software pipeline's
// loads in flight across its back edge. The extra word of the quant fields stays inside the block;
// that of the scales would not (o = 0, h = 1), so it is a 16-bit load of their last two bytes.
//
// dp4a: the quants enter unsigned (q = 0..63, (low nibble) | (2 high bits) << 4: one shift and one
// lop3 per word and t) and the -32 offset comes from the input side: each t's integer dot starts
// from c_t = -32 * (sum of the L input quants), computed once per unit and vector for every row.
// The scale multiplies the integer dot (exact in 32 bits and in f32: |sc dot| < 2^24), the sum over
// t carries the Q8_1 scales, and d is applied once per unit:
//   acc += d * sum_t dx_t * (sc_t * (c_t + sum q x)).
//
// Staged (plan.staged: units of 32, K % 1024 == 0, so a step's 32 units are four whole blocks and
// every step starts 8-byte aligned): load_weights issues the warp's coalesced 8-byte loads of the
// step's 840 bytes (lane l: pieces l + 32c); decode stores them into the warp's shared slot,
// syncs the warp, and reads the unit's aligned words from there (block b of the step starts at
// 210 b, so o = 2 (b % 2)); the rest is the unstaged decode.
#include <optional>

#include "gemv_codec.hpp"

namespace kernels::gemv {

using namespace ptxgen;

namespace {

class Q6kCodec final : public Codec {
public:
    Q6kCodec(bool dp4a, uint32_t k, uint32_t unit_weights, uint32_t staged_warps)
        : dp4a_(dp4a), k_(k), l_(unit_weights / 4), words_(l_ / 4), per_half_(32 / l_), per_block_(64 / l_),
          staged_warps_(staged_warps) {}
    uint32_t units_per_row() const override { return k_ / 256 * per_block_; }

    void load_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit, WeightUnit& w) const override {
        if (staged_warps_) {
            // The step's 32 units are its four blocks, 840 bytes from (unit / 32) * 840: 105
            // 8-byte pieces, piece lane + 32c for c = 0..3 (the last clamped; decode stores it
            // only where it is in range). raw: the 4 pieces as 8 words.
            GlobalPtr step = b.index(row, b.shr(unit, 5u), kStepBytes);
            Reg<u32> lane = b.and_(unit, 31u);
            for (uint32_t c = 0; c < kPiecesPerLane; ++c) {
                Reg<u32> piece = c + 1 < kPiecesPerLane ? b.add(lane, 32 * c) : b.min(b.add(lane, 32 * c), kPieces - 1);
                for (Reg<u32> r : b.ld_v<u32, 2>(b.index(step, piece, 8)[0], weight_load)) w.raw.push_back(r);
            }
            return;
        }
        GlobalPtr block = b.index(row, b.shr(unit, shift(per_block_)), 210);
        Reg<u32> j = b.and_(unit, per_block_ - 1);
        Reg<u32> h = b.shr(j, shift(per_half_));
        Reg<u32> l0 = b.mul_lo(b.and_(j, per_half_ - 1), l_);
        GlobalPtr aligned{b.and_(block.reg, ~uint64_t{3})};
        GlobalPtr ql = b.index(aligned, b.add(b.shl(h, 6u), l0), 1);  // aligned + 64h + l0
        GlobalPtr qh = b.index(aligned, b.add(b.shl(h, 5u), l0), 1);  // aligned + 32h + l0
        // raw: ql_a[W + 1], ql_b[W + 1], qh[W + 1] (W = L / 4), scales[3], o.
        for (int64_t field : {int64_t{0}, int64_t{32}}) {
            for (uint32_t i = 0; i <= words_; ++i) w.raw.push_back(b.ld<u32>(ql[field + 4 * i], weight_load));
        }
        for (uint32_t i = 0; i <= words_; ++i) w.raw.push_back(b.ld<u32>(qh[128 + 4 * int64_t{i}], weight_load));
        GlobalPtr scales = b.index(aligned, h, 8);  // aligned + 8h
        w.raw.push_back(b.ld<u32>(scales[192], weight_load));
        w.raw.push_back(b.ld<u32>(scales[196], weight_load));
        w.raw.push_back(b.cvt<u32>(b.ld<u16>(b.index(block, h, 8)[198], weight_load)));
        w.raw.push_back(b.and_(b.cvt<u32>(block.reg), 2u));
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

    void prepare_inputs(KernelBuilder& b, InputUnit& x) const override {
        if (!dp4a_) return;
        // c_t = -32 * (sum of t's input quants): dp4a with -32 in every byte; appended to x.q.
        Reg<s32> minus32 = b.mov<s32>(static_cast<int32_t>(0xE0E0E0E0u));
        for (size_t t = 0; t < 4; ++t) {
            Reg<s32> c = b.mov<s32>(0);
            for (size_t i = 0; i < words_; ++i) c = b.dp4a(minus32, x.q[words_ * t + i], c);
            x.q.push_back(c);
        }
    }

    void decode(KernelBuilder& b, Reg<u32> unit, WeightUnit& w) const override {
        if (!staged_warps_) {
            decode_fields(b, unit, w.raw, w.h[0], w);
            return;
        }
        // Through the warp's 848-byte slot: every lane's pieces in, then each lane's fields out,
        // read as the unstaged path reads them from global memory (aligned words and o). The
        // first barrier keeps the stores behind the previous decode's reads of the slot.
        if (!stage_) stage_ = b.shared_array("q6k_stage", staged_warps_ * kSlotBytes, 16);
        SharedPtr slot = b.index(b.addr_of(*stage_), b.shr(b.tid_x(), 5u), kSlotBytes);
        Reg<u32> lane = b.and_(unit, 31u);
        SharedPtr mine = b.index(slot, lane, 8);
        b.bar_warp_sync();
        for (uint32_t c = 0; c < kPiecesPerLane; ++c) {
            Regs<u32, 2> piece{w.raw[2 * c], w.raw[2 * c + 1]};
            auto store = [&] { b.st_v<u32, 2>(mine[int64_t{c} * 256], piece); };
            if (c + 1 < kPiecesPerLane) store();
            else b.predicated(b.setp(Cmp::lt, lane, kPieces - 32 * c), store);
        }
        b.bar_warp_sync();
        Reg<u32> blk = b.shr(lane, 3u);
        Reg<u32> block_at = b.mul_lo(blk, 210u);
        SharedPtr aligned = b.index(slot, b.and_(block_at, ~3u), 1);  // 4-byte aligned, o below the block
        Reg<u32> j = b.and_(unit, 7u);
        Reg<u32> h = b.shr(j, 2u);
        Reg<u32> l0 = b.shl(b.and_(j, 3u), 3u);
        SharedPtr ql = b.index(aligned, b.add(b.shl(h, 6u), l0), 1);
        SharedPtr qh = b.index(aligned, b.add(b.shl(h, 5u), l0), 1);
        SharedPtr scales = b.index(aligned, h, 8);
        std::vector<Reg<u32>> fields;
        for (int64_t field : {int64_t{0}, int64_t{32}}) {
            for (int64_t i = 0; i <= words_; ++i) fields.push_back(b.ld<u32>(ql[field + 4 * i]));
        }
        for (int64_t i = 0; i <= words_; ++i) fields.push_back(b.ld<u32>(qh[128 + 4 * i]));
        // The third word reaches 2 bytes past the block when o = 0 (into the next block or the
        // slot's padding): only bytes o .. o + 7 are used.
        for (int64_t i = 0; i < 3; ++i) fields.push_back(b.ld<u32>(scales[192 + 4 * i]));
        fields.push_back(b.shl(b.and_(blk, 1u), 1u));  // o = 210 blk mod 4
        Reg<f16> d = b.ld<f16>(b.index(slot, block_at, 1)[208]);
        decode_fields(b, unit, fields, d, w);
    }

    void accumulate(KernelBuilder& b, const WeightUnit& w, const InputUnit& x, Reg<f32> acc) const override {
        if (dp4a_) {
            Reg<f32> sum;
            for (size_t t = 0; t < 4; ++t) {
                Reg<s32> dot = dot_words_from(b, x.q[4 * words_ + t], w.q, words_ * t, x.q, words_ * t, words_, false);
                Reg<f32> scaled = b.cvt<f32>(b.mul_lo(dot, b.bitcast<s32>(w.q[4 * words_ + t])), {.round = Round::rn});
                sum = t == 0 ? b.mul(x.f[t], scaled) : b.fma(x.f[t], scaled, sum);
            }
            b.mov(acc, b.fma(w.f[0], sum, acc));
        } else {
            for (size_t t = 0; t < 4; ++t) {
                Reg<f32> qx = b.mov<f32>(0.0f);
                for (size_t i = 0; i < l_; ++i) qx = b.fma(w.f[4 + l_ * t + i], x.f[l_ * t + i], qx);
                b.mov(acc, b.fma(w.f[t], qx, acc));
            }
        }
    }

private:
    // raw: ql_a[W + 1], ql_b[W + 1], qh[W + 1] (aligned words), scales[3], o; d the block's scale.
    void decode_fields(KernelBuilder& b, Reg<u32> unit, const std::vector<Reg<u32>>& raw, Reg<f16> d_half, WeightUnit& w) const {
        const size_t field = words_ + 1;  // raw words per quant field
        Reg<u32> o = raw[3 * field + 3];
        Reg<u32> select = align2_selector(b, o);
        std::vector<Reg<u32>> ql_a = assemble_words_align2(b, raw, 0, words_, select);
        std::vector<Reg<u32>> ql_b = assemble_words_align2(b, raw, field, words_, select);
        std::vector<Reg<u32>> qh = assemble_words_align2(b, raw, 2 * field, words_, select);
        // q = low nibble of ql (t < 2) or its high nibble, | bits 2t, 2t + 1 of qh moved to bits 4, 5.
        for (uint32_t t = 0; t < 4; ++t) {
            for (size_t i = 0; i < words_; ++i) {
                Reg<u32> ql = t % 2 == 0 ? ql_a[i] : ql_b[i];
                Reg<u32> low4 = b.and_(t >= 2 ? b.shr(ql, 4u) : ql, 0x0F0F0F0Fu);
                Reg<u32> high = t == 2 ? qh[i] : t < 2 ? b.shl(qh[i], 4 - 2 * t) : b.shr(qh[i], 2u);
                w.q.push_back(b.or_(low4, b.and_(high, 0x30303030u)));
            }
        }
        // Scale of t: signed byte 2t + l0 / 16 of the half's eight, which lie at bytes o .. o + 7 of
        // raw scale words s0, s1, s2: one prmt with sign replication picks it and widens it to 32
        // bits (selector nibbles p, 8 + p, 8 + p, 8 + p for byte p).
        // l0 / 16: bit 1 of the unit index for L = 8 (l0 = 8 (j % 4)), bit 0 for L = 16.
        Reg<u32> l0_16 = l_ == 8 ? b.and_(b.shr(unit, 1u), 1u) : b.and_(unit, 1u);
        Reg<u32> even_t = b.mad_lo(b.add(o, l0_16), 0x1111u, 0x8880u);
        Reg<u32> odd_t = b.add(even_t, 0x2222u);
        std::vector<Reg<s32>> sc;
        for (uint32_t t = 0; t < 4; ++t) {
            Reg<u32> lo = raw[3 * field + t / 2];
            Reg<u32> hi = raw[3 * field + t / 2 + 1];
            sc.push_back(b.bitcast<s32>(b.prmt(lo, hi, t % 2 == 0 ? even_t : odd_t)));
        }
        Reg<f32> d = b.cvt<f32>(d_half);
        if (dp4a_) {
            for (Reg<s32> s : sc) w.q.push_back(b.bitcast<u32>(s));  // q[4W + t]
            w.f.push_back(d);
        } else {
            for (Reg<s32> s : sc) w.f.push_back(b.mul(d, b.cvt<f32>(s, {.round = Round::rn})));
            for (size_t i = 0; i < 4 * words_; ++i) {
                for (Reg<f32> v : bytes_to_f32(b, w.q[i], 32.0f)) w.f.push_back(v);
            }
        }
    }

    static uint32_t shift(uint32_t v) { return v == 8 ? 3u : v == 4 ? 2u : 1u; }
    // Staging: a step is 4 blocks (840 bytes) = 105 pieces of 8 bytes, at most 4 per lane; each
    // warp's slot has 8 bytes of padding for the scales' third word.
    static constexpr uint32_t kStepBytes = 4 * 210, kPieces = kStepBytes / 8, kPiecesPerLane = 4;
    static constexpr uint32_t kSlotBytes = kStepBytes + 8;
    bool dp4a_;
    uint32_t k_;
    uint32_t l_;          // L: values of l per unit
    uint32_t words_;      // L / 4
    uint32_t per_half_;   // units per half super-block
    uint32_t per_block_;  // units per super-block
    uint32_t staged_warps_;  // warps per CTA when staged (0: not staged)
    mutable std::optional<ptxgen::SharedArray> stage_;  // [warps][kSlotBytes], declared at first use
};

}  // namespace

std::unique_ptr<Codec> make_q6k_codec(bool dp4a, uint32_t k, uint32_t unit_weights, uint32_t staged_warps) {
    return std::make_unique<Q6kCodec>(dp4a, k, unit_weights, staged_warps);
}

}  // namespace kernels::gemv
