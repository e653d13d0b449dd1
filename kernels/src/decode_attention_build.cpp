// Thread mapping of decode_attention (layout and combine protocol: decode_attention.hpp).
//
// CTA (c, kv) of W = 4 warps owns positions [c * chunk, (c + 1) * chunk) of KV head kv and all
// `group` query heads that use it. Warp w takes the contiguous slice [w * chunk / W, ...) of the
// chunk. Within a warp, L = head_dim / 8 lanes share one position: lane l holds dims
// 8 * (l % L) .. + 7 and reads them as one 16-byte load of 8 f16, so a warp's load instruction
// covers R = 32 / L consecutive positions (R * 2 * head_dim contiguous bytes, fully coalesced).
// Why this mapping: every byte of K and V is loaded once, by one 16-byte access, for all query
// heads of the group (the q slices live in registers); scores need log2(L) shuffles per head, and
// the V product needs none until the end. Lanes-own-positions would save the shuffles but make each
// load instruction touch 32 rows, and the V product would need a reduction over the lanes anyway.
//
//   phase A  scores: s = (q * scale * log2 e) . k for every position and query head, reduced
//            over the L lanes with butterfly shuffles; lane (l % L) == g stores head g's score in
//            shared memory. Positions outside [lo, len) get -inf (their loads are clamped to a
//            position inside, so memory past len is never read).
//   phase B  warp w takes heads w, w + W, ...: the chunk's max m, p = 2^(s - m) in place, l = sum p;
//            m and l go to the partials.
//   phase C  o[g][8 dims] += p * v per lane over its positions (p read from shared memory).
//   phase D  o is summed over the R positions of a warp (shuffles) and over the W warps (shared
//            memory) and written to the partials as float4s.
// Loads run in groups of plan.unroll per lane, the next group issued before the current one is
// computed; the first V group is issued before phase A's last K group is computed, so V is in
// flight across the softmax barriers.
// Then every working CTA arrives on counters[kv]; the last one combines the chunks' partials: thread
// t takes float4 t, t + 128, ... of the group's outputs and walks the chunks with a running max.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <functional>
#include <limits>

#include "decode_attention_internal.hpp"
#include "kernels/decode_attention.hpp"
#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

using namespace ptxgen;

namespace decode_detail {

std::vector<Reg<f32>> widen(KernelBuilder& b, const Regs<u32, 4>& packed) {
    std::vector<Reg<f32>> out;
    for (Reg<u32> word : packed) {
        for (Reg<f16> h : b.unpack<f16>(word)) out.push_back(b.cvt<f32>(h));
    }
    return out;
}

Frame begin_frame(KernelBuilder& b, const Target& target, const FrameShape& shape) {
    Frame f;
    if (shape.ctas_per_sm) b.min_ctas_per_sm(shape.ctas_per_sm);
    f.q = b.param_ptr("q", Type::f32);
    f.k_cache = b.param_ptr("k_cache", Type::f16);
    f.v_cache = b.param_ptr("v_cache", Type::f16);
    GlobalPtr len_ptr = b.param_ptr("len", Type::s32);
    f.out = b.param_ptr("out", Type::f32);
    f.partials = b.param_ptr("partials", Type::f32);
    f.counters = b.param_ptr("counters", Type::u32);
    b.reqntid(shape.threads);
    // Everything below reads or writes what earlier kernels touch: wait for them, so that this
    // kernel may be launched to overlap its predecessor's tail (programmatic dependent launch).
    if (target.sm >= 90) b.griddep_wait();
    f.tid = b.tid_x();
    f.lane = b.and_(f.tid, 31u);
    f.warp = b.shr(f.tid, 5u);
    f.split = b.ctaid_x();
    f.kv = b.ctaid_y();
    f.partials_ml = b.offset(f.partials, shape.ml_base_bytes);
    // The attended range [lo, n) and the chunks that overlap it.
    Reg<s32> len_read = b.ld<s32>(len_ptr[0], {.nc = true});
    f.n = b.bitcast<u32>(b.min(b.max(len_read, 1), static_cast<int32_t>(shape.max_seq)));
    f.lo = shape.window == 0 ? b.mov<u32>(0u) : b.selp<u32>(b.sub(f.n, shape.window), 0u, b.setp(Cmp::gt, f.n, shape.window));
    f.first_split = b.div(f.lo, shape.chunk);
    f.last_split = b.div(b.sub(f.n, 1u), shape.chunk);
    f.working = b.setp(Cmp::ge, f.split, f.first_split, BoolOp::and_, b.setp(Cmp::le, f.split, f.last_split));
    return f;
}

std::vector<std::vector<Reg<f32>>> load_q_slices(KernelBuilder& b, GlobalPtr q, Reg<u32> kv, Reg<u32> col, uint32_t group,
                                                 uint32_t head_dim, double scale) {
    const float q_scale = static_cast<float>(scale) * kLog2e;
    GlobalPtr q_lane = b.index(q, b.mad_lo(kv, group * head_dim, b.shl(col, 3u)), 4);
    std::vector<std::vector<Reg<f32>>> qv(group);
    for (uint32_t g = 0; g < group; ++g) {
        for (uint32_t half = 0; half < 2; ++half) {
            for (Reg<f32> x : b.ld_v<f32, 4>(q_lane[int64_t{g * head_dim + half * 4} * 4], {.nc = true})) {
                qv[g].push_back(b.mul(x, q_scale));
            }
        }
    }
    return qv;
}

Reg<f32> finite_or_zero(KernelBuilder& b, Reg<f32> m) { return b.selp<f32>(0.0f, m, b.setp(Cmp::eq, m, kMinusInf)); }

void merge_warps_to_partial(KernelBuilder& b, const WarpStates& in) {
    const uint32_t D = in.head_dim, G = in.group, S = in.max_splits, W = in.warps, T = 32 * W;
    const uint32_t quads = G * D / 4;
    b.bar_sync();
    Reg<u32> ml_record0 = b.mul_lo(b.mad_lo(in.kv, S, in.split), G);  // (kv * S + split) * G
    GlobalPtr record = b.index(in.partials, ml_record0, D * 4);        // o[kv][split][0][0]
    for (uint32_t k = 0; k * T < quads; ++k) {
        Reg<u32> qi = b.add(in.tid, k * T);
        auto body = [&] {
            Reg<u32> head = b.shr(qi, log2_exact(D / 4));
            SharedPtr ml_at = b.index(in.ml_base, head, 8);
            std::vector<Regs<f32, 2>> ml;
            for (uint32_t w = 0; w < W; ++w) ml.push_back(b.ld_v<f32, 2>(ml_at[int64_t{w} * in.ml_warp_stride]));
            Reg<f32> m = ml[0][0];
            for (uint32_t w = 1; w < W; ++w) m = b.max(m, ml[w][0]);
            Reg<f32> ref = finite_or_zero(b, m);  // finite: the chunk holds a position in range
            Regs<f32, 4> sum;
            for (auto& x : sum) x = b.mov<f32>(0.0f);
            Reg<f32> l = b.mov<f32>(0.0f);
            SharedPtr at = b.index(in.o_base, qi, 16);
            for (uint32_t w = 0; w < W; ++w) {
                Reg<f32> weight = b.ex2(b.sub(ml[w][0], ref));
                Regs<f32, 4> part = b.ld_v<f32, 4>(at[int64_t{w} * in.o_warp_stride]);
                for (int i = 0; i < 4; ++i) sum[i] = b.fma(part[i], weight, sum[i]);
                l = b.fma(ml[w][1], weight, l);
            }
            b.st_v<f32, 4>(b.index(record, qi, 16)[0], sum);
            b.predicated(b.setp(Cmp::eq, b.and_(qi, D / 4 - 1), 0u), [&] {
                b.st_v<f32, 2>(b.index(in.partials_ml, b.add(ml_record0, head), 8)[0], Regs<f32, 2>{m, l});
            });
        };
        if ((k + 1) * T <= quads) body();
        else b.if_(b.setp(Cmp::lt, qi, quads), body);
    }
}

namespace {

// Arrival on *counter, one of `arrivals`: whether this CTA came last (the same for all its threads).
// The first barrier orders every thread's stores before thread 0's release fence (fences are
// cumulative), which orders them before the count; the acquire fence after the count orders the
// other CTAs' stores before what this CTA reads next, and the second barrier hands that on to the
// CTA's other threads. The flag may be reused by a later arrival: every thread has read it before
// that arrival's first barrier.
Pred arrive_last(KernelBuilder& b, Reg<u32> tid, Address<Space::global> counter, Reg<u32> arrivals, SharedArray last_flag) {
    b.bar_sync();
    SharedPtr flag = b.addr_of(last_flag);
    b.if_(b.setp(Cmp::eq, tid, 0u), [&] {
        b.fence(FenceSem::acq_rel, Scope::gpu);
        Reg<u32> before = b.atom<u32>(AtomOp::add, counter, 1u);
        b.fence(FenceSem::acq_rel, Scope::gpu);
        b.st(flag[0], b.selp<u32>(1u, 0u, b.setp(Cmp::eq, b.add(before, 1u), arrivals)));
    });
    b.bar_sync();
    return b.setp(Cmp::ne, b.ld<u32>(flag[0]), 0u);
}

// Partials of one level of the combine: o[kv][per_kv][G][D] (unnormalised) and {m, l}[kv][per_kv][G].
struct Records {
    GlobalPtr o, ml;
    uint32_t per_kv;
};

// What a merge leaves for float4 qi of the group's outputs (head = qi / (D / 4)): the largest m,
// the sum of l and of o, both weighed by 2^(m_record - max).
using MergeSink = std::function<void(Reg<u32> qi, Reg<u32> head, Reg<f32> max, Reg<f32> sum, const Regs<f32, 4>& acc)>;

// Merges records [first, last] (first <= last, record `first` finite) of KV head kv with the
// running-max method: thread t takes float4 t, t + T, ... of the group's outputs. `batch` records
// per iteration, their loads issued together (one past `last` reloads `last` and weighs 0), so
// that n records cost ceil(n / batch) round trips to L2. Records are read at L2 (.cg): other CTAs
// wrote them.
void merge_records(KernelBuilder& b, const CombineInputs& in, const Records& from, Reg<u32> first, Reg<u32> last,
                   uint32_t batch, const MergeSink& sink) {
    const uint32_t D = in.head_dim, G = in.group, T = in.threads, quads = G * D / 4;
    for (uint32_t k = 0; k * T < quads; ++k) {
        Reg<u32> qi = b.add(in.tid, k * T);
        auto body = [&] {
            Reg<u32> head = b.shr(qi, log2_exact(D / 4));
            Reg<f32> run_max = b.mov<f32>(kMinusInf);
            Reg<f32> run_sum = b.mov<f32>(0.0f);
            Regs<f32, 4> acc;
            for (auto& a : acc) a = b.mov<f32>(0.0f);
            b.for_range(first, b.add(last, 1u), batch, [&](Reg<u32> r0) {
                std::vector<Regs<f32, 2>> ml;
                std::vector<Regs<f32, 4>> part;
                std::vector<Reg<f32>> record_max;
                for (uint32_t u = 0; u < batch; ++u) {
                    Reg<u32> r = u == 0 ? r0 : b.min(b.add(r0, u), last);
                    Reg<u32> record = b.mad_lo(in.kv, from.per_kv, r);  // kv * per_kv + r
                    ml.push_back(b.ld_v<f32, 2>(b.index(from.ml, b.mad_lo(record, G, head), 8)[0], {.cache = CacheOp::cg}));
                    part.push_back(b.ld_v<f32, 4>(b.index(from.o, b.mad_lo(record, quads, qi), 16)[0], {.cache = CacheOp::cg}));
                    record_max.push_back(u == 0 ? ml[0][0]
                                                : b.selp<f32>(ml[u][0], kMinusInf, b.setp(Cmp::le, b.add(r0, u), last)));
                }
                // The first record of a batch is always one in range, so new_max is finite.
                Reg<f32> new_max = run_max;
                for (Reg<f32> m : record_max) new_max = b.max(new_max, m);
                Reg<f32> old_weight = b.ex2(b.sub(run_max, new_max));
                b.mov(run_sum, b.mul(run_sum, old_weight));
                for (int i = 0; i < 4; ++i) b.mov(acc[i], b.mul(acc[i], old_weight));
                for (uint32_t u = 0; u < batch; ++u) {
                    Reg<f32> weight = b.ex2(b.sub(record_max[u], new_max));  // 0 past the last record
                    b.mov(run_sum, b.fma(ml[u][1], weight, run_sum));
                    for (int i = 0; i < 4; ++i) b.mov(acc[i], b.fma(part[u][i], weight, acc[i]));
                }
                b.mov(run_max, new_max);
            });
            sink(qi, head, run_max, run_sum, acc);
        };
        if ((k + 1) * T <= quads) body();
        else b.if_(b.setp(Cmp::lt, qi, quads), body);
    }
}

}  // namespace

void emit_arrive_and_combine(KernelBuilder& b, const CombineInputs& in) {
    const Reg<u32> tid = in.tid, kv = in.kv, first_split = in.first_split, last_split = in.last_split;
    const uint32_t D = in.head_dim, G = in.group, S = in.max_splits, quads = G * D / 4;
    const uint32_t Z = in.combine_group, NG = combine_groups(S, Z);
    const Records chunks{in.partials, in.partials_ml, S};
    // The normalised output of the group.
    const MergeSink to_out = [&](Reg<u32> qi, Reg<u32>, Reg<f32>, Reg<f32> sum, const Regs<f32, 4>& acc) {
        Reg<f32> inv = b.rcp(sum, {.round = Round::rn});
        Regs<f32, 4> result;
        for (int i = 0; i < 4; ++i) result[i] = b.mul(acc[i], inv);
        b.st_v<f32, 4>(b.index(in.out, b.mad_lo(kv, quads, qi), 16)[0], result);
    };
    // Ready for the next launch (a graph replay): every working CTA of this launch has arrived.
    auto reset = [&](Address<Space::global> counter) {
        b.if_(b.setp(Cmp::eq, tid, 0u), [&] { b.st(counter, b.mov<u32>(0u)); });
    };

    // Only the working CTAs, splits [first_split, last_split], arrive: the others leave at once,
    // so a cache far shorter than the grid costs no atomics or fences beyond its own chunks'.
    Pred working = b.setp(Cmp::ge, in.split, first_split, BoolOp::and_, b.setp(Cmp::le, in.split, last_split));
    if (NG == 1) {
        b.if_(working, [&] {
            Address<Space::global> counter = b.index(in.counters, kv, 4)[0];
            b.if_(arrive_last(b, tid, counter, b.add(b.sub(last_split, first_split), 1u), in.last_flag), [&] {
                merge_records(b, in, chunks, first_split, last_split, kCombineBatch, to_out);
                reset(counter);
            });
        });
        return;
    }

    // Two levels: the last CTA of each group of Z chunks merges the group's working
    // chunks into a group record; the last group to finish merges the group records.
    const uint64_t group_base = uint64_t{in.kv_heads} * S * G * (D + 2) * 4;
    const Records groups{b.offset(in.partials, group_base), b.offset(in.partials, group_base + uint64_t{in.kv_heads} * NG * G * D * 4),
                         NG};
    b.if_(working, [&] {
        Reg<u32> counters_kv = b.mul_lo(kv, NG + 1);  // [kv][NG groups, then the KV head's]
        Reg<u32> group = b.shr(in.split, log2_exact(Z));
        Address<Space::global> group_counter = b.index(in.counters, b.add(counters_kv, group), 4)[0];
        Reg<u32> group_first = b.shl(group, log2_exact(Z));
        // The group's working chunks [first, last], this CTA's among them: its arrivals.
        Reg<u32> first = b.max(first_split, group_first);
        Reg<u32> last = b.min(last_split, b.add(group_first, Z - 1));
        b.if_(arrive_last(b, tid, group_counter, b.add(b.sub(last, first), 1u), in.last_flag), [&] {
            reset(group_counter);
            Reg<u32> record = b.mad_lo(kv, NG, group);
            merge_records(b, in, chunks, first, last, std::min(Z, kCombineBatch),
                          [&](Reg<u32> qi, Reg<u32> head, Reg<f32> max, Reg<f32> sum, const Regs<f32, 4>& acc) {
                b.st_v<f32, 4>(b.index(groups.o, b.mad_lo(record, quads, qi), 16)[0], acc);
                b.predicated(b.setp(Cmp::eq, b.and_(qi, D / 4 - 1), 0u), [&] {
                    b.st_v<f32, 2>(b.index(groups.ml, b.mad_lo(record, G, head), 8)[0], Regs<f32, 2>{max, sum});
                });
            });
            // One arrival per group that holds working chunks.
            Reg<u32> first_group = b.shr(first_split, log2_exact(Z));
            Reg<u32> last_group = b.shr(last_split, log2_exact(Z));
            Address<Space::global> head_counter = b.index(in.counters, b.add(counters_kv, NG), 4)[0];
            b.if_(arrive_last(b, tid, head_counter, b.add(b.sub(last_group, first_group), 1u), in.last_flag), [&] {
                merge_records(b, in, groups, first_group, last_group, std::min(NG, kCombineBatch), to_out);
                reset(head_counter);
            });
        });
    });
}

}  // namespace decode_detail

using namespace decode_detail;

Kernel DecodeAttention::build(const Target& target) const {
    if (plan.staged) return build_staged(target);
    if (plan.online) return build_online(target);
    if (plan.mma) return build_mma(target);
    const uint32_t D = head_dim, G = group(), C = plan.chunk, S = plan.max_splits, W = plan.warps;
    const uint32_t L = plan.lanes_per_row, R = plan.rows_per_step, T = 32 * W;
    const uint32_t per_warp = C / W;      // positions per warp
    const uint32_t steps = per_warp / R;  // load instructions per lane and phase
    const uint32_t U = plan.unroll;
    const uint32_t groups = (steps + U - 1) / U;
    const uint32_t quads = G * D / 4;     // float4s of the group's output
    const uint64_t ml_base_bytes = uint64_t{kv_heads} * S * G * D * 4;
    const uint32_t scores_bytes = G * C * 4, reduce_bytes = W * G * D * 4;  // fits: plan_decode_attention

    KernelBuilder b(name(), target);
    const Frame f = begin_frame(b, target, {T, max_seq, window, C, plan.ctas_per_sm, ml_base_bytes});
    const GlobalPtr q = f.q, kc = f.k_cache, vc = f.v_cache, out = f.out, partials = f.partials,
                    partials_ml = f.partials_ml, counters = f.counters;
    const Reg<u32> tid = f.tid, lane = f.lane, warp = f.warp, split = f.split, kv = f.kv, n = f.n, lo = f.lo;
    SharedArray scores = b.shared_array("scores", scores_bytes, 16);     // [G][C] f32
    SharedArray reduce = b.shared_array("reduce", reduce_bytes, 16);     // [W][G][D] f32
    SharedArray last_flag = b.shared_array("last_flag", 4, 4);

    b.if_(f.working, [&] {
        Reg<u32> row = b.shr(lane, log2_exact(L));  // which of the warp's R positions
        Reg<u32> col = b.and_(lane, L - 1);         // which 8 dims
        Reg<u32> in_chunk = b.mad_lo(warp, per_warp, row);  // position in the chunk at step 0
        Reg<u32> pos0 = b.mad_lo(split, C, in_chunk);
        Reg<u32> n_minus_1 = b.sub(n, 1u);
        Reg<u32> kv_row0 = b.mul_lo(kv, max_seq);
        GlobalPtr k_lane = b.index(kc, col, 16);
        GlobalPtr v_lane = b.index(vc, col, 16);
        auto load_step = [&](GlobalPtr base, uint32_t t) {
            Reg<u32> p = b.add(pos0, t * R);
            Reg<u32> clamped = b.min(b.max(p, lo), n_minus_1);
            return b.ld_v<u32, 4>(b.index(base, b.add(kv_row0, clamped), D * 2)[0], {.nc = true});
        };
        auto load_group = [&](GlobalPtr base, uint32_t g) {
            std::vector<Regs<u32, 4>> loaded;
            for (uint32_t t = g * U; t < std::min(steps, (g + 1) * U); ++t) loaded.push_back(load_step(base, t));
            return loaded;
        };

        const std::vector<std::vector<Reg<f32>>> qv = load_q_slices(b, q, kv, col, G, D, effective_scale());
        std::vector<Pred> col_is(G);
        for (uint32_t g = 1; g < G; ++g) col_is[g] = b.setp(Cmp::eq, col, g);
        Pred col_stores = b.setp(Cmp::lt, col, G);
        SharedPtr scores_base = b.addr_of(scores);
        SharedPtr my_score = b.index(scores_base, b.mad_lo(col, C, in_chunk), 4);  // [col][in_chunk]

        // Phase A.
        auto score_step = [&](const Regs<u32, 4>& packed, uint32_t t) {
            std::vector<Reg<f32>> k = widen(b, packed);
            std::vector<Reg<f32>> dot(G);
            for (uint32_t g = 0; g < G; ++g) {
                dot[g] = b.mul(qv[g][0], k[0]);
                for (uint32_t j = 1; j < 8; ++j) dot[g] = b.fma(qv[g][j], k[j], dot[g]);
            }
            for (uint32_t m = 1; m < L; m *= 2) {
                for (uint32_t g = 0; g < G; ++g) dot[g] = b.add(dot[g], b.shfl_bfly(dot[g], m));
            }
            Reg<f32> mine = dot[0];
            for (uint32_t g = 1; g < G; ++g) mine = b.selp<f32>(dot[g], mine, col_is[g]);
            Reg<u32> p = b.add(pos0, t * R);
            Pred valid = b.setp(Cmp::ge, p, lo, BoolOp::and_, b.setp(Cmp::lt, p, n));
            Reg<f32> s = b.selp<f32>(mine, kMinusInf, valid);
            b.predicated(col_stores, [&] { b.st(my_score[int64_t{t * R} * 4], s); });
        };
        std::vector<Regs<u32, 4>> current = load_group(k_lane, 0);
        for (uint32_t g = 0; g < groups; ++g) {
            std::vector<Regs<u32, 4>> next = g + 1 < groups ? load_group(k_lane, g + 1) : load_group(v_lane, 0);
            for (size_t i = 0; i < current.size(); ++i) score_step(current[i], g * U + static_cast<uint32_t>(i));
            current = std::move(next);
        }
        b.bar_sync();

        // Phase B.
        Reg<u32> ml_record0 = b.mul_lo(b.mad_lo(kv, S, split), G);  // (kv * S + split) * G
        for (uint32_t round = 0; round < (G + W - 1) / W; ++round) {
            Reg<u32> head = b.add(warp, round * W);
            b.if_(b.setp(Cmp::lt, head, G), [&] {
                SharedPtr at = b.index(scores_base, b.mad_lo(head, C, lane), 4);
                std::vector<Reg<f32>> s;
                for (uint32_t j = 0; j < C / 32; ++j) s.push_back(b.ld<f32>(at[int64_t{j} * 128]));
                Reg<f32> m = s[0];
                for (uint32_t j = 1; j < s.size(); ++j) m = b.max(m, s[j]);
                for (uint32_t mask = 16; mask >= 1; mask /= 2) m = b.max(m, b.shfl_bfly(m, mask));
                Reg<f32> sum = b.mov<f32>(0.0f);
                for (uint32_t j = 0; j < s.size(); ++j) {
                    Reg<f32> p = b.ex2(b.sub(s[j], m));
                    b.st(at[int64_t{j} * 128], p);
                    sum = b.add(sum, p);
                }
                for (uint32_t mask = 16; mask >= 1; mask /= 2) sum = b.add(sum, b.shfl_bfly(sum, mask));
                b.predicated(b.setp(Cmp::eq, lane, 0u), [&] {
                    b.st_v<f32, 2>(b.index(partials_ml, b.add(ml_record0, head), 8)[0], Regs<f32, 2>{m, sum});
                });
            });
        }
        b.bar_sync();

        // Phase C.
        SharedPtr my_p = b.index(scores_base, in_chunk, 4);  // [g][in_chunk] at + g * C * 4
        std::vector<std::vector<Reg<f32>>> o(G, std::vector<Reg<f32>>(8));
        bool first_step = true;
        auto value_step = [&](const Regs<u32, 4>& packed, uint32_t t) {
            std::vector<Reg<f32>> v = widen(b, packed);
            for (uint32_t g = 0; g < G; ++g) {
                Reg<f32> p = b.ld<f32>(my_p[int64_t{g * C + t * R} * 4]);
                for (uint32_t j = 0; j < 8; ++j) o[g][j] = first_step ? b.mul(p, v[j]) : b.fma(p, v[j], o[g][j]);
            }
            first_step = false;
        };
        for (uint32_t g = 0; g < groups; ++g) {
            std::vector<Regs<u32, 4>> next;
            if (g + 1 < groups) next = load_group(v_lane, g + 1);
            for (size_t i = 0; i < current.size(); ++i) value_step(current[i], g * U + static_cast<uint32_t>(i));
            current = std::move(next);
        }

        // Phase D.
        for (uint32_t m = L; m < 32; m *= 2) {
            for (auto& per_head : o) {
                for (Reg<f32>& x : per_head) x = b.add(x, b.shfl_bfly(x, m));
            }
        }
        SharedPtr reduce_base = b.addr_of(reduce);
        SharedPtr my_reduce = b.index(reduce_base, b.mad_lo(warp, G * D, b.shl(col, 3u)), 4);
        b.predicated(b.setp(Cmp::lt, lane, L), [&] {
            for (uint32_t g = 0; g < G; ++g) {
                b.st_v<f32, 4>(my_reduce[int64_t{g * D} * 4], Regs<f32, 4>{o[g][0], o[g][1], o[g][2], o[g][3]});
                b.st_v<f32, 4>(my_reduce[int64_t{g * D + 4} * 4], Regs<f32, 4>{o[g][4], o[g][5], o[g][6], o[g][7]});
            }
        });
        b.bar_sync();
        GlobalPtr record = b.index(partials, ml_record0, D * 4);  // o[kv][split][0][0]
        for (uint32_t k = 0; k * T < quads; ++k) {
            Reg<u32> qi = b.add(tid, k * T);
            auto body = [&] {
                SharedPtr at = b.index(reduce_base, qi, 16);
                Regs<f32, 4> sum = b.ld_v<f32, 4>(at[0]);
                for (uint32_t w = 1; w < W; ++w) {
                    Regs<f32, 4> other = b.ld_v<f32, 4>(at[int64_t{w * G * D} * 4]);
                    for (int i = 0; i < 4; ++i) sum[i] = b.add(sum[i], other[i]);
                }
                b.st_v<f32, 4>(b.index(record, qi, 16)[0], sum);
            };
            if ((k + 1) * T <= quads) body();
            else b.if_(b.setp(Cmp::lt, qi, quads), body);
        }
    });

    emit_arrive_and_combine(b, {tid, kv, split, f.first_split, f.last_split, out, partials, partials_ml, counters, last_flag,
                                D, G, S, T, kv_heads, plan.combine_group});
    return b.finish();
}

}  // namespace kernels
