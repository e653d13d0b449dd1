// Q6_K for the tensor-core generator. A super-block is 210 bytes (formats.md): ql[128] (low four
// bits), qh[64] (high two bits), 16 int8 scales (one per 16 weights), d. For half H and
// l = 0..31, ql[64H + l] holds elements 128H + l (low nibble) and 128H + 64 + l (high), ql[64H +
// 32 + l] elements 128H + 32 + l and 128H + 96 + l, and qh[32H + l] their top bits, two per element.
// So group G (0..3) of half H, elements 128H + 32G + [0, 32) = Q8_1 block 4H + G, comes from the
// low (G < 2) or high nibbles of ql[64H + 32 (G % 2) + l] and bits 2G of qh[32H + l].
//
// The k order is the ISA's own (permuted_k false): lane t supplies elements 4t .. 4t + 3 (scale
// 2G of the half) and 16 + 4t .. 16 + 4t + 3 (scale 2G + 1). The two halves of a group have
// different scales, so each group is two mmas with the other half's A registers zero:
//   y += d dx * (sc_lo * dot_lo + sc_hi * dot_hi)      (integers until the last product)
// with the quants made signed (q - 32) per byte. Blocks are only 2-byte aligned: each 4-byte
// field is assembled from the aligned word below it and a 16-bit load of its upper half. So the
// first block of a buffer whose base is 2 mod 4 reads the 2 bytes before it: weight buffers must
// be 4-byte aligned (device allocations and GGUF tensors are).
#include "gemv_codec.hpp"
#include "gemv_mma.hpp"

namespace kernels::gemv::mma {

using namespace ptxgen;

namespace {

// Field offsets within a block (all multiples of 4). Per half H: ql at 64H + 16i (i < 4), qh at
// 128 + 32H + 16p (p < 2), each plus 4t for lane t; then the scales' four words at 192.
constexpr uint32_t kFieldsPerHalf = 6;
constexpr uint32_t kScaleWords = 4;
uint32_t field_offset(uint32_t half, uint32_t i) { return i < 4 ? 64 * half + 16 * i : 128 + 32 * half + 16 * (i - 4); }

// One row's super-block, assembled: ql[H][i], qh[H][p], the 16 scales' words, d.
struct Row {
    std::array<std::array<Reg<u32>, 4>, 2> ql;
    std::array<std::array<Reg<u32>, 2>, 2> qh;
    std::array<Reg<u32>, kScaleWords> scales;
    Reg<f32> d;
};

class Q6kFormat final : public Format {
public:
    uint32_t block_bytes() const override { return 210; }
    bool permuted_k() const override { return false; }

    // words: the byte selector of this block's alignment, then per field the aligned word below
    // it; halves: per field its upper two bytes, then d.
    RowBlock load(KernelBuilder& b, GlobalPtr block, Reg<u32> t, LdOpts weights) const override {
        Reg<u32> o = b.and_(b.cvt<u32>(block.reg), 3u);  // 0 or 2
        GlobalPtr aligned{b.and_(block.reg, ~uint64_t{3})};
        GlobalPtr aligned_t = b.index(aligned, t, 4);
        GlobalPtr block_t = b.index(block, t, 4);
        return gather(
            b, o, [&](uint32_t at, bool lane) { return b.ld<u32>((lane ? aligned_t : aligned)[at], weights); },
            [&](uint32_t at, bool lane) { return b.ld<u16>((lane ? block_t : block)[at], weights); },
            [&] { return b.ld<u16>(block[208], {.nc = true}); });
    }

    bool can_stage() const override { return true; }
    RowBlock load_staged(KernelBuilder& b, SharedPtr row, Reg<u32> skew, Reg<u32> t) const override {
        SharedPtr aligned = b.offset(row, b.and_(skew, 4u));
        SharedPtr block = b.offset(row, skew);
        SharedPtr aligned_t = b.index(aligned, t, 4);
        SharedPtr block_t = b.index(block, t, 4);
        return gather(
            b, b.and_(skew, 2u), [&](uint32_t at, bool lane) { return b.ld<u32>((lane ? aligned_t : aligned)[at]); },
            [&](uint32_t at, bool lane) { return b.ld<u16>((lane ? block_t : block)[at]); },
            [&] { return b.ld<u16>(block[208]); });
    }

    void compute(Step& st) const override {
        KernelBuilder& b = st.b;
        std::vector<std::vector<Row>> rows(st.mats);
        for (uint32_t m = 0; m < st.mats; ++m) {
            for (const RowBlock& raw : st.rows[m]) rows[m].push_back(assemble(b, raw));
        }
        Reg<b32> zero = b.mov<b32>(0u);
        for (uint32_t half = 0; half < 2; ++half) {
            for (uint32_t grp = 0; grp < 4; ++grp) {
                const uint32_t j = 4 * half + grp;  // Q8_1 block within the super-block
                // lo[m][tl]: the group's first 16 elements (rows g, g + 8), hi[m][tl]: the last 16.
                std::vector<std::vector<std::pair<AFrag, AFrag>>> frags(st.mats);
                std::vector<std::vector<std::array<Reg<s32>, 2>>> scales(st.mats);  // [m][h]: {2G, 2G + 1}
                for (uint32_t m = 0; m < st.mats; ++m) {
                    for (uint32_t tl = 0; tl < st.tiles; ++tl) {
                        const Row& top = rows[m][2 * tl];
                        const Row& bottom = rows[m][2 * tl + 1];
                        AFrag lo{signed_quants(b, top, half, grp, 0), signed_quants(b, bottom, half, grp, 0), zero, zero};
                        AFrag hi{zero, zero, signed_quants(b, top, half, grp, 1), signed_quants(b, bottom, half, grp, 1)};
                        frags[m].push_back({lo, hi});
                    }
                    for (const Row& row : rows[m]) {
                        scales[m].push_back({scale(b, row, 8 * half + 2 * grp), scale(b, row, 8 * half + 2 * grp + 1)});
                    }
                }
                for (uint32_t nt = 0; nt < st.ntiles; ++nt) {
                    BFrag xb = st.x(nt, j);
                    const std::array<Reg<f32>, 2> dxv{st.dx(nt, 0, j), st.dx(nt, 1, j)};
                    for (uint32_t m = 0; m < st.mats; ++m) {
                        for (uint32_t tl = 0; tl < st.tiles; ++tl) {
                            CFrag dot_lo = mma_s8(b, frags[m][tl].first, xb, st.zero);
                            CFrag dot_hi = mma_s8(b, frags[m][tl].second, xb, st.zero);
                            for (uint32_t i = 0; i < 4; ++i) {
                                const uint32_t h = 2 * tl + i / 2, e = i % 2;
                                const std::array<Reg<s32>, 2>& sc = scales[m][h];
                                Reg<s32> dot = b.mad_lo(sc[0], dot_lo[i], b.mul_lo(sc[1], dot_hi[i]));
                                Reg<f32> dot_f = b.cvt<f32>(dot, {.round = Round::rn});
                                Reg<f32>& sum = st.acc[m][4 * (nt * st.tiles + tl) + i];
                                b.mov(sum, b.fma(dot_f, b.mul(rows[m][h].d, dxv[e]), sum));
                            }
                        }
                    }
                }
            }
        }
    }

private:
    // The loads of one block wherever it lies, `o` (0 or 2) bytes past a 4-byte boundary:
    // word(at, lane) loads the aligned word below byte `at` of the block (of the lane's column
    // when `lane`), half(at, lane) the two bytes at `at`, d() the block's d.
    template <class Word, class Half, class D>
    static RowBlock gather(KernelBuilder& b, Reg<u32> o, const Word& word, const Half& half, const D& d) {
        RowBlock r;
        r.words.push_back(b.mad_lo(o, 0x1111u, 0x3210u));
        auto field = [&](uint32_t at, bool lane) {
            r.words.push_back(word(at, lane));
            r.halves.push_back(half(at + 2, lane));
        };
        for (uint32_t h = 0; h < 2; ++h) {
            for (uint32_t i = 0; i < kFieldsPerHalf; ++i) field(field_offset(h, i), true);
        }
        for (uint32_t i = 0; i < kScaleWords; ++i) field(192 + 4 * i, false);
        r.halves.push_back(d());
        return r;
    }

    static Row assemble(KernelBuilder& b, const RowBlock& raw) {
        Reg<u32> selector = raw.words[0];
        auto word = [&](uint32_t index) {
            return b.prmt(raw.words[1 + index], b.cvt<u32>(raw.halves[index]), selector);
        };
        Row r;
        for (uint32_t half = 0; half < 2; ++half) {
            for (uint32_t i = 0; i < 4; ++i) r.ql[half][i] = word(kFieldsPerHalf * half + i);
            for (uint32_t p = 0; p < 2; ++p) r.qh[half][p] = word(kFieldsPerHalf * half + 4 + p);
        }
        for (uint32_t i = 0; i < kScaleWords; ++i) r.scales[i] = word(2 * kFieldsPerHalf + i);
        r.d = b.cvt<f32>(b.bitcast<f16>(raw.halves[2 * kFieldsPerHalf + kScaleWords]));
        return r;
    }

    // Scale `index` (0..15) of the row, sign-extended.
    static Reg<s32> scale(KernelBuilder& b, const Row& row, uint32_t index) {
        return b.bfe(b.bitcast<s32>(row.scales[index / 4]), 8 * (index % 4), 8u);
    }

    // The lane's four quants of group `grp` of half `half`, part p (0: elements 4t.., 1: 16 + 4t..),
    // as signed bytes q - 32.
    static Reg<b32> signed_quants(KernelBuilder& b, const Row& row, uint32_t half, uint32_t grp, uint32_t p) {
        Reg<u32> ql = row.ql[half][2 * (grp % 2) + p];
        Reg<u32> nibbles = grp < 2 ? b.and_(ql, 0x0F0F0F0Fu) : b.and_(b.shr(ql, 4u), 0x0F0F0F0Fu);
        Reg<u32> qh = row.qh[half][p];
        // Bits 2 grp .. 2 grp + 1 of each byte, moved to bits 4-5.
        Reg<u32> moved = grp == 0 ? b.shl(qh, 4u) : grp == 1 ? b.shl(qh, 2u) : grp == 2 ? qh : b.shr(qh, 2u);
        Reg<u32> q = b.or_(nibbles, b.and_(moved, 0x30303030u));
        // Per byte, q in 0..63: ((q | 0x80) - 0x20) ^ 0x80 is q - 32 in two's complement, and no
        // byte borrows from its neighbour (q | 0x80 >= 0x80 > 0x20).
        return b.bitcast<b32>(b.xor_(b.sub(b.or_(q, 0x80808080u), 0x20202020u), 0x80808080u));
    }
};

}  // namespace

std::unique_ptr<Format> q6k_format() { return std::make_unique<Q6kFormat>(); }

}  // namespace kernels::gemv::mma
