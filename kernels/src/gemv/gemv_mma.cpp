// The tensor-core strategy of the matrix-vector products (plan.strategy == mma): Q4_K weights,
// 1..8 input vectors as Q8_1 activations, the product of each Q4_K sub-block computed by one
// mma.m16n8k32 (s8 x s8 -> s32). Up to 64 vectors: n-tiles of 8 share each decoded weight.
//
// Thread mapping. A CTA has plan.warps warps in groups of plan.k_split: warp w computes rows
// first .. first + R - 1 (R = plan.rows_per_warp, 16 or 32: one or two m16 tiles;
// first = (cta * groups + w / k_split) * R) for every vector, over the super-blocks
// s = w % k_split, + k_split, ... of each row. Two tiles share each B fragment and each load of
// the activations. In lane l, g = l / 4 and t = l % 4, for each tile:
//   A (16 rows x 32 k, a sub-block's quants): the lane loads rows g and g + 8, bytes 8t .. 8t + 7
//     of each 32-byte chunk of quants (chunk c holds sub-block 2c in its low nibbles and 2c + 1 in
//     its high ones), so a warp's load covers 8 rows x 32 contiguous bytes. The mma's k index is a
//     permutation of the sub-block's elements: its k = 4t + i is element 8t + i and k = 16 + 4t + i
//     is element 8t + 4 + i; the sum over k does not care.
//   B (32 k x 8 vectors): column g is vector min(g, batch - 1), elements 8t .. 8t + 7 of the
//     sub-block (one 8-byte load), the same permutation. Columns past the batch are not stored.
//   C: the lane holds rows g and g + 8 for vectors 2t and 2t + 1.
// With more than 8 vectors, n-tile nt repeats B and C for vectors 8 nt .. 8 nt + 7.
// A second mma with all-ones weights gives each vector's exact sum of quants per sub-block (the
// Q4_K min term), in the same C layout. Each sub-block's integer result is scaled in f32:
//   y += dx * (d sc * dot - dmin m * sum)
// with dx the Q8_1 block scale. Slices of a K split meet in shared memory; slice 0 writes.
// The weights of the next super-block are loaded before the current one is computed (a software
// pipeline, as in gemv_build.cpp). sm_75 has no m16n8k32: there it is emulated with shuffles and
// dp4a (correct, slow; for validation).
#include <fmt/format.h>

#include "gemv_codec.hpp"
#include "gemv_epilogue.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

using namespace ptxgen;

namespace {

constexpr uint32_t kBlockBytes = 144;  // one Q4_K super-block of 256 weights
constexpr uint32_t kTileRows = 16;

using AFrag = Regs<b32, 4>;
using BFrag = Regs<b32, 2>;
using CFrag = Regs<s32, 4>;

// D = A B + C for the m16n8k32 s8 fragments of the PTX ISA.
CFrag mma_s8(KernelBuilder& b, Reg<u32> lane, const AFrag& a, const BFrag& x, const CFrag& c) {
    if (b.target().sm >= 80) return b.mma_m16n8k32_s8(a, x, c);
    // D(g + 8h, 2t + e) = C + sum over the 4 lanes t' of row g's and column 2t + e's words.
    Reg<u32> g4 = b.and_(lane, ~3u);
    Reg<u32> col_lane = b.shl(b.and_(lane, 3u), 3u);  // lane 4 (2t) holds column 2t
    CFrag d;
    for (uint32_t i = 0; i < 4; ++i) d[i] = b.mov<s32>(c[i]);
    for (uint32_t tp = 0; tp < 4; ++tp) {
        std::array<Reg<s32>, 4> av;
        for (uint32_t i = 0; i < 4; ++i) av[i] = b.bitcast<s32>(b.shfl_idx(a[i], b.add(g4, tp)));
        for (uint32_t e = 0; e < 2; ++e) {
            Reg<u32> src = b.add(col_lane, 4 * e + tp);
            Reg<s32> x0 = b.bitcast<s32>(b.shfl_idx(x[0], src));
            Reg<s32> x1 = b.bitcast<s32>(b.shfl_idx(x[1], src));
            for (uint32_t h = 0; h < 2; ++h) {
                Reg<s32>& out = d[2 * h + e];
                out = b.dp4a(av[h + 2], x1, b.dp4a(av[h], x0, out));
            }
        }
    }
    return d;
}

// The f32 value q * scale of byte `byte` of `word` (unsigned), exactly as mul(cvt(q), scale)
// rounds it: (2^23 + q) * scale - 2^23 * scale in one fma; `big` is -2^23 * scale.
Reg<f32> byte_times(KernelBuilder& b, Reg<u32> word, uint32_t byte, Reg<f32> scale, Reg<f32> big) {
    Reg<u32> bits = b.prmt(word, 0x4B000000u, 0x7540u + byte);
    return b.fma(b.bitcast<f32>(bits), scale, big);
}

// A super-block of one row as loaded: its header words (d and dmin, then the packed scales) and
// this lane's two words of each of the four 32-byte chunks of quants.
struct RowBlock {
    Regs<u32, 4> header;
    std::array<Regs<u32, 2>, 4> quants;
};

// Scales of one row's super-block: dsc[j] = d * sc_j and ndm[j] = -dmin * m_j for sub-block j.
struct RowScales {
    std::array<Reg<f32>, 8> dsc, ndm;
};

RowScales decode_scales(KernelBuilder& b, const Regs<u32, 4>& h) {
    // formats.md: scales[0..3] = h[1], [4..7] = h[2], [8..11] = h[3]. For j < 4, sc = scales[j] & 63,
    // m = scales[j + 4] & 63; for j >= 4 the low four bits come from scales[j + 4] (sc: low
    // nibble, m: high nibble) and the top two from bits 6-7 of scales[j - 4] (sc) and scales[j] (m).
    Reg<u32> sc_lo = b.and_(h[1], 0x3F3F3F3Fu);
    Reg<u32> m_lo = b.and_(h[2], 0x3F3F3F3Fu);
    Reg<u32> sc_hi = b.or_(b.and_(h[3], 0x0F0F0F0Fu), b.and_(b.shr(h[1], 2u), 0x30303030u));
    Reg<u32> m_hi = b.or_(b.and_(b.shr(h[3], 4u), 0x0F0F0F0Fu), b.and_(b.shr(h[2], 2u), 0x30303030u));
    auto [d, dmin] = gemv::half2_to_f32(b, h[0]);
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

}  // namespace

Kernel build_gemv_mma(const Gemv& gemv, const Target& target) {
    const GemvShape& s = gemv.shape;
    const GemvPlan& plan = gemv.plan;
    if (s.weights != quant::GgmlType::q4_k) throw ptxsmith::Error("the mma generator handles Q4_K weights only");
    KernelBuilder b(gemv.name(), target);
    const uint32_t mats = s.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    const uint32_t vecs = s.batch;
    const uint32_t superblocks = s.k / 256;
    const uint32_t row_bytes = superblocks * kBlockBytes;

    std::vector<GlobalPtr> w;
    if (mats == 2) {
        w.push_back(b.param_ptr("wg", Type::u8));
        w.push_back(b.param_ptr("wu", Type::u8));
    } else {
        w.push_back(b.param_ptr("w", Type::u8));
    }
    GlobalPtr xq = b.param_ptr("xq", Type::s8);
    GlobalPtr xds = b.param_ptr("xds", Type::f16);
    GlobalPtr y, yq, yds;
    if (s.output == GemvOutput::q8_1) {
        yq = b.param_ptr("yq", Type::s8);
        yds = b.param_ptr("yds", Type::f16);
    } else {
        y = b.param_ptr("y", Type::f32);
    }
    b.reqntid(32 * plan.warps);

    Reg<u32> tid = b.tid_x();
    Reg<u32> lane = b.and_(tid, 31u);
    Reg<u32> warp = b.shr(tid, 5u);
    Reg<u32> g = b.shr(lane, 2u);
    Reg<u32> t = b.and_(lane, 3u);
    const uint32_t split = plan.k_split;
    const uint32_t groups = plan.warps / split;     // warps with rows of their own, per CTA
    const uint32_t tiles = plan.rows_per_warp / kTileRows;  // m16 tiles per warp
    const uint32_t pairs = 2 * tiles;              // rows g + 8p, p < pairs, per lane
    Reg<u32> slice = b.rem(warp, split);
    Reg<u32> group = b.div(warp, split);
    Reg<u32> first_row = b.mul_lo(b.mad_lo(b.ctaid_x(), groups, group), plan.rows_per_warp);

    // Rows g + 8p of the warp (clamped to the last row), at this lane's 8-byte column.
    std::vector<std::vector<GlobalPtr>> row_at(mats);
    for (uint32_t h = 0; h < pairs; ++h) {
        Reg<u32> row = b.min(b.add(first_row, b.add(g, 8 * h)), s.n - 1);
        for (uint32_t m = 0; m < mats; ++m) row_at[m].push_back(b.index(w[m], row, row_bytes));
    }
    Reg<u32> t8 = b.shl(t, 3u);
    // n-tile nt covers vectors 8 nt .. 8 nt + 7. B: vector min(8 nt + g, batch - 1) at this lane's
    // 8 bytes; C: vectors 8 nt + 2t and + 1 (clamped).
    const uint32_t ntiles = (vecs + 7) / 8;
    std::vector<GlobalPtr> x_at;
    std::vector<std::array<GlobalPtr, 2>> ds_at(ntiles);
    for (uint32_t nt = 0; nt < ntiles; ++nt) {
        x_at.push_back(b.index(b.index(xq, b.min(b.add(g, 8 * nt), vecs - 1), s.k), t, 8));
        for (uint32_t e = 0; e < 2; ++e) {
            ds_at[nt][e] = b.index(xds, b.min(b.add(b.shl(t, 1u), 8 * nt + e), vecs - 1), s.k / 32 * 4);
        }
    }

    AFrag ones;
    for (auto& r : ones) r = b.mov<b32>(0x01010101u);
    CFrag zero;
    for (auto& r : zero) r = b.mov<s32>(0);
    // acc[m][4 (nt tiles + tile) + i]: C element i of m-tile `tile` and n-tile nt for matrix m.
    std::vector<std::vector<Reg<f32>>> acc(mats);
    for (auto& per_matrix : acc) {
        for (uint32_t i = 0; i < 4 * tiles * ntiles; ++i) per_matrix.push_back(b.mov<f32>(0.0f));
    }

    using Loaded = std::vector<std::vector<RowBlock>>;  // [matrix][h]
    auto load = [&](Reg<u32> sb) {
        Loaded l(mats, std::vector<RowBlock>(pairs));
        Reg<u32> offset = b.mul_lo(sb, kBlockBytes);
        for (uint32_t m = 0; m < mats; ++m) {
            for (uint32_t h = 0; h < pairs; ++h) {
                GlobalPtr block = b.index(row_at[m][h], offset, 1);
                GlobalPtr mine = b.index(block, t8, 1);
                l[m][h].header = b.ld_v<u32, 4>(block[0], {.nc = true});
                for (uint32_t c = 0; c < 4; ++c) {
                    l[m][h].quants[c] = b.ld_v<u32, 2>(mine[16 + 32 * int64_t{c}], {.evict = plan.weight_evict, .nc = true});
                }
            }
        }
        return l;
    };
    auto compute = [&](const Loaded& l, Reg<u32> sb) {
        std::vector<std::vector<RowScales>> scales(mats);
        for (uint32_t m = 0; m < mats; ++m) {
            for (uint32_t h = 0; h < pairs; ++h) scales[m].push_back(decode_scales(b, l[m][h].header));
        }
        // dx of the Q8_1 block of sub-block j for the lane's C vector e of n-tile nt. With one
        // n-tile the super-block's 8 are loaded up front (two 16-byte loads per vector); with
        // more, each is loaded when used, to keep registers for the accumulators.
        std::array<std::array<Reg<f32>, 8>, 2> dx_first;
        if (ntiles == 1) {
            for (uint32_t e = 0; e < 2; ++e) {
                GlobalPtr ds = b.index(ds_at[0][e], sb, 32);
                for (uint32_t half = 0; half < 2; ++half) {
                    Regs<u32, 4> words = b.ld_v<u32, 4>(ds[16 * int64_t{half}], {.nc = true});
                    for (uint32_t i = 0; i < 4; ++i) dx_first[e][4 * half + i] = gemv::half2_to_f32(b, words[i]).first;
                }
            }
        }
        auto dx = [&](uint32_t nt, uint32_t e, uint32_t j) {
            if (ntiles == 1) return dx_first[e][j];
            return gemv::half2_to_f32(b, b.ld<u32>(b.index(ds_at[nt][e], sb, 32)[4 * int64_t{j}], {.nc = true})).first;
        };
        for (uint32_t j = 0; j < 8; ++j) {
            const uint32_t c = j / 2;
            const bool high = j % 2 == 1;
            // a0 / a1: rows g / g + 8, k 4t..; a2 / a3: the same rows, k 16 + 4t.. (per matrix and m-tile)
            auto nibbles = [&](Reg<u32> word) { return b.bitcast<b32>(b.and_(high ? b.shr(word, 4u) : word, 0x0F0F0F0Fu)); };
            std::vector<std::vector<AFrag>> a(mats);
            for (uint32_t m = 0; m < mats; ++m) {
                for (uint32_t tl = 0; tl < tiles; ++tl) {
                    const RowBlock& top = l[m][2 * tl];
                    const RowBlock& bottom = l[m][2 * tl + 1];
                    a[m].push_back({nibbles(top.quants[c][0]), nibbles(bottom.quants[c][0]), nibbles(top.quants[c][1]),
                                    nibbles(bottom.quants[c][1])});
                }
            }
            for (uint32_t nt = 0; nt < ntiles; ++nt) {
                Regs<u32, 2> xw = b.ld_v<u32, 2>(b.index(x_at[nt], sb, 256)[64 * int64_t{c} + 32 * int64_t{j % 2}], {.nc = true});
                BFrag xb{b.bitcast<b32>(xw[0]), b.bitcast<b32>(xw[1])};
                CFrag sums = mma_s8(b, lane, ones, xb, zero);
                const std::array<Reg<f32>, 2> sum_f{b.cvt<f32>(sums[0], {.round = Round::rn}),
                                                    b.cvt<f32>(sums[1], {.round = Round::rn})};
                const std::array<Reg<f32>, 2> dxv{dx(nt, 0, j), dx(nt, 1, j)};
                for (uint32_t m = 0; m < mats; ++m) {
                    for (uint32_t tl = 0; tl < tiles; ++tl) {
                        CFrag dot = mma_s8(b, lane, a[m][tl], xb, zero);
                        for (uint32_t i = 0; i < 4; ++i) {
                            const uint32_t h = 2 * tl + i / 2, e = i % 2;
                            Reg<f32> dot_f = b.cvt<f32>(dot[i], {.round = Round::rn});
                            Reg<f32> unit = b.fma(scales[m][h].dsc[j], dot_f, b.mul(scales[m][h].ndm[j], sum_f[e]));
                            Reg<f32>& sum = acc[m][4 * (nt * tiles + tl) + i];
                            b.mov(sum, b.fma(unit, dxv[e], sum));
                        }
                    }
                }
            }
        }
    };
    auto carry = [&](Loaded& to, const Loaded& from) {
        for (uint32_t m = 0; m < mats; ++m) {
            for (uint32_t h = 0; h < pairs; ++h) {
                for (uint32_t i = 0; i < 4; ++i) b.mov(to[m][h].header[i], from[m][h].header[i]);
                for (uint32_t c = 0; c < 4; ++c) {
                    for (uint32_t i = 0; i < 2; ++i) b.mov(to[m][h].quants[c][i], from[m][h].quants[c][i]);
                }
            }
        }
    };

    // plan_mma keeps k_split <= superblocks, so every slice has a first super-block.
    Reg<u32> current_sb = b.mov<u32>(slice);
    Loaded current = load(current_sb);
    if (superblocks > split) {
        b.for_range(b.add(slice, split), superblocks, split, [&](Reg<u32> sb) {
            Loaded next = load(sb);
            compute(current, current_sb);
            carry(current, next);
            b.mov(current_sb, sb);
        }, Unroll{1});
    }
    compute(current, current_sb);

    // Slices of a K split add up in shared memory (lane-major, conflict-free), into slice 0.
    Pred leader = b.setp(Cmp::eq, slice, 0u);
    if (split > 1) {
        const uint32_t per_warp = mats * 4 * tiles * ntiles;
        SharedArray partial = b.shared_array("partial", plan.warps * per_warp * 32 * 4, 16);
        SharedPtr mine = b.index(b.index(b.addr_of(partial), warp, per_warp * 32 * 4), lane, 4);
        b.if_(b.setp(Cmp::ne, slice, 0u), [&] {
            for (uint32_t m = 0; m < mats; ++m) {
                for (uint32_t i = 0; i < 4 * tiles * ntiles; ++i) b.st(mine[int64_t{m * 4 * tiles * ntiles + i} * 32 * 4], acc[m][i]);
            }
        });
        b.bar_sync();
        b.if_(leader, [&] {
            for (uint32_t other = 1; other < split; ++other) {
                for (uint32_t m = 0; m < mats; ++m) {
                    for (uint32_t i = 0; i < 4 * tiles * ntiles; ++i) {
                        const int64_t at = (int64_t{other} * per_warp + m * 4 * tiles * ntiles + i) * 32 * 4;
                        b.mov(acc[m][i], b.add(acc[m][i], b.ld<f32>(mine[at])));
                    }
                }
            }
        });
    }
    // out[4 (nt tiles + tile) + i] is row first + 16 tile + g + 8 (i / 2), vector 8 nt + 2t + i % 2.
    const uint32_t outs = 4 * tiles * ntiles;
    std::vector<Reg<f32>> out;
    for (uint32_t i = 0; i < outs; ++i) out.push_back(mats == 2 ? gemv::silu_times(b, acc[0][i], acc[1][i]) : acc[0][i]);
    auto row_of = [&](uint32_t i) { return b.add(g, 16 * (i / 4 % tiles) + 8 * (i % 4 / 2)); };
    auto vec_of = [&](uint32_t i) { return b.add(b.shl(t, 1u), 8 * (i / 4 / tiles) + i % 2); };
    if (s.output == GemvOutput::f32) {
        for (uint32_t i = 0; i < outs; ++i) {
            Reg<u32> row = b.add(first_row, row_of(i));
            Reg<u32> vec = vec_of(i);
            Pred writer = b.setp(Cmp::lt, row, s.n, BoolOp::and_, b.setp(Cmp::lt, vec, vecs, BoolOp::and_, leader));
            b.predicated(writer, [&] {
                Address<Space::global> at = b.index(y, b.mad_lo(vec, s.n, row), 4)[0];
                if (s.epilogue == GemvEpilogue::residual) b.st(at, b.add(b.ld<f32>(at), out[i]));
                else b.st(at, out[i]);
            });
        }
    } else {
        // 32 rows per CTA (plan_mma): one Q8_1 block per vector.
        SharedArray staged = b.shared_array("staged", vecs * 32 * 4, 16);
        SharedPtr base = b.addr_of(staged);
        for (uint32_t i = 0; i < outs; ++i) {
            Reg<u32> local = b.add(b.mul_lo(group, plan.rows_per_warp), row_of(i));
            Reg<u32> vec = vec_of(i);
            b.predicated(b.setp(Cmp::lt, vec, vecs, BoolOp::and_, leader),
                         [&] { b.st(b.index(base, b.mad_lo(vec, 32u, local), 4)[0], out[i]); });
        }
        b.bar_sync();
        gemv::quantize_staged(b, base, vecs, s.n, plan.warps, warp, lane, b.mul_lo(b.ctaid_x(), 32u), yq, yds);
    }
    return b.finish();
}

}  // namespace kernels
