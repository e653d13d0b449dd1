// Thread mapping of decode_attention's mma variant, for groups of at most 8 query heads per KV
// head and head_dim 64 or 128 (layout and combine protocol: decode_attention.hpp; the merge of the
// warps and the combine it shares with the online variant: decode_attention_build.cpp).
//
// CTA (c, kv) of W = 4 warps owns span c of KV head kv: at run time the attended positions
// [lo, len), as T = ceil((len - lo) / Bk) steps of Bk = 16 positions from lo, are dealt to the
// first count = min(S, ceil(T / plan.min_steps)) of the grid's S CTAs per KV head (plan_mma sizes
// S for the GPU's SMs),
// CTA c taking steps [c T / count, (c + 1) T / count), so spans differ by at most one step and
// every SM has the same work at any length. Warp w takes the contiguous quarter [w cs / W,
// (w + 1) cs / W) of its CTA's cs steps (possibly none) and walks it a step at a time,
// with two m16n8k16 tensor-core products per step:
//   S (16 x 16: heads x positions) = Q K^T   Q's rows are the group's query heads (rows 0 ..
//        group - 1, the rest zero); K's B fragments by ldmatrix from the warp's shared copy.
//   O^T (D x 8: dims x heads) += V^T P^T     V^T's A fragments by ldmatrix.trans from the same
//        lane addresses as K's; P^T's B fragment is S's C fragment as it stands (lane (g, t)
//        holds head g at positions 2t, 2t + 1, 8 + 2t, 9 + 2t in both), so P never moves between
//        lanes, and O has no unused rows: D / 16 accumulators of 4 registers.
// Why: the CUDA-core variants spend about 60 instructions per position (the scores' butterflies
// above all), which with 4 warps per scheduler leaves the loads' latency exposed; here a position
// costs a few, and the loads go straight to shared memory by cp.async, so no register holds a
// byte in flight and the compiler cannot sink them.
// Precision: f16 operands would cost 2^-11 relative on q and on p, more than the family's 1e-4,
// so q (pre-scaled by scale * log2 e) and p are each split into f16 hi + lo (x = hi + lo to
// 2^-22) and every product is taken twice; the tensor cores have the time to spare.
// Staging: each warp has its own ring of N = plan.stages steps (2 by default, --stages; K tile, V
// tile of Bk rows each, rows padded by 16
// bytes so that the 8 rows an ldmatrix phase reads fall in distinct banks). Lane l copies 16-byte
// chunk l % (D / 8) of rows l / (D / 8), + 32 / (D / 8), ... with cp.async; rows outside [lo, len)
// are zero-filled and read nothing. Step s + N is issued once every lane has read step s
// (bar.warp.sync); step s is awaited (cp.async.wait_group, then bar.warp.sync so that every lane's
// copies are visible to the warp) before it is used. No CTA barrier until the end.
// Softmax: lane (g, t) = (lane / 4, lane % 4) holds head g's scores of positions 2t, 2t + 1,
// 8 + 2t, 9 + 2t of the step (S's rows g + 8 are unused); the head's running max m (log2 units)
// comes from two butterflies, l is kept per lane and summed at the end; O^T's columns 2t, 2t + 1
// take the rescale factors of heads 2t and 2t + 1 by two shuffles. Positions outside [lo, len)
// get -inf. At the end the warp's o[g][D], m and l go to its own ring (which it no longer reads)
// and merge_warps_to_partial writes the chunk's partial.
#include <fmt/format.h>

#include <bit>

#include "decode_attention_internal.hpp"
#include "kernels/decode_attention.hpp"
#include "mma_fragments.hpp"
#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

using namespace ptxgen;
using namespace decode_detail;
using namespace mma_detail;

namespace {


// x as f16 hi + lo (both round to nearest): x - hi is exact in f32, so hi + lo is x to 2^-22.
std::array<Reg<f16x2>, 2> split_pair(KernelBuilder& b, Reg<f32> x0, Reg<f32> x1) {
    Reg<f16x2> hi = to_f16x2(b, x0, x1);
    Regs<f16, 2> h = b.unpack<f16>(hi);
    Reg<f32> r0 = b.sub(x0, b.cvt<f32>(h[0]));
    Reg<f32> r1 = b.sub(x1, b.cvt<f32>(h[1]));
    return {hi, to_f16x2(b, r0, r1)};
}

}  // namespace

namespace decode_detail {

uint32_t mma_shared_bytes(uint32_t head_dim, uint32_t warps, uint32_t stages) {
    return warps * stages * 2 * kKeyTile * (2 * head_dim + 16);
}

}  // namespace decode_detail

Kernel DecodeAttention::build_mma(const Target& target) const {
    const uint32_t D = head_dim, G = group(), S = plan.max_splits, W = plan.warps;
    const uint32_t N = plan.stages;  // steps in each warp's ring
    const uint32_t pitch = 2 * D + 16, tile = kKeyTile * pitch, stage_bytes = 2 * tile, ring = N * stage_bytes;
    const uint32_t chunks_per_row = D / 8, rows_per_pass = 32 / chunks_per_row, passes = kKeyTile / rows_per_pass;
    const uint32_t k_steps = D / 16, d_tiles = D / 16;
    const uint64_t ml_base_bytes = uint64_t{kv_heads} * S * G * D * 4;
    const float q_scale = static_cast<float>(effective_scale()) * kLog2e;

    KernelBuilder b(name(), target);
    Frame f = begin_frame(b, target, {32 * W, max_seq, window, plan.chunk, plan.ctas_per_sm, ml_base_bytes});
    const Reg<u32> tid = f.tid, lane = f.lane, warp = f.warp, split = f.split, kv = f.kv, n = f.n, lo = f.lo;
    // The split follows the length: the attended positions, as total_steps steps of Bk from lo,
    // are dealt to count = min(S, ceil(total_steps / min_steps)) CTAs as evenly as whole steps allow (S is sized
    // for the GPU's SMs, see plan_mma), so every SM has the same work at any length.
    Reg<u32> total_steps = b.shr(b.add(b.sub(n, lo), kKeyTile - 1), log2_exact(kKeyTile));
    Reg<u32> count = plan.min_steps == 1 ? b.min(total_steps, S)
                                         : b.min(b.div(b.add(total_steps, plan.min_steps - 1), plan.min_steps), S);
    f.first_split = b.mov<u32>(0u);
    f.last_split = b.sub(count, 1u);
    f.working = b.setp(Cmp::lt, split, count);
    SharedPtr smem = b.addr_of(b.dynamic_shared(16));
    SharedArray last_flag = b.shared_array("last_flag", 4, 4);

    b.if_(f.working, [&] {
        Reg<u32> g = b.shr(lane, 2u);
        Reg<u32> t4 = b.and_(lane, 3u);
        SharedPtr my_ring = b.offset(smem, b.mul_lo(warp, ring));
        // The CTA's steps [c T / count, (c + 1) T / count), its warp w's [w cs / W, (w + 1) cs / W)
        // of those (cs of them; a warp may have none), as positions [first, end) cut at len.
        Reg<u32> cta_first = b.div(b.mul_lo(split, total_steps), count);
        Reg<u32> cta_steps = b.sub(b.div(b.mad_lo(split, total_steps, total_steps), count), cta_first);
        Reg<u32> warp_first = b.shr(b.mul_lo(warp, cta_steps), log2_exact(W));
        Reg<u32> steps = b.sub(b.shr(b.mad_lo(warp, cta_steps, cta_steps), log2_exact(W)), warp_first);
        Reg<u32> first = b.add(lo, b.shl(b.add(cta_first, warp_first), log2_exact(kKeyTile)));
        Reg<u32> end = b.min(b.add(first, b.shl(steps, log2_exact(kKeyTile))), n);

        // Staging: this lane's 16-byte chunk of its first row, in global and shared memory.
        Reg<u32> copy_row = b.shr(lane, log2_exact(chunks_per_row));
        Reg<u32> copy_col = b.and_(lane, chunks_per_row - 1);
        GlobalPtr k_src = b.index(b.index(f.k_cache, b.mul_lo(kv, max_seq), D * 2), copy_col, 16);
        GlobalPtr v_src = b.index(b.index(f.v_cache, b.mul_lo(kv, max_seq), D * 2), copy_col, 16);
        SharedPtr copy_dst = b.offset(my_ring, b.mad_lo(copy_row, pitch, b.shl(copy_col, 4u)));
        // Step `step` (rows first + 16 step ..) into ring slot `slot` (a byte offset); rows at or
        // past `end` are zero-filled and read nothing, so a step past the warp's range only waits.
        auto stage = [&](Reg<u32> step, Reg<u32> slot) {
            Reg<u32> row0 = b.add(b.mad_lo(step, kKeyTile, first), copy_row);
            SharedPtr dst = b.offset(copy_dst, slot);
            for (uint32_t p = 0; p < passes; ++p) {
                Reg<u32> pos = b.add(row0, p * rows_per_pass);
                Pred inside = b.setp(Cmp::lt, pos, end);
                Reg<u32> at = b.min(pos, b.sub(n, 1u));
                const int64_t row_off = int64_t{p} * rows_per_pass * pitch;
                copy16(b, dst[row_off], b.index(k_src, at, D * 2)[0], inside);
                copy16(b, dst[row_off + tile], b.index(v_src, at, D * 2)[0], inside);
            }
            if (target.sm >= 80) b.cp_async_commit();
        };
        for (uint32_t i = 0; i < N; ++i) stage(b.mov<u32>(i), b.mov<u32>(i * stage_bytes));

        // q of head g (rows past the group are zero), pre-scaled, as hi and lo A fragments.
        Reg<f32> zero = b.mov<f32>(0.0f);
        Reg<f16x2> zero2 = b.mov<f16x2>(0u);
        Pred real_row = b.setp(Cmp::lt, g, G);
        GlobalPtr q_lane = b.index(f.q, b.mad_lo(kv, G * D, b.mad_lo(b.min(g, G - 1), D, b.shl(t4, 1u))), 4);
        std::vector<AFrag> q_hi, q_lo;
        for (uint32_t ks = 0; ks < k_steps; ++ks) {
            std::array<std::array<Reg<f16x2>, 2>, 2> parts;  // [column half][hi, lo]
            for (uint32_t half = 0; half < 2; ++half) {
                Regs<f32, 2> x = b.ld_v<f32, 2>(q_lane[int64_t{ks * 16 + half * 8} * 4], {.nc = true});
                Reg<f32> x0 = b.selp<f32>(b.mul(x[0], q_scale), zero, real_row);
                Reg<f32> x1 = b.selp<f32>(b.mul(x[1], q_scale), zero, real_row);
                parts[half] = split_pair(b, x0, x1);
            }
            q_hi.push_back({parts[0][0], zero2, parts[1][0], zero2});
            q_lo.push_back({parts[0][1], zero2, parts[1][1], zero2});
        }

        // ldmatrix lane addresses: (positions 0-7, d 0-7), (0-7, d 8-15), (8-15, d 0-7), (8-15, d 8-15)
        // of a K or V tile: K's B fragments of two 8-position blocks as they are, V^T's A fragment of
        // a 16 x 16 (d x positions) tile with .trans.
        Reg<u32> frag_row = b.add(b.and_(lane, 7u), b.shr(b.and_(lane, 16u), 1u));
        SharedPtr frag_at = b.offset(my_ring, b.mad_lo(frag_row, pitch, b.shl(b.and_(lane, 8u), 1u)));

        // O^T (D x 8: dims x heads) as D / 16 m16n8 accumulators: lane (g, t) holds dims
        // 16 mt + g, + 8 of heads 2t, 2t + 1.
        const Acc zero_acc{zero, zero, zero, zero};
        std::vector<Acc> o(d_tiles);
        for (Acc& a : o)
            for (auto& r : a) r = b.mov<f32>(0.0f);
        // The lanes holding heads 2t and 2t + 1 (their g), for their rescale factors.
        Reg<u32> head_lane0 = b.shl(t4, 3u);
        Reg<u32> head_lane1 = b.add(head_lane0, 4u);
        Reg<f32> m = b.mov<f32>(kMinusInf);
        Reg<f32> l = b.mov<f32>(0.0f);
        Reg<u32> lane_key = b.add(first, b.shl(t4, 1u));

        b.for_range(0u, steps, 1, [&](Reg<u32> step) {
            // Every step commits one group, so N - 1 may stay pending: step's own has landed.
            if (target.sm >= 80) b.cp_async_wait(N - 1);
            b.bar_warp_sync();
            Reg<u32> slot = b.mul_lo(N == 2 ? b.and_(step, 1u) : b.rem(step, N), stage_bytes);
            SharedPtr at = b.offset(frag_at, slot);
            // S = Q K^T, hi and lo parts of q.
            std::array<Acc, 2> sc{zero_acc, zero_acc};
            for (uint32_t ks = 0; ks < k_steps; ++ks) {
                Regs<f16x2, 4> kf = b.ldmatrix<4, f16x2>(at[ks * 32]);
                for (uint32_t nb = 0; nb < 2; ++nb) {
                    const BFrag bf{kf[2 * nb], kf[2 * nb + 1]};
                    sc[nb] = mma(b, lane, q_hi[ks], bf, sc[nb]);
                    sc[nb] = mma(b, lane, q_lo[ks], bf, sc[nb]);
                }
            }
            // Positions at or past the warp's end score -inf; the head's max over the step.
            Reg<u32> key0 = b.mad_lo(step, kKeyTile, lane_key);
            std::array<Reg<f32>, 4> x;  // positions 2t, 2t + 1, 8 + 2t, 9 + 2t of the step
            for (uint32_t i = 0; i < 4; ++i) {
                Pred valid = b.setp(Cmp::lt, b.add(key0, (i / 2) * 8 + i % 2), end);
                x[i] = b.selp<f32>(sc[i / 2][i % 2], kMinusInf, valid);
            }
            Reg<f32> mx = b.max(b.max(x[0], x[1]), b.max(x[2], x[3]));
            mx = b.max(mx, b.shfl_bfly(mx, 1u));
            mx = b.max(mx, b.shfl_bfly(mx, 2u));
            Reg<f32> m_new = b.max(m, mx);
            Reg<f32> ref = finite_or_zero(b, m_new);
            Reg<f32> alpha = b.ex2(b.sub(m, ref));
            std::array<Reg<f32>, 4> p;
            for (uint32_t i = 0; i < 4; ++i) p[i] = b.ex2(b.sub(x[i], ref));
            b.mov(l, b.fma(l, alpha, b.add(b.add(p[0], p[1]), b.add(p[2], p[3]))));
            b.mov(m, m_new);
            // O^T = O^T alpha + V^T P^T. The B operand P^T (positions x heads) is exactly the C
            // layout of S: lane (g, t) holds head g at positions 2t, 2t + 1 and 8 + 2t, 9 + 2t.
            std::array<Reg<f16x2>, 2> first_pair = split_pair(b, p[0], p[1]);   // positions 2t, 2t + 1: hi, lo
            std::array<Reg<f16x2>, 2> second_pair = split_pair(b, p[2], p[3]);  // 8 + 2t, 9 + 2t
            const BFrag pt_hi{first_pair[0], second_pair[0]}, pt_lo{first_pair[1], second_pair[1]};
            Reg<f32> alpha0 = b.shfl_idx(alpha, head_lane0);
            Reg<f32> alpha1 = b.shfl_idx(alpha, head_lane1);
            for (uint32_t mt = 0; mt < d_tiles; ++mt) {
                const Acc& a = o[mt];
                Acc scaled{b.mul(a[0], alpha0), b.mul(a[1], alpha1), b.mul(a[2], alpha0), b.mul(a[3], alpha1)};
                const AFrag vt = b.ldmatrix<4, f16x2>(at[tile + mt * 32], true);
                scaled = mma(b, lane, vt, pt_hi, scaled);
                scaled = mma(b, lane, vt, pt_lo, scaled);
                for (uint32_t i = 0; i < 4; ++i) b.mov(o[mt][i], scaled[i]);
            }
            // Every lane has read the slot: refill it with step + N.
            b.bar_warp_sync();
            stage(b.add(step, N), slot);
        });

        // The warp's state into its own ring: o[g][D] then {m, l}[g], rows g < group.
        // The ring's last two groups (steps past the range, zero-filled) land before it is reused.
        if (target.sm >= 80) b.cp_async_wait_all();
        l = b.add(l, b.shfl_bfly(l, 1u));
        l = b.add(l, b.shfl_bfly(l, 2u));
        b.bar_warp_sync();
        SharedPtr o_at = b.offset(my_ring, b.mad_lo(t4, 2 * D * 4, b.shl(g, 2u)));  // o[2t][g]
        Pred head0_real = b.setp(Cmp::lt, b.shl(t4, 1u), G);
        Pred head1_real = b.setp(Cmp::lt, b.add(b.shl(t4, 1u), 1u), G);
        for (uint32_t mt = 0; mt < d_tiles; ++mt) {
            for (uint32_t i = 0; i < 4; ++i) {
                const int64_t at = int64_t{(i % 2) * D + mt * 16 + (i / 2) * 8} * 4;
                b.predicated(i % 2 == 0 ? head0_real : head1_real, [&] { b.st(o_at[at], o[mt][i]); });
            }
        }
        SharedPtr ml_at = b.offset(my_ring, b.mad_lo(g, 8u, G * D * 4));
        b.predicated(b.setp(Cmp::eq, t4, 0u, BoolOp::and_, real_row), [&] { b.st_v<f32, 2>(ml_at[0], Regs<f32, 2>{m, l}); });
        merge_warps_to_partial(b, {tid, kv, split, f.partials, f.partials_ml, smem, ring, b.offset(smem, G * D * 4), ring, D,
                                   G, S, W});
    });

    emit_arrive_and_combine(b, {tid, kv, split, f.first_split, f.last_split, f.out, f.partials, f.partials_ml, f.counters,
                                last_flag, D, G, S, 32 * W, kv_heads, plan.combine_group});
    return b.finish();
}

}  // namespace kernels
