// Q6_K (formats.md): 256 weights in sixteen groups of 16; group g has an int8 scale sc[g] against
// the f16 super-block scale d; w = (d * sc) * (q - 32), q in 0..63.
//
// The dequantiser evaluates it as gguf's numpy reference does, (d * sc) * (q - 32) in f32. Both
// products are exact (11 significant bits of the f16, at most 7 of an int8, at most 5 of q - 32),
// so any order gives the same bits, which tests/oracle checks against gguf.
//
// The quantiser minimises the squared error in three steps:
//  1. per group, a real scale: quants assigned on grids that put the value of largest magnitude at
//     -32 and a little inside it, a least-squares scale fitted to each assignment, the best fit
//     refined by re-assigning with it;
//  2. d puts the largest |scale| at 127; each group then takes the int8 scale, among the three
//     around its rounded real scale, whose re-assigned quants give the least error;
//  3. d refitted by least squares to all 256 weights with the integers held, then the scales
//     chosen again; kept only when the block's error drops.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ptxgen/half.hpp"
#include "quant_internal.hpp"

namespace kernels::quant::detail {

namespace {

constexpr int group_size = 16;
constexpr int groups = qk_k / group_size;
constexpr float q_offset = 32.0f;
constexpr float q_top = 63.0f;  // stored quants are 0..63, values q - 32

constexpr int group_vecs = group_size / 4;

// One group's values in registers, with the value of largest magnitude and the sum of squares.
struct Group {
    f32x4 x[group_vecs];
    float xm, sxx;
};

Group load_group(const float* x) {
    Group g;
    f32x4 s2 = {};
    for (int v = 0; v < group_vecs; ++v) {
        g.x[v] = load4(x + 4 * v);
        s2 += g.x[v] * g.x[v];
    }
    g.sxx = lane_sum(s2);
    g.xm = 0.0f;
    for (int i = 0; i < group_size; ++i) {
        if (std::fabs(x[i]) > std::fabs(g.xm)) g.xm = x[i];
    }
    return g;
}

// The centred quants (-32..31) nearest x * inv.
inline f32x4 centred_quants(f32x4 x, f32x4 inv) {
    const f32x4 offset = splat(q_offset);
    return round_clamped(x * inv + offset, splat(q_top)) - offset;
}

// x ~ scale * q, and the squared error of that fit.
struct Fit {
    float scale, err;
};

// The least-squares scale for the quants nearest x * inv.
Fit fit_group(const Group& g, float inv) {
    const f32x4 vinv = splat(inv);
    f32x4 sqq = {}, sqx = {};
    for (const f32x4& xv : g.x) {
        const f32x4 q = centred_quants(xv, vinv);
        sqq += q * q;
        sqx += q * xv;
    }
    const float qq = lane_sum(sqq), qx = lane_sum(sqx);
    if (!(qq > 0.0f)) return {0.0f, g.sxx};
    return {qx / qq, g.sxx - qx * qx / qq};
}

// Step 1: the best real scale of one group.
Fit search_group(const Group& g) {
    if (g.xm == 0.0f) return {0.0f, 0.0f};
    // The value of largest magnitude at -32 (the side with one level more) or a little inside it;
    // grids that put it at +31 instead gained nothing on normal data.
    constexpr int grids = 12;
    const float inv_xm = 1.0f / g.xm;
    Fit best{0.0f, std::numeric_limits<float>::infinity()};
    for (int k = 0; k < grids; ++k) {
        const Fit f = fit_group(g, (-32.0f + 0.5f * static_cast<float>(k)) * inv_xm);
        if (f.err < best.err) best = f;
    }
    for (int round = 0; round < 2 && best.scale != 0.0f; ++round) {
        const Fit f = fit_group(g, 1.0f / best.scale);
        if (!(f.err < best.err)) break;
        best = f;
    }
    return best;
}

// The squared error of a group quantised with the effective scale a = d * sc.
float group_error(const Group& g, float a) {
    const f32x4 va = splat(a), vinv = splat(a != 0.0f ? 1.0f / a : 0.0f);
    f32x4 e2 = {};
    for (const f32x4& xv : g.x) {
        const f32x4 e = va * centred_quants(xv, vinv) - xv;
        e2 += e * e;
    }
    return lane_sum(e2);
}

// The stored quants (0..63) of a group for the effective scale a (as group_error assigns them).
void group_quants(const Group& g, float a, uint8_t* q) {
    const f32x4 vinv = splat(a != 0.0f ? 1.0f / a : 0.0f);
    for (int v = 0; v < group_vecs; ++v) {
        const f32x4 qv = centred_quants(g.x[v], vinv) + splat(q_offset);
        for (int l = 0; l < 4; ++l) q[4 * v + l] = static_cast<uint8_t>(qv[l]);
    }
}

// Step 2: every group's int8 scale near centre[g] for super-block scale d; returns the block's error.
float choose_scales(const Group* gs, float d, const int* centre, int* sc) {
    float total = 0.0f;
    for (int g = 0; g < groups; ++g) {
        const int lo = d > 0.0f ? std::max(centre[g] - 1, -128) : 0;
        const int hi = d > 0.0f ? std::min(centre[g] + 1, 127) : 0;
        float best = std::numeric_limits<float>::infinity();
        for (int s = lo; s <= hi; ++s) {
            const float err = group_error(gs[g], d * static_cast<float>(s));
            if (err < best) {
                best = err;
                sc[g] = s;
            }
        }
        total += best;
    }
    return total;
}

// Step 3: least-squares d for x ~ d * (sc * q) with sc and q held; false when there is none.
bool refit_super_scale(const float* x, const Group* gs, const int* sc, float& d) {
    double suu = 0, sux = 0;
    uint8_t q[group_size];
    for (int g = 0; g < groups; ++g) {
        const float* xg = x + g * group_size;
        group_quants(gs[g], d * static_cast<float>(sc[g]), q);
        int64_t sum_qq = 0;
        double sum_qx = 0;
        for (int i = 0; i < group_size; ++i) {
            const int qc = q[i] - 32;
            sum_qq += qc * qc;
            sum_qx += qc * static_cast<double>(xg[i]);
        }
        suu += static_cast<double>(sc[g]) * sc[g] * static_cast<double>(sum_qq);
        sux += sc[g] * sum_qx;
    }
    if (!(suu > 0.0) || !(sux > 0.0)) return false;
    d = ptxgen::f16_bits_to_f32(scale_to_f16(static_cast<float>(sux / suu)));
    return true;
}

void quantize_block(const float* x, BlockQ6K& out) {
    Group gs[groups];
    float scales[groups];
    float max_abs = 0.0f;
    for (int g = 0; g < groups; ++g) {
        gs[g] = load_group(x + g * group_size);
        scales[g] = search_group(gs[g]).scale;
        max_abs = std::max(max_abs, std::fabs(scales[g]));
    }
    float d = ptxgen::f16_bits_to_f32(scale_to_f16(max_abs / 127.0f));
    int centre[groups], sc[groups] = {};
    for (int g = 0; g < groups; ++g) {
        const float r = d > 0.0f ? scales[g] / d : 0.0f;
        // round to nearest within [-128, 127], through the non-negative rounding helper
        centre[g] = static_cast<int>(round_clamped(r + 128.0f, 255.0f)) - 128;
    }
    const float err = choose_scales(gs, d, centre, sc);
    // One refit (a second one gains < 0.1% in error).
    float nd = d;
    if (refit_super_scale(x, gs, sc, nd)) {
        int trial[groups] = {};
        if (choose_scales(gs, nd, sc, trial) < err) {
            d = nd;
            std::copy(trial, trial + groups, sc);
        }
    }

    out.d = scale_to_f16(d);  // exact: d is an f16 value
    uint8_t q[qk_k];
    for (int g = 0; g < groups; ++g) {
        out.scales[g] = static_cast<int8_t>(sc[g]);
        group_quants(gs[g], d * static_cast<float>(sc[g]), q + g * group_size);
    }
    for (int h = 0; h < 2; ++h) {
        uint8_t* ql = out.ql + 64 * h;
        uint8_t* qh = out.qh + 32 * h;
        const uint8_t* qq = q + 128 * h;
        for (int l = 0; l < 32; ++l) {
            ql[l] = static_cast<uint8_t>((qq[l] & 0x0F) | ((qq[l + 64] & 0x0F) << 4));
            ql[l + 32] = static_cast<uint8_t>((qq[l + 32] & 0x0F) | ((qq[l + 96] & 0x0F) << 4));
            qh[l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) | ((qq[l + 64] >> 4) << 4) |
                                         ((qq[l + 96] >> 4) << 6));
        }
    }
}

}  // namespace

void dequantize_q6_k(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ6K), dst += qk_k) {
        const auto blk = load_block<BlockQ6K>(src);
        const float d = ptxgen::f16_bits_to_f32(blk.d);
        float a[groups];
        for (int g = 0; g < groups; ++g) a[g] = d * static_cast<float>(blk.scales[g]);
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = blk.ql + 64 * h;
            const uint8_t* qh = blk.qh + 32 * h;
            float* out = dst + 128 * h;
            const float* ah = a + 8 * h;
            for (int l = 0; l < 32; ++l) {
                const int q0 = (ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4);
                const int q1 = (ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4);
                const int q2 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                const int q3 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
                // element e of the half has scale a[e / 16]
                out[l] = ah[l / 16] * static_cast<float>(q0 - 32);
                out[l + 32] = ah[2 + l / 16] * static_cast<float>(q1 - 32);
                out[l + 64] = ah[4 + l / 16] * static_cast<float>(q2 - 32);
                out[l + 96] = ah[6 + l / 16] * static_cast<float>(q3 - 32);
            }
        }
    }
}

void quantize_q6_k(const float* src, uint8_t* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += qk_k, dst += sizeof(BlockQ6K)) {
        BlockQ6K blk{};
        quantize_block(src, blk);
        store_block(blk, dst);
    }
}

}  // namespace kernels::quant::detail
