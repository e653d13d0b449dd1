// Thread mapping of decode_attention's online variant, for groups of at most 8 query heads per KV
// head (layout and combine protocol: decode_attention.hpp; the arrival and combine it shares with
// the others: decode_attention_build.cpp).
//
// CTA (c, kv) of W = 4 warps owns positions [c * chunk, (c + 1) * chunk) of KV head kv and all
// `group` query heads that use it; warp w takes the contiguous slice [w * chunk / W, ...). As in
// the phased variant, L = head_dim / 8 lanes share one position (lane l holds dims
// 8 * (l % L) .. + 7, one 16-byte load of 8 f16), so a warp's load covers R = 32 / L positions.
// Unlike it, K and V of a position are loaded together and each lane keeps a running softmax
// (flash-decoding inside the warp) for the positions of its row, per query head g:
//   m[g]  the largest score seen (log2 units), l[g] = sum 2^(s - m), o[g][8] = sum 2^(s - m) v.
// Per group of plan.unroll loads: scores s = (q * scale * log2 e) . k reduced over the L lanes by
// butterflies (every lane of the row gets them), the new max, one rescale 2^(m - m') of l and o,
// then p = 2^(s - m') and o += p v. The next group's K and V loads are issued before the current
// group is computed, so a lane always has two groups of both in flight, and there is no barrier
// until the end: a CTA waits for chunk / (W * R * unroll) round trips, half the phased variant's.
// At the end the R rows of a warp merge their (m, l, o) by shuffles, the W warps through shared
// memory (thread t takes float4 t, t + 128, ... of the group's outputs), and the chunk's partial
// goes to `partials` exactly as the phased variant writes it. Positions outside [lo, len) get
// score -inf (their loads clamped inside the range); a row that has seen only -inf keeps m = -inf,
// and every 2^(x - m') uses m' = 0 then, so no -inf - -inf ever reaches ex2.
#include "decode_attention_internal.hpp"
#include "kernels/decode_attention.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;
using namespace decode_detail;

namespace {

// The running softmax of one query head in one lane.
struct Running {
    Reg<f32> m, l;
    std::vector<Reg<f32>> o;  // 8 dims
};

// Merges `other` (the same head's state from another row or warp) into `r`.
void merge(KernelBuilder& b, Running& r, Reg<f32> other_m, Reg<f32> other_l, const std::vector<Reg<f32>>& other_o) {
    Reg<f32> m = b.max(r.m, other_m);
    Reg<f32> ref = finite_or_zero(b, m);
    Reg<f32> mine = b.ex2(b.sub(r.m, ref));
    Reg<f32> theirs = b.ex2(b.sub(other_m, ref));
    r.l = b.fma(r.l, mine, b.mul(other_l, theirs));
    for (size_t j = 0; j < r.o.size(); ++j) r.o[j] = b.fma(r.o[j], mine, b.mul(other_o[j], theirs));
    r.m = m;
}

}  // namespace

Kernel DecodeAttention::build_online(const Target& target) const {
    const uint32_t D = head_dim, G = group(), C = plan.chunk, S = plan.max_splits, W = plan.warps;
    const uint32_t L = plan.lanes_per_row, R = plan.rows_per_step, T = 32 * W;
    const uint32_t per_warp = C / W;      // positions per warp
    const uint32_t steps = per_warp / R;  // loads of K (and of V) per lane
    const uint32_t U = plan.unroll;
    const uint32_t groups = (steps + U - 1) / U;
    const uint64_t ml_base_bytes = uint64_t{kv_heads} * S * G * D * 4;

    KernelBuilder b(name(), target);
    const Frame f = begin_frame(b, target, {T, max_seq, window, C, plan.ctas_per_sm, ml_base_bytes});
    const GlobalPtr kc = f.k_cache, vc = f.v_cache, partials = f.partials, partials_ml = f.partials_ml;
    const Reg<u32> tid = f.tid, lane = f.lane, warp = f.warp, split = f.split, kv = f.kv, n = f.n, lo = f.lo;
    SharedArray reduce = b.shared_array("reduce", W * G * D * 4, 16);  // [W][G][D] f32: o
    SharedArray reduce_ml = b.shared_array("reduce_ml", W * G * 8, 8);  // [W][G] {m, l}
    SharedArray last_flag = b.shared_array("last_flag", 4, 4);

    b.if_(f.working, [&] {
        Reg<u32> row = b.shr(lane, log2_exact(L));  // which of the warp's R positions
        Reg<u32> col = b.and_(lane, L - 1);         // which 8 dims
        Reg<u32> pos0 = b.mad_lo(split, C, b.mad_lo(warp, per_warp, row));
        Reg<u32> n_minus_1 = b.sub(n, 1u);
        Reg<u32> kv_row0 = b.mul_lo(kv, max_seq);
        GlobalPtr k_lane = b.index(kc, col, 16);
        GlobalPtr v_lane = b.index(vc, col, 16);
        struct Loaded {
            std::vector<Regs<u32, 4>> k, v;
        };
        auto load_group = [&](uint32_t g) {
            Loaded l;
            for (uint32_t t = g * U; t < std::min(steps, (g + 1) * U); ++t) {
                Reg<u32> p = b.add(pos0, t * R);
                Reg<u32> at = b.add(kv_row0, b.min(b.max(p, lo), n_minus_1));
                l.k.push_back(b.ld_v<u32, 4>(b.index(k_lane, at, D * 2)[0], {.nc = true}));
                l.v.push_back(b.ld_v<u32, 4>(b.index(v_lane, at, D * 2)[0], {.nc = true}));
            }
            return l;
        };

        const std::vector<std::vector<Reg<f32>>> qv = load_q_slices(b, f.q, kv, col, G, D, effective_scale());
        std::vector<Running> run(G);
        for (Running& r : run) {
            r.m = b.mov<f32>(kMinusInf);
            r.l = b.mov<f32>(0.0f);
            for (int j = 0; j < 8; ++j) r.o.push_back(b.mov<f32>(0.0f));
        }

        Loaded current = load_group(0);
        for (uint32_t g = 0; g < groups; ++g) {
            Loaded next;
            if (g + 1 < groups) next = load_group(g + 1);
            const uint32_t count = static_cast<uint32_t>(current.k.size());
            // scores[i][head] of the group's positions
            std::vector<std::vector<Reg<f32>>> s(count, std::vector<Reg<f32>>(G));
            for (uint32_t i = 0; i < count; ++i) {
                std::vector<Reg<f32>> k = widen(b, current.k[i]);
                for (uint32_t h = 0; h < G; ++h) {
                    s[i][h] = b.mul(qv[h][0], k[0]);
                    for (uint32_t j = 1; j < 8; ++j) s[i][h] = b.fma(qv[h][j], k[j], s[i][h]);
                }
                for (uint32_t m = 1; m < L; m *= 2) {
                    for (uint32_t h = 0; h < G; ++h) s[i][h] = b.add(s[i][h], b.shfl_bfly(s[i][h], m));
                }
                Reg<u32> p = b.add(pos0, (g * U + i) * R);
                Pred valid = b.setp(Cmp::ge, p, lo, BoolOp::and_, b.setp(Cmp::lt, p, n));
                for (uint32_t h = 0; h < G; ++h) s[i][h] = b.selp<f32>(s[i][h], kMinusInf, valid);
            }
            std::vector<std::vector<Reg<f32>>> v;
            for (uint32_t i = 0; i < count; ++i) v.push_back(widen(b, current.v[i]));
            for (uint32_t h = 0; h < G; ++h) {
                Running& r = run[h];
                Reg<f32> m = r.m;
                for (uint32_t i = 0; i < count; ++i) m = b.max(m, s[i][h]);
                Reg<f32> ref = finite_or_zero(b, m);
                Reg<f32> rescale = b.ex2(b.sub(r.m, ref));
                r.l = b.mul(r.l, rescale);
                for (Reg<f32>& x : r.o) x = b.mul(x, rescale);
                for (uint32_t i = 0; i < count; ++i) {
                    Reg<f32> p = b.ex2(b.sub(s[i][h], ref));
                    r.l = b.add(r.l, p);
                    for (uint32_t j = 0; j < 8; ++j) r.o[j] = b.fma(p, v[i][j], r.o[j]);
                }
                r.m = m;
            }
            current = std::move(next);
        }

        // The warp's R rows: merge by butterflies over the lanes of equal col.
        for (uint32_t mask = L; mask < 32; mask *= 2) {
            for (Running& r : run) {
                Reg<f32> other_m = b.shfl_bfly(r.m, mask);
                Reg<f32> other_l = b.shfl_bfly(r.l, mask);
                std::vector<Reg<f32>> other_o;
                for (Reg<f32> x : r.o) other_o.push_back(b.shfl_bfly(x, mask));
                merge(b, r, other_m, other_l, other_o);
            }
        }
        // The W warps: row 0's lanes store o, lane 0 stores {m, l}; then thread t merges float4
        // t, t + T, ... over the warps and writes the chunk's partial.
        SharedPtr reduce_base = b.addr_of(reduce);
        SharedPtr ml_base = b.addr_of(reduce_ml);
        SharedPtr my_reduce = b.index(reduce_base, b.mad_lo(warp, G * D, b.shl(col, 3u)), 4);
        b.predicated(b.setp(Cmp::lt, lane, L), [&] {
            for (uint32_t h = 0; h < G; ++h) {
                const std::vector<Reg<f32>>& o = run[h].o;
                b.st_v<f32, 4>(my_reduce[int64_t{h * D} * 4], Regs<f32, 4>{o[0], o[1], o[2], o[3]});
                b.st_v<f32, 4>(my_reduce[int64_t{h * D + 4} * 4], Regs<f32, 4>{o[4], o[5], o[6], o[7]});
            }
        });
        SharedPtr my_ml = b.index(ml_base, b.mul_lo(warp, G), 8);
        b.predicated(b.setp(Cmp::eq, lane, 0u), [&] {
            for (uint32_t h = 0; h < G; ++h) b.st_v<f32, 2>(my_ml[int64_t{h} * 8], Regs<f32, 2>{run[h].m, run[h].l});
        });
        merge_warps_to_partial(b, {tid, kv, split, partials, partials_ml, reduce_base, G * D * 4, ml_base, G * 8, D, G, S, W});
    });

    emit_arrive_and_combine(b, {tid, kv, f.split, f.first_split, f.last_split, f.out, partials, partials_ml, f.counters,
                                last_flag, D, G, S, T, kv_heads, plan.combine_group});
    return b.finish();
}

}  // namespace kernels
