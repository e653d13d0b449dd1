// Thread mapping of every matrix-vector product (q4k_gemv, q6k_gemv, q8_0_gemv, f16_gemv):
// a CTA of plan.warps warps; warp w of CTA c computes rows (c * warps + w) * R .. + R - 1
// (R = plan.rows_per_warp) for every input vector and every weight matrix (two for swiglu).
// Lane l takes units l, l + 32, ... of each row (gemv_codec.hpp), so one step of a warp reads
// 32 consecutive units; a group of plan.unroll steps is loaded (all rows, all vectors) while the
// previous group is decoded and multiplied (a software pipeline). The activations of a unit are loaded once and used for all R rows.
// Partial sums are reduced across the warp with shuffles; lane (r * batch + v) % 32 writes
// output (r, v). Rows past N recompute row N - 1 and store nothing.
// Q8_1 output: the CTA's 32 rows per vector go through shared memory, and the first 8 lanes of
// warp v % warps quantise the block of vector v (q8_1_store.hpp).
#include <fmt/format.h>

#include "gemv_codec.hpp"
#include "kernels/reduce.hpp"
#include "ptxgen/error.hpp"
#include "gemv_epilogue.hpp"

namespace kernels {

using namespace ptxgen;
using gemv::Codec;
using gemv::InputUnit;
using gemv::WeightUnit;

Kernel build_gemv_mma(const Gemv& gemv, const Target& target);  // gemv_mma.cpp

Kernel Gemv::build(const Target& target) const {
    if (plan.strategy == GemvStrategy::mma) return build_gemv_mma(*this, target);
    const GemvShape& s = shape;
    KernelBuilder b(name(), target);
    const uint32_t mats = s.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    const uint32_t rows = plan.rows_per_warp;
    const uint32_t vecs = s.batch;
    const bool dp4a = reads_q8_1(plan.strategy);
    std::unique_ptr<Codec> codec = gemv::make_codec(s.weights, plan, s.k);
    codec->weight_load = gemv::weight_load_options(plan, target);
    const uint64_t row_bytes = quant::row_bytes(s.weights, s.k);

    const gemv::Params params = gemv::declare_params(b, s, dp4a);
    const std::vector<GlobalPtr>& w = params.w;
    gemv::Inputs in{params.xq, params.xds, params.x, s.k};
    const GlobalPtr y = params.y, yq = params.yq, yds = params.yds;
    b.reqntid(32 * plan.warps);
    if (plan.ctas_per_sm) b.min_ctas_per_sm(plan.ctas_per_sm);

    Reg<u32> tid = b.tid_x();
    Reg<u32> lane = b.and_(tid, 31u);
    Reg<u32> warp = b.shr(tid, 5u);
    // With a K split of S, warps w .. w + S - 1 (w a multiple of S) share rows; `slice` is the
    // warp's share of the row's groups of steps.
    const uint32_t split = plan.k_split;
    const uint32_t row_warps = plan.warps / split;  // warps with rows of their own, per CTA
    Reg<u32> slice = b.rem(warp, split);
    Reg<u32> first_row = b.mul_lo(b.mad_lo(b.ctaid_x(), row_warps, b.div(warp, split)), rows);

    // Row pointers, clamped to the last row.
    std::vector<std::vector<GlobalPtr>> row_ptr(mats);
    for (uint32_t r = 0; r < rows; ++r) {
        Reg<u32> row = b.min(b.add(first_row, r), s.n - 1);
        for (uint32_t m = 0; m < mats; ++m) row_ptr[m].push_back(b.index(w[m], row, static_cast<uint32_t>(row_bytes)));
    }
    // acc[m][r][v]
    std::vector<std::vector<std::vector<Reg<f32>>>> acc(mats, std::vector<std::vector<Reg<f32>>>(rows));
    for (auto& per_matrix : acc) {
        for (auto& per_row : per_matrix) {
            for (uint32_t v = 0; v < vecs; ++v) per_row.push_back(b.mov<f32>(0.0f));
        }
    }

    // The loads of one step (the units in `units`, one per lane each), and its arithmetic.
    struct Loaded {
        std::vector<Reg<u32>> units;
        std::vector<std::vector<std::vector<WeightUnit>>> w;  // [unit][matrix][row]
    };
    auto load_weights = [&](const std::vector<Reg<u32>>& units) {
        Loaded l{units, std::vector<std::vector<std::vector<WeightUnit>>>(units.size(), std::vector<std::vector<WeightUnit>>(mats))};
        for (size_t u = 0; u < units.size(); ++u) {
            for (uint32_t m = 0; m < mats; ++m) {
                l.w[u][m].resize(rows);
                for (uint32_t r = 0; r < rows; ++r) codec->load_weights(b, row_ptr[m][r], units[u], l.w[u][m][r]);
            }
        }
        return l;
    };
    auto load = [&](const std::vector<Reg<u32>>& units) { return load_weights(units); };
    // Decodes every row's unit once, then takes the vectors one by one: a vector's inputs are
    // loaded just before use, so registers hold the decoded weights and one vector's inputs.
    auto compute = [&](Loaded& l) {
        for (size_t u = 0; u < l.units.size(); ++u) {
            for (uint32_t m = 0; m < mats; ++m) {
                for (uint32_t r = 0; r < rows; ++r) {
                    WeightUnit& wu = l.w[u][m][r];
                    wu.q.clear();
                    wu.f.clear();
                    codec->decode(b, l.units[u], wu);
                }
            }
            for (uint32_t v = 0; v < vecs; ++v) {
                InputUnit x;
                codec->load_inputs(b, in, v, l.units[u], x);
                codec->prepare_inputs(b, x);
                for (uint32_t m = 0; m < mats; ++m) {
                    for (uint32_t r = 0; r < rows; ++r) codec->accumulate(b, l.w[u][m][r], x, acc[m][r][v]);
                }
            }
        }
    };
    // Loads a group into the registers of `into` (which the previous compute has finished with):
    // each value is loaded into a fresh register and moved, which ptxas folds into the load.
    auto load_into = [&](Loaded& into, const std::vector<Reg<u32>>& units) {
        Loaded fresh = load_weights(units);
        auto copy_all = [&](auto& dst, const auto& src) {
            for (size_t i = 0; i < dst.size(); ++i) b.mov(dst[i], src[i]);
        };
        for (size_t u = 0; u < into.units.size(); ++u) {
            b.mov(into.units[u], fresh.units[u]);
            for (uint32_t m = 0; m < mats; ++m) {
                for (uint32_t r = 0; r < rows; ++r) {
                    copy_all(into.w[u][m][r].raw, fresh.w[u][m][r].raw);
                    copy_all(into.w[u][m][r].h, fresh.w[u][m][r].h);
                }
            }
        }
    };

    const uint32_t units = codec->units_per_row();
    const uint32_t full_steps = units / 32;  // steps in which every lane has a unit
    const uint32_t tail = units % 32;        // lanes with a unit in the last, partial step
    const uint32_t unroll = std::max<uint32_t>(1, std::min(plan.unroll, full_steps));
    const uint32_t groups = full_steps / unroll;  // groups of `unroll` steps, software-pipelined
    auto units_of_group = [&](Reg<u32> group) {
        Reg<u32> base = b.mad_lo(group, 32 * unroll, lane);
        std::vector<Reg<u32>> list;
        for (uint32_t u = 0; u < unroll; ++u) list.push_back(u == 0 ? base : b.add(base, 32 * u));
        return list;
    };
    // L2 prefetch of group `group`'s weights (clamped to the last group; a repeat hits L2).
    const uint32_t ahead = groups > 1 ? std::min(plan.prefetch_ahead, groups - 1) : 0;
    auto prefetch_group = [&](Reg<u32> group) {
        for (Reg<u32> unit : units_of_group(b.min(group, groups - 1))) {
            for (uint32_t m = 0; m < mats; ++m) {
                for (uint32_t r = 0; r < rows; ++r) codec->prefetch_weights(b, row_ptr[m][r], unit);
            }
        }
    };
    if (groups == 0 && target.sm >= 90) b.griddep_wait();
    if (groups > 0) {
        // Software pipeline: the weight loads of group g + S are issued before the arithmetic of
        // group g, so that a lane always has a group's weights in flight from DRAM while it
        // computes (ptxas does not hoist loads across the loop's back edge by itself). The
        // inputs, small and reused by every warp, come from L1 and are loaded just in time.
        // plan_gemv keeps groups >= S, so every slice has a first group.
        Loaded current = load_weights(units_of_group(split == 1 ? b.mov<u32>(0u) : b.mov<u32>(slice)));
        // The next `ahead` groups go to L2 meanwhile; each iteration then prefetches one more.
        for (uint32_t a = 1; a <= ahead; ++a) prefetch_group(b.add(slice, split * a));
        // Only weights so far: the inputs and outputs come after the previous kernel finishes.
        if (target.sm >= 90) b.griddep_wait();
        // The slice's remaining groups g = slice + split, slice + 2 split, ... < groups, two per
        // iteration with two register sets in turn (`current` carried around the loop, `next`
        // within it), so that no value is moved after its load and every group's loads have a
        // whole compute of the other set to arrive in.
        auto one_iteration = [&](Reg<u32> g) {
            if (ahead) prefetch_group(b.add(g, split * ahead));
            Loaded next = load_weights(units_of_group(g));
            compute(current);
            if (ahead) prefetch_group(b.add(g, split * (ahead + 1)));
            load_into(current, units_of_group(b.add(g, split)));
            compute(next);
        };
        // The slice's trailing group when `remaining` is odd, then the two sets' last computes.
        auto finish_two = [&](Reg<u32> last) {
            Loaded next = load_weights(units_of_group(last));
            compute(current);
            compute(next);
        };
        if (split == 1) {
            const uint32_t remaining = groups - 1;  // after group 0
            if (remaining >= 2) b.for_range(1u, 1u + 2 * (remaining / 2), 2, one_iteration, Unroll{1});
            if (remaining % 2 == 1) finish_two(b.mov<u32>(remaining));
            else compute(current);
        } else {
            // remaining = (groups - 1 - slice) / split, at least 0 (plan_gemv keeps groups >= split).
            Reg<u32> remaining = b.div(b.sub(b.mov<u32>(groups - 1), slice), split);
            Reg<u32> first = b.add(slice, split);
            b.for_range(first, b.mad_lo(b.and_(remaining, ~1u), split, first), 2 * split, one_iteration, Unroll{1});
            b.if_else(b.setp(Cmp::ne, b.and_(remaining, 1u), 0u), [&] { finish_two(b.mad_lo(remaining, split, slice)); },
                      [&] { compute(current); });
        }
    }
    // Steps left over after the groups, and the partial step: one each, dealt to the slices.
    std::vector<uint32_t> leftovers;
    for (uint32_t u = groups * unroll; u < full_steps; ++u) leftovers.push_back(u);
    auto step = [&](uint32_t st, uint32_t index) {
        auto body = [&] {
            Loaded l = load({b.add(lane, 32 * st)});
            compute(l);
        };
        Pred mine = b.setp(Cmp::eq, slice, index % split);
        if (st == full_steps) mine = b.setp(Cmp::lt, lane, tail, BoolOp::and_, mine);
        if (split == 1 && st < full_steps) body();
        else b.if_(mine, body);
    };
    for (size_t i = 0; i < leftovers.size(); ++i) step(leftovers[i], static_cast<uint32_t>(i));
    if (tail > 0) step(full_steps, static_cast<uint32_t>(leftovers.size()));

    // The weights are read: the kernel that follows may launch and wait for this one's outputs.
    if (target.sm >= 90) b.griddep_launch_dependents();
    // Reduce across the warp, then across the slices of a K split (through shared memory, into
    // slice 0), combine the matrices, write.
    for (auto& per_matrix : acc) {
        for (auto& per_row : per_matrix) {
            for (Reg<f32>& a : per_row) a = warp_sum(b, a);
        }
    }
    Pred leader = b.setp(Cmp::eq, slice, 0u);
    if (split > 1) {
        const uint32_t per_warp = mats * rows * vecs;
        SharedArray partial = b.shared_array("partial", plan.warps * per_warp * 4, 16);
        SharedPtr mine = b.index(b.addr_of(partial), warp, per_warp * 4);
        b.predicated(b.setp(Cmp::eq, lane, 0u, BoolOp::and_, b.setp(Cmp::ne, slice, 0u)), [&] {
            uint32_t i = 0;
            for (auto& per_matrix : acc) {
                for (auto& per_row : per_matrix) {
                    for (Reg<f32>& a : per_row) b.st(mine[4 * int64_t{i++}], a);
                }
            }
        });
        b.bar_sync();
        b.if_(leader, [&] {
            for (uint32_t other = 1; other < split; ++other) {
                uint32_t i = 0;
                for (auto& per_matrix : acc) {
                    for (auto& per_row : per_matrix) {
                        for (Reg<f32>& a : per_row) {
                            b.mov(a, b.add(a, b.ld<f32>(mine[(int64_t{other} * per_warp + i++) * 4])));
                        }
                    }
                }
            }
        });
    }
    std::vector<std::vector<Reg<f32>>> out(rows);
    for (uint32_t r = 0; r < rows; ++r) {
        for (uint32_t v = 0; v < vecs; ++v) {
            Reg<f32> total = acc[0][r][v];
            if (mats == 2) total = gemv::silu_times(b, total, acc[1][r][v]);
            out[r].push_back(total);
        }
    }
    if (s.output == GemvOutput::f32) {
        for (uint32_t r = 0; r < rows; ++r) {
            Reg<u32> row = b.add(first_row, r);
            for (uint32_t v = 0; v < vecs; ++v) {
                Pred in_range = b.setp(Cmp::lt, row, s.n, BoolOp::and_, leader);
                Pred writer = b.setp(Cmp::eq, lane, (r * vecs + v) % 32, BoolOp::and_, in_range);
                b.predicated(writer, [&] {
                    Address<Space::global> at = b.index(y, b.add(row, v * s.n), 4)[0];
                    if (s.epilogue == GemvEpilogue::residual) b.st(at, b.add(b.ld<f32>(at), out[r][v]));
                    else b.st(at, out[r][v]);
                });
            }
        }
    } else {
        // 32 rows per CTA (plan_gemv guarantees it): stage them, then warp v % warps quantises
        // vector v's block with its first 8 lanes, 4 values each.
        const uint32_t cta_rows = row_warps * rows;
        SharedArray staged = b.shared_array("staged", vecs * cta_rows * 4, 16);
        SharedPtr base = b.addr_of(staged);
        for (uint32_t r = 0; r < rows; ++r) {
            Reg<u32> local = b.mad_lo(b.div(warp, split), rows, r);
            for (uint32_t v = 0; v < vecs; ++v) {
                b.predicated(b.setp(Cmp::eq, lane, (r * vecs + v) % 32, BoolOp::and_, leader),
                             [&] { b.st(b.index(base, local, 4)[int64_t{v} * cta_rows * 4], out[r][v]); });
            }
        }
        b.bar_sync();
        gemv::quantize_staged(b, base, vecs, s.n, plan.warps, warp, lane, b.mul_lo(b.ctaid_x(), cta_rows), yq, yds);
    }
    return b.finish();
}

}  // namespace kernels
