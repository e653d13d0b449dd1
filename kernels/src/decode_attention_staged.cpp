// Thread mapping of decode_attention's staged variant, for groups above 8 query heads per KV head
// (layout and combine protocol: decode_attention.hpp; the register variant and the shared
// arrival and combine: decode_attention_build.cpp).
//
// CTA (c, kv) of W = 4 warps owns positions [c * chunk, (c + 1) * chunk) of KV head kv. First its
// 128 threads copy the chunk's K and V rows into shared memory with 16-byte loads (positions
// clamped into [lo, len), so memory outside the attended range is never read): every byte of K
// and V comes from global memory once, for all query heads of the group. Then warp w takes query
// heads [w * Hw, (w + 1) * Hw) (Hw = plan.heads_per_warp), plan.heads_per_pass (at most 8) at a
// time, and works alone over the whole chunk, reading K and V from shared memory:
//   A  scores: L = head_dim / 8 lanes share one position, 8 dims each, so one 16-byte shared load
//      per lane covers R = 32 / L positions; dot products reduced over the L lanes by butterflies;
//      lane (l % L) == g stores head g's score into the warp's own rows [heads_per_pass][chunk].
//      Positions outside [lo, len) get -inf.
//   B  per head: the chunk's max m, p = 2^(s - m) in place, l = sum p; m and l to the partials.
//   C  o[g][8 dims] += p * v per lane; then the sum over the warp's R rows by shuffles, and the
//      lanes of row 0 store o to the partials. A head belongs to one warp: no cross-warp sum.
// The phases are separated by CTA barriers, although the score rows are the warp's own: every
// warp runs the same passes, and bar.sync is what the interpreter's race check understands.
// Heads past the warp's share or past the group run on a clamped q and store nothing.
#include "decode_attention_internal.hpp"
#include "kernels/decode_attention.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;
using namespace decode_detail;

Kernel DecodeAttention::build_staged(const Target& target) const {
    const uint32_t D = head_dim, G = group(), C = plan.chunk, S = plan.max_splits, W = plan.warps;
    const uint32_t L = plan.lanes_per_row, R = plan.rows_per_step, T = 32 * W;
    const uint32_t Hw = plan.heads_per_warp, Gt = plan.heads_per_pass, P = plan.passes;
    const uint32_t steps = C / R;            // positions per lane in phases A and C
    const uint32_t stage_bytes = C * D * 2;  // one of K, V: [C][D] f16
    const uint32_t per_thread = stage_bytes / 16 / T;  // exact: C % 32 == 0 and L >= 8
    const uint32_t row_bytes = R * D * 2;    // shared bytes one warp load covers
    const uint64_t ml_base_bytes = uint64_t{kv_heads} * S * G * D * 4;
    const bool slot_guard = P * Gt != Hw;  // the last pass has slots past the warp's share
    const bool group_guard = W * Hw != G;  // the last warps have heads past the group

    KernelBuilder b(name(), target);
    const Frame f = begin_frame(b, target, {T, max_seq, window, C, 0, ml_base_bytes});
    const GlobalPtr q = f.q, kc = f.k_cache, vc = f.v_cache, out = f.out, partials = f.partials,
                    partials_ml = f.partials_ml, counters = f.counters;
    const Reg<u32> tid = f.tid, lane = f.lane, warp = f.warp, split = f.split, kv = f.kv, n = f.n, lo = f.lo;
    SharedArray k_stage = b.shared_array("k_stage", stage_bytes, 16);  // [C][D] f16
    SharedArray v_stage = b.shared_array("v_stage", stage_bytes, 16);  // [C][D] f16
    SharedArray scores = b.shared_array("scores", W * Gt * C * 4, 16); // [W][Gt][C] f32
    SharedArray last_flag = b.shared_array("last_flag", 4, 4);

    b.if_(f.working, [&] {
        // Staging: piece tid + i * T of a buffer is position (tid / L) + i * (T / L) of the chunk,
        // dims 8 * (tid % L) ..; all loads are issued before the first store.
        Reg<u32> n_minus_1 = b.sub(n, 1u);
        Reg<u32> kv_row0 = b.mul_lo(kv, max_seq);
        Reg<u32> piece_pos = b.mad_lo(split, C, b.shr(tid, log2_exact(L)));
        Reg<u32> piece_col = b.and_(tid, L - 1);
        GlobalPtr k_piece = b.index(kc, piece_col, 16);
        GlobalPtr v_piece = b.index(vc, piece_col, 16);
        std::vector<Regs<u32, 4>> k_loaded, v_loaded;
        for (uint32_t i = 0; i < per_thread; ++i) {
            Reg<u32> p = b.add(piece_pos, i * (T / L));
            Reg<u32> row = b.add(kv_row0, b.min(b.max(p, lo), n_minus_1));
            k_loaded.push_back(b.ld_v<u32, 4>(b.index(k_piece, row, D * 2)[0], {.nc = true}));
            v_loaded.push_back(b.ld_v<u32, 4>(b.index(v_piece, row, D * 2)[0], {.nc = true}));
        }
        SharedPtr k_base = b.addr_of(k_stage);
        SharedPtr v_base = b.addr_of(v_stage);
        SharedPtr k_store = b.index(k_base, tid, 16);
        SharedPtr v_store = b.index(v_base, tid, 16);
        for (uint32_t i = 0; i < per_thread; ++i) {
            b.st_v<u32, 4>(k_store[int64_t{i} * T * 16], k_loaded[i]);
            b.st_v<u32, 4>(v_store[int64_t{i} * T * 16], v_loaded[i]);
        }
        b.bar_sync();

        Reg<u32> row = b.shr(lane, log2_exact(L));  // which of the R positions of a load
        Reg<u32> col = b.and_(lane, L - 1);         // which 8 dims
        Reg<u32> pos0 = b.mad_lo(split, C, row);    // the lane's position at step 0
        SharedPtr k_lane = b.index(k_base, lane, 16);  // step t: + t * row_bytes
        SharedPtr v_lane = b.index(v_base, lane, 16);
        SharedPtr warp_scores = b.index(b.addr_of(scores), warp, Gt * C * 4);
        SharedPtr my_score = b.index(warp_scores, b.mad_lo(col, C, row), 4);  // [col][row + t R]
        SharedPtr my_p = b.index(warp_scores, row, 4);                         // [g][row + t R]
        SharedPtr lane_scores = b.index(warp_scores, lane, 4);                 // [g][lane + 32 j]
        std::vector<Pred> col_is(Gt);
        for (uint32_t g = 1; g < Gt; ++g) col_is[g] = b.setp(Cmp::eq, col, g);
        Pred col_stores = b.setp(Cmp::lt, col, Gt);
        Pred lane_zero = b.setp(Cmp::eq, lane, 0u);
        Pred row_zero = b.setp(Cmp::lt, lane, L);
        const float q_scale = static_cast<float>(effective_scale()) * kLog2e;
        GlobalPtr q_lane = b.index(q, b.mad_lo(kv, G * D, b.shl(col, 3u)), 4);
        Reg<u32> ml_record0 = b.mul_lo(b.mad_lo(kv, S, split), G);  // (kv * S + split) * G
        GlobalPtr o_lane = b.index(b.index(partials, ml_record0, D * 4), col, 32);
        Reg<u32> warp_first = b.mul_lo(warp, Hw);

        // One pass: query heads first_slot + g (g < Gt) of the warp's share.
        auto pass = [&](Reg<u32> first_slot) {
            std::vector<Reg<u32>> head(Gt), q_head(Gt);
            std::vector<Pred> has(Gt);
            for (uint32_t g = 0; g < Gt; ++g) {
                Reg<u32> slot = b.add(first_slot, g);
                head[g] = b.add(warp_first, slot);
                q_head[g] = slot_guard || group_guard ? b.min(head[g], G - 1) : head[g];
                if (slot_guard && group_guard) {
                    has[g] = b.setp(Cmp::lt, slot, Hw, BoolOp::and_, b.setp(Cmp::lt, head[g], G));
                } else if (slot_guard) {
                    has[g] = b.setp(Cmp::lt, slot, Hw);
                } else if (group_guard) {
                    has[g] = b.setp(Cmp::lt, head[g], G);
                }
            }
            auto when_has = [&](uint32_t g, Pred p) { return slot_guard || group_guard ? b.and_(p, has[g]) : p; };

            // q slices, pre-multiplied so that scores come out in log2 units.
            std::vector<std::vector<Reg<f32>>> qv(Gt);
            for (uint32_t g = 0; g < Gt; ++g) {
                GlobalPtr qh = b.index(q_lane, q_head[g], D * 4);
                for (uint32_t half = 0; half < 2; ++half) {
                    for (Reg<f32> x : b.ld_v<f32, 4>(qh[int64_t{half} * 16], {.nc = true})) qv[g].push_back(b.mul(x, q_scale));
                }
            }

            // Phase A.
            for (uint32_t t = 0; t < steps; ++t) {
                std::vector<Reg<f32>> k = widen(b, b.ld_v<u32, 4>(k_lane[int64_t{t} * row_bytes]));
                std::vector<Reg<f32>> dot(Gt);
                for (uint32_t g = 0; g < Gt; ++g) {
                    dot[g] = b.mul(qv[g][0], k[0]);
                    for (uint32_t j = 1; j < 8; ++j) dot[g] = b.fma(qv[g][j], k[j], dot[g]);
                }
                for (uint32_t m = 1; m < L; m *= 2) {
                    for (uint32_t g = 0; g < Gt; ++g) dot[g] = b.add(dot[g], b.shfl_bfly(dot[g], m));
                }
                Reg<f32> mine = dot[0];
                for (uint32_t g = 1; g < Gt; ++g) mine = b.selp<f32>(dot[g], mine, col_is[g]);
                Reg<u32> p = b.add(pos0, t * R);
                Pred valid = b.setp(Cmp::ge, p, lo, BoolOp::and_, b.setp(Cmp::lt, p, n));
                Reg<f32> s = b.selp<f32>(mine, kMinusInf, valid);
                b.predicated(col_stores, [&] { b.st(my_score[int64_t{t * R} * 4], s); });
            }
            b.bar_sync();

            // Phase B.
            for (uint32_t g = 0; g < Gt; ++g) {
                std::vector<Reg<f32>> s;
                for (uint32_t j = 0; j < C / 32; ++j) s.push_back(b.ld<f32>(lane_scores[int64_t{g * C + j * 32} * 4]));
                Reg<f32> m = s[0];
                for (uint32_t j = 1; j < s.size(); ++j) m = b.max(m, s[j]);
                for (uint32_t mask = 16; mask >= 1; mask /= 2) m = b.max(m, b.shfl_bfly(m, mask));
                Reg<f32> sum = b.mov<f32>(0.0f);
                for (uint32_t j = 0; j < s.size(); ++j) {
                    Reg<f32> p = b.ex2(b.sub(s[j], m));
                    b.st(lane_scores[int64_t{g * C + j * 32} * 4], p);
                    sum = b.add(sum, p);
                }
                for (uint32_t mask = 16; mask >= 1; mask /= 2) sum = b.add(sum, b.shfl_bfly(sum, mask));
                b.predicated(when_has(g, lane_zero), [&] {
                    b.st_v<f32, 2>(b.index(partials_ml, b.add(ml_record0, head[g]), 8)[0], Regs<f32, 2>{m, sum});
                });
            }
            b.bar_sync();

            // Phase C.
            std::vector<std::vector<Reg<f32>>> o(Gt, std::vector<Reg<f32>>(8));
            for (uint32_t t = 0; t < steps; ++t) {
                std::vector<Reg<f32>> v = widen(b, b.ld_v<u32, 4>(v_lane[int64_t{t} * row_bytes]));
                for (uint32_t g = 0; g < Gt; ++g) {
                    Reg<f32> p = b.ld<f32>(my_p[int64_t{g * C + t * R} * 4]);
                    for (uint32_t j = 0; j < 8; ++j) o[g][j] = t == 0 ? b.mul(p, v[j]) : b.fma(p, v[j], o[g][j]);
                }
            }

            // Phase D: the sum over the warp's rows, stored by the lanes of row 0.
            for (uint32_t m = L; m < 32; m *= 2) {
                for (auto& per_head : o) {
                    for (Reg<f32>& x : per_head) x = b.add(x, b.shfl_bfly(x, m));
                }
            }
            for (uint32_t g = 0; g < Gt; ++g) {
                b.predicated(when_has(g, row_zero), [&] {
                    GlobalPtr at = b.index(o_lane, head[g], D * 4);
                    b.st_v<f32, 4>(at[0], Regs<f32, 4>{o[g][0], o[g][1], o[g][2], o[g][3]});
                    b.st_v<f32, 4>(at[16], Regs<f32, 4>{o[g][4], o[g][5], o[g][6], o[g][7]});
                });
            }
            b.bar_sync();  // the next pass rewrites the score rows
        };
        if (P == 1) {
            pass(b.mov<u32>(0u));
        } else {
            b.for_range(0u, P, 1, [&](Reg<u32> i) { pass(b.mul_lo(i, Gt)); }, Unroll{1});
        }
    });

    emit_arrive_and_combine(b, {tid, kv, f.split, f.first_split, f.last_split, out, partials, partials_ml, counters,
                                last_flag, D, G, S, T, kv_heads, plan.combine_group});
    return b.finish();
}

}  // namespace kernels
