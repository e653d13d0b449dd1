// Q4_K for the tensor-core generator. A super-block is 144 bytes: a 16-byte header (d, dmin,
// packed 6-bit scales and mins) and 128 bytes of quants in four 32-byte chunks; chunk c holds
// sub-block 2c in its low nibbles and 2c + 1 in its high ones. Lane t loads bytes 8t .. 8t + 7 of
// each chunk (permuted_k: the mma's k = 4t + i is element 8t + i, k = 16 + 4t + i is 8t + 4 + i),
// so one warp load covers 8 rows x 32 contiguous bytes. Each sub-block is one mma; a second mma
// with all-ones weights gives every vector's exact sum of quants (the min term):
//   y += dx * (d sc * dot - dmin m * sum)
#include "gemv_codec.hpp"
#include "gemv_mma.hpp"

namespace kernels::gemv::mma {

using namespace ptxgen;

namespace {

// The f32 value q * scale of byte `byte` of `word` (unsigned), exactly as mul(cvt(q), scale)
// rounds it: (2^23 + q) * scale - 2^23 * scale in one fma; `big` is -2^23 * scale.
Reg<f32> byte_times(KernelBuilder& b, Reg<u32> word, uint32_t byte, Reg<f32> scale, Reg<f32> big) {
    Reg<u32> bits = b.prmt(word, 0x4B000000u, 0x7540u + byte);
    return b.fma(b.bitcast<f32>(bits), scale, big);
}

// Scales of one row's super-block: dsc[j] = d * sc_j and ndm[j] = -dmin * m_j for sub-block j.
struct RowScales {
    std::array<Reg<f32>, 8> dsc, ndm;
};

// h: the header words (d and dmin, then scales[0..3], [4..7], [8..11]).
RowScales decode_scales(KernelBuilder& b, const std::vector<Reg<u32>>& h) {
    // formats.md: for j < 4, sc = scales[j] & 63, m = scales[j + 4] & 63; for j >= 4 the low four
    // bits come from scales[j + 4] (sc: low nibble, m: high nibble) and the top two from bits 6-7
    // of scales[j - 4] (sc) and scales[j] (m).
    Reg<u32> sc_lo = b.and_(h[1], 0x3F3F3F3Fu);
    Reg<u32> m_lo = b.and_(h[2], 0x3F3F3F3Fu);
    Reg<u32> sc_hi = b.or_(b.and_(h[3], 0x0F0F0F0Fu), b.and_(b.shr(h[1], 2u), 0x30303030u));
    Reg<u32> m_hi = b.or_(b.and_(b.shr(h[3], 4u), 0x0F0F0F0Fu), b.and_(b.shr(h[2], 2u), 0x30303030u));
    auto [d, dmin] = half2_to_f32(b, h[0]);
    Reg<f32> ndmin = b.neg(dmin);
    Reg<f32> big_d = b.mul(d, -8388608.0f);
    Reg<f32> big_m = b.mul(dmin, 8388608.0f);
    RowScales s;
    for (uint32_t j = 0; j < 8; ++j) {
        s.dsc[j] = byte_times(b, j < 4 ? sc_lo : sc_hi, j % 4, d, big_d);
        s.ndm[j] = byte_times(b, j < 4 ? m_lo : m_hi, j % 4, ndmin, big_m);
    }
    return s;
}

class Q4kFormat final : public Format {
public:
    uint32_t block_bytes() const override { return 144; }
    bool permuted_k() const override { return true; }

    // words: the header (4), then chunk c's two words at 4 + 2c.
    RowBlock load(KernelBuilder& b, GlobalPtr block, Reg<u32> t, LdOpts weights) const override {
        RowBlock r;
        for (Reg<u32> w : b.ld_v<u32, 4>(block[0], {.nc = true})) r.words.push_back(w);
        GlobalPtr mine = b.index(block, b.shl(t, 3u), 1);
        for (uint32_t c = 0; c < 4; ++c) {
            for (Reg<u32> w : b.ld_v<u32, 2>(mine[16 + 32 * int64_t{c}], weights)) r.words.push_back(w);
        }
        return r;
    }

    void compute(Step& st) const override {
        KernelBuilder& b = st.b;
        std::vector<std::vector<RowScales>> scales(st.mats);
        for (uint32_t m = 0; m < st.mats; ++m) {
            for (const RowBlock& row : st.rows[m]) scales[m].push_back(decode_scales(b, row.words));
        }
        AFrag ones;
        for (auto& r : ones) r = b.mov<b32>(0x01010101u);
        for (uint32_t j = 0; j < 8; ++j) {
            const uint32_t c = j / 2;
            const bool high = j % 2 == 1;
            auto nibbles = [&](Reg<u32> word) { return b.bitcast<b32>(b.and_(high ? b.shr(word, 4u) : word, 0x0F0F0F0Fu)); };
            // a0 / a1: rows g / g + 8, k 4t..; a2 / a3: the same rows, k 16 + 4t.. (per matrix and m-tile)
            std::vector<std::vector<AFrag>> a(st.mats);
            for (uint32_t m = 0; m < st.mats; ++m) {
                for (uint32_t tl = 0; tl < st.tiles; ++tl) {
                    const std::vector<Reg<u32>>& top = st.rows[m][2 * tl].words;
                    const std::vector<Reg<u32>>& bottom = st.rows[m][2 * tl + 1].words;
                    a[m].push_back({nibbles(top[4 + 2 * c]), nibbles(bottom[4 + 2 * c]), nibbles(top[5 + 2 * c]),
                                    nibbles(bottom[5 + 2 * c])});
                }
            }
            for (uint32_t nt = 0; nt < st.ntiles; ++nt) {
                BFrag xb = st.x(nt, j);
                CFrag sums = mma_s8(b, ones, xb, st.zero);
                const std::array<Reg<f32>, 2> sum_f{b.cvt<f32>(sums[0], {.round = Round::rn}),
                                                    b.cvt<f32>(sums[1], {.round = Round::rn})};
                const std::array<Reg<f32>, 2> dxv{st.dx(nt, 0, j), st.dx(nt, 1, j)};
                for (uint32_t m = 0; m < st.mats; ++m) {
                    for (uint32_t tl = 0; tl < st.tiles; ++tl) {
                        CFrag dot = mma_s8(b, a[m][tl], xb, st.zero);
                        for (uint32_t i = 0; i < 4; ++i) {
                            const uint32_t h = 2 * tl + i / 2, e = i % 2;
                            Reg<f32> dot_f = b.cvt<f32>(dot[i], {.round = Round::rn});
                            Reg<f32> unit = b.fma(scales[m][h].dsc[j], dot_f, b.mul(scales[m][h].ndm[j], sum_f[e]));
                            Reg<f32>& sum = st.acc[m][4 * (nt * st.tiles + tl) + i];
                            b.mov(sum, b.fma(unit, dxv[e], sum));
                        }
                    }
                }
            }
        }
    }
};

}  // namespace

std::unique_ptr<Format> q4k_format() { return std::make_unique<Q4kFormat>(); }

}  // namespace kernels::gemv::mma
