// Q4_K (formats.md): 256 weights in eight sub-blocks of 32; sub-block s has a 6-bit scale sc[s]
// and a 6-bit min m[s] against the f16 super-block scales d and dmin; w = (d * sc) * q - (dmin * m).
//
// The dequantiser evaluates it as gguf's numpy reference does: a = d * sc and b = dmin * m in
// f32, then a * q - b. Every product is exact in f32 (an f16 has 11 significant bits, sc and m at
// most 6, q 4), so the subtraction is the only rounding: any order of the products, and an FMA,
// give the same bits, which tests/oracle checks against gguf.
//
// The quantiser minimises the squared error in three steps:
//  1. per sub-block, a real scale and min: quants assigned on grids of slightly different step
//     spanning [min(x, 0), max(x)], a least-squares scale and min fitted to each assignment, the
//     best fit refined by re-assigning with it (the min is subtracted and m >= 0, so the offset
//     of a sub-block can only go down: a sub-block of positive values gets min 0);
//  2. d and dmin put the largest scale and min at 63; each sub-block then takes the 6-bit pair,
//     among the four with its real scale and min each rounded down or up, whose re-assigned
//     quants give the least error;
//  3. d and dmin refitted by least squares to all 256 weights with the integers held, then the
//     pairs chosen again; kept only when the block's error drops.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ptxgen/half.hpp"
#include "quant_internal.hpp"

namespace kernels::quant::detail {

namespace {

constexpr int sub_size = 32;
constexpr int sub_blocks = qk_k / sub_size;
constexpr float q_top = 15.0f;
constexpr int scale_top = 63;

struct ScalesMins {
    int sc[sub_blocks];
    int m[sub_blocks];
};

ScalesMins unpack_scales(const uint8_t* s) {
    ScalesMins v{};
    for (int j = 0; j < 4; ++j) {
        v.sc[j] = s[j] & 63;
        v.m[j] = s[j + 4] & 63;
        v.sc[j + 4] = (s[j + 8] & 0x0F) | ((s[j] >> 6) << 4);
        v.m[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
    return v;
}

void pack_scales(const ScalesMins& v, uint8_t* s) {
    for (int j = 0; j < 4; ++j) {
        s[j] = static_cast<uint8_t>(v.sc[j] | ((v.sc[j + 4] >> 4) << 6));
        s[j + 4] = static_cast<uint8_t>(v.m[j] | ((v.m[j + 4] >> 4) << 6));
        s[j + 8] = static_cast<uint8_t>((v.sc[j + 4] & 0x0F) | ((v.m[j + 4] & 0x0F) << 4));
    }
}

constexpr int sub_vecs = sub_size / 4;

// One sub-block's values in registers, with the sums every fit needs.
struct SubBlock {
    f32x4 x[sub_vecs];
    float sx, sxx, lo, hi;  // sum, sum of squares, min(0, min x), max x
};

SubBlock load_sub_block(const float* x) {
    SubBlock sb;
    f32x4 s = {}, s2 = {}, lo = {}, hi = load4(x);
    for (int v = 0; v < sub_vecs; ++v) {
        const f32x4 xv = load4(x + 4 * v);
        sb.x[v] = xv;
        s += xv;
        s2 += xv * xv;
        lo = xv < lo ? xv : lo;
        hi = xv > hi ? xv : hi;
    }
    sb.sx = lane_sum(s);
    sb.sxx = lane_sum(s2);
    sb.lo = std::min(std::min(lo[0], lo[1]), std::min(lo[2], lo[3]));
    sb.hi = std::max(std::max(hi[0], hi[1]), std::max(hi[2], hi[3]));
    return sb;
}

// Sums over a sub-block of q, q^2 and q * x for the quants q = round((x + min) / scale).
struct QuantSums {
    float q, qq, qx;
};

QuantSums assign(const SubBlock& sb, float min, float inv_scale) {
    const f32x4 vmin = splat(min), vinv = splat(inv_scale), top = splat(q_top);
    f32x4 sq = {}, sqq = {}, sqx = {};
    for (const f32x4& xv : sb.x) {
        const f32x4 q = round_clamped((xv + vmin) * vinv, top);
        sq += q;
        sqq += q * q;
        sqx += q * xv;
    }
    return {lane_sum(sq), lane_sum(sqq), lane_sum(sqx)};
}

// x ~ scale * q - min, and the squared error of that fit.
struct Fit {
    float scale, min, err;
};

// Least-squares scale and min for fixed quants, with scale >= 0 and min >= 0 enforced.
Fit fit(const QuantSums& s, const SubBlock& sb) {
    constexpr float n = sub_size;
    const float sx = sb.sx;
    const float det = n * s.qq - s.q * s.q;  // exact: small integers
    float a = 0.0f;
    float c = sx / n;  // offset: x ~ a * q + c
    if (det > 0.0f) {
        const float inv_det = 1.0f / det;
        a = (n * s.qx - s.q * sx) * inv_det;
        c = (s.qq * sx - s.q * s.qx) * inv_det;
    }
    if (c > 0.0f) {  // the offset cannot be positive: fit through zero
        c = 0.0f;
        a = s.qq > 0.0f ? s.qx / s.qq : 0.0f;
    }
    if (a < 0.0f) {
        a = 0.0f;
        c = std::min(sx / n, 0.0f);
    }
    const float err = sb.sxx - 2.0f * a * s.qx - 2.0f * c * sx + a * a * s.qq + 2.0f * a * c * s.q + n * c * c;
    return {a, -c, err};
}

// Step 1: the best real (scale, min) of one sub-block.
Fit search_sub_block(const SubBlock& sb) {
    if (!(sb.hi > sb.lo)) return {0.0f, -sb.lo, 0.0f};  // constant and <= 0 (zero included): exact by the min
    constexpr int grids = 8;  // 12 grids gain < 0.1% in error
    constexpr float first_steps = 13.5f, step_increment = 0.35f;
    Fit best{0.0f, 0.0f, std::numeric_limits<float>::infinity()};
    const float inv_range = 1.0f / (sb.hi - sb.lo);
    for (int k = 0; k < grids; ++k) {
        const float inv = (first_steps + step_increment * static_cast<float>(k)) * inv_range;
        const Fit f = fit(assign(sb, -sb.lo, inv), sb);
        if (f.err < best.err) best = f;
    }
    for (int round = 0; round < 2 && best.scale > 0.0f; ++round) {
        const Fit f = fit(assign(sb, best.min, 1.0f / best.scale), sb);
        if (!(f.err < best.err)) break;
        best = f;
    }
    return best;
}

// The squared error of a sub-block quantised with the effective scale a = d * sc and min b = dmin * m.
float sub_block_error(const SubBlock& sb, float a, float b) {
    const f32x4 va = splat(a), vb = splat(b), vinv = splat(a > 0.0f ? 1.0f / a : 0.0f), top = splat(q_top);
    f32x4 e2 = {};
    for (const f32x4& xv : sb.x) {
        const f32x4 e = va * round_clamped((xv + vb) * vinv, top) - vb - xv;
        e2 += e * e;
    }
    return lane_sum(e2);
}

// The quants of a sub-block for the effective scale a and min b (as sub_block_error assigns them).
void sub_block_quants(const SubBlock& sb, float a, float b, uint8_t* q) {
    const f32x4 vb = splat(b), vinv = splat(a > 0.0f ? 1.0f / a : 0.0f), top = splat(q_top);
    for (int v = 0; v < sub_vecs; ++v) {
        const f32x4 qv = round_clamped((sb.x[v] + vb) * vinv, top);
        for (int l = 0; l < 4; ++l) q[4 * v + l] = static_cast<uint8_t>(qv[l]);
    }
}

// The integers just below and above v >= 0, within [0, top] (one of them when d is 0).
struct Bracket {
    int lo, hi;
};

Bracket bracket(float value, float unit) {
    if (!(unit > 0.0f)) return {0, 0};
    const int lo = static_cast<int>(std::min(std::floor(value / unit), static_cast<float>(scale_top)));
    return {std::max(lo, 0), std::min(std::max(lo, 0) + 1, scale_top)};
}

// Step 2: the 6-bit (sc, m), each rounded down or up from the real pair in `f`, whose quants give
// the sub-block the least error under super-block scales d and dmin.
float choose_pair(const SubBlock& sb, const Fit& f, float d, float dmin, int& sc, int& m) {
    const Bracket bs = bracket(f.scale, d), bm = bracket(f.min, dmin);
    float best = std::numeric_limits<float>::infinity();
    for (int s = bs.lo; s <= bs.hi; ++s) {
        for (int mm = bm.lo; mm <= bm.hi; ++mm) {
            const float err = sub_block_error(sb, d * static_cast<float>(s), dmin * static_cast<float>(mm));
            if (err < best) {
                best = err;
                sc = s;
                m = mm;
            }
        }
    }
    return best;
}

// Every sub-block's pair for the given d and dmin; returns the block's error.
float choose_pairs(const SubBlock* sbs, const Fit* fits, float d, float dmin, ScalesMins& out) {
    float total = 0.0f;
    for (int j = 0; j < sub_blocks; ++j) total += choose_pair(sbs[j], fits[j], d, dmin, out.sc[j], out.m[j]);
    return total;
}

// Step 3: least-squares d and dmin for x ~ d * (sc * q) - dmin * m with sc, m and q held.
bool refit_super_scales(const float* x, const SubBlock* sbs, const ScalesMins& sm, float& d, float& dmin) {
    double suu = 0, suv = 0, svv = 0, sux = 0, svx = 0;
    uint8_t q[sub_size];
    for (int j = 0; j < sub_blocks; ++j) {
        const float* xs = x + j * sub_size;
        sub_block_quants(sbs[j], d * static_cast<float>(sm.sc[j]), dmin * static_cast<float>(sm.m[j]), q);
        const double v = sm.m[j];
        int64_t sum_q = 0, sum_qq = 0;
        double sum_qx = 0;
        for (int i = 0; i < sub_size; ++i) {
            sum_q += q[i];
            sum_qq += q[i] * q[i];
            sum_qx += q[i] * static_cast<double>(xs[i]);
        }
        const double sc = sm.sc[j];
        suu += sc * sc * static_cast<double>(sum_qq);
        suv += sc * v * static_cast<double>(sum_q);
        svv += v * v * sub_size;
        sux += sc * sum_qx;
        svx += v * sbs[j].sx;
    }
    double nd = d, nm = dmin;
    const double det = suv * suv - suu * svv;  // <= 0 (Cauchy-Schwarz); 0 when sc*q or m is all zero
    if (det < 0.0) {
        nd = (suv * svx - sux * svv) / det;
        nm = (suu * svx - suv * sux) / det;
    } else if (suu > 0.0) {
        nd = sux / suu;
    } else if (svv > 0.0) {
        nm = -svx / svv;
    }
    if (!(nd >= 0.0) || !(nm >= 0.0)) return false;
    d = ptxgen::f16_bits_to_f32(scale_to_f16(static_cast<float>(nd)));
    dmin = ptxgen::f16_bits_to_f32(scale_to_f16(static_cast<float>(nm)));
    return true;
}

void quantize_block(const float* x, BlockQ4K& out) {
    SubBlock sbs[sub_blocks];
    Fit fits[sub_blocks];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < sub_blocks; ++j) {
        sbs[j] = load_sub_block(x + j * sub_size);
        fits[j] = search_sub_block(sbs[j]);
        max_scale = std::max(max_scale, fits[j].scale);
        max_min = std::max(max_min, fits[j].min);
    }
    float d = ptxgen::f16_bits_to_f32(scale_to_f16(max_scale / scale_top));
    float dmin = ptxgen::f16_bits_to_f32(scale_to_f16(max_min / scale_top));

    ScalesMins sm{};
    const float err = choose_pairs(sbs, fits, d, dmin, sm);
    // One refit (a second one gains < 0.1% in error).
    float nd = d, nm = dmin;
    if (refit_super_scales(x, sbs, sm, nd, nm)) {
        ScalesMins trial{};
        if (choose_pairs(sbs, fits, nd, nm, trial) < err) {
            d = nd;
            dmin = nm;
            sm = trial;
        }
    }

    out.d = scale_to_f16(d);  // exact: d and dmin are f16 values
    out.dmin = scale_to_f16(dmin);
    pack_scales(sm, out.scales);
    uint8_t q[qk_k];
    for (int j = 0; j < sub_blocks; ++j) {
        sub_block_quants(sbs[j], d * static_cast<float>(sm.sc[j]), dmin * static_cast<float>(sm.m[j]),
                         q + j * sub_size);
    }
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            out.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
        }
    }
}

}  // namespace

void dequantize_q4_k(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ4K), dst += qk_k) {
        const auto blk = load_block<BlockQ4K>(src);
        const float d = ptxgen::f16_bits_to_f32(blk.d);
        const float dmin = ptxgen::f16_bits_to_f32(blk.dmin);
        const ScalesMins sm = unpack_scales(blk.scales);
        for (int s = 0; s < sub_blocks; ++s) {
            const float a = d * static_cast<float>(sm.sc[s]);
            const float m = dmin * static_cast<float>(sm.m[s]);
            const uint8_t* qs = blk.qs + 32 * (s / 2);
            const int shift = 4 * (s % 2);
            float* out = dst + sub_size * s;
            for (int l = 0; l < sub_size; ++l) out[l] = a * static_cast<float>((qs[l] >> shift) & 0x0F) - m;
        }
    }
}

void quantize_q4_k(const float* src, uint8_t* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += qk_k, dst += sizeof(BlockQ4K)) {
        BlockQ4K blk{};
        quantize_block(src, blk);
        store_block(blk, dst);
    }
}

}  // namespace kernels::quant::detail
