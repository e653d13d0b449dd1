// The tensor-core strategy of the matrix-vector products (plan.strategy == mma): Q4_K and Q6_K
// weights, 1..64 input vectors as Q8_1 activations, each 32-element block of a row times 8
// vectors in one mma.m16n8k32 (s8 x s8 -> s32). The formats' parts are gemv_mma_q4k.cpp and
// gemv_mma_q6k.cpp.
//
// Thread mapping. A CTA has plan.warps warps in groups of plan.k_split: warp w computes rows
// first .. first + R - 1 (R = plan.rows_per_warp, 16 or 32: one or two m16 tiles;
// first = (cta * groups + w / k_split) * R) for every vector, over the super-blocks
// s = w % k_split, + k_split, ... of each row. In lane l, g = l / 4 and t = l % 4, per m-tile:
//   A (16 rows x 32 k): the lane loads rows g and g + 8 of the tile, its share of each block.
//   B (32 k x 8 vectors): column g is vector min(8 nt + g, batch - 1) of n-tile nt, elements of
//     the Q8_1 block picked by the format's k order (Format::permuted_k). Columns past the batch
//     are computed and not stored.
//   C: the lane holds rows g and g + 8 for vectors 8 nt + 2t and + 1.
// More than 8 vectors: n-tiles of 8 share each decoded weight. Integer results are scaled in f32
// per block (the formats say how). Slices of a K split meet in shared memory; slice 0 writes.
// The weights of the next super-block are loaded before the current one is computed (a software
// pipeline, as in gemv_build.cpp). sm_75 has no m16n8k32: there each is four m8n8k16.
#include <fmt/format.h>

#include "gemv_codec.hpp"
#include "gemv_epilogue.hpp"
#include "gemv_mma.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

using namespace ptxgen;

namespace gemv::mma {

CFrag mma_s8(KernelBuilder& b, const AFrag& a, const BFrag& x, const CFrag& c) {
    if (b.target().sm >= 80) return b.mma_m16n8k32_s8(a, x, c);
    // sm_75: four m8n8k16, whose fragments are the quarters of m16n8k32's: rows g (a0, a2) and
    // g + 8 (a1, a3), each over k 0..15 (with b0) and 16..31 (with b1).
    Regs<s32, 2> top = b.mma_m8n8k16_s8(a[2], x[1], b.mma_m8n8k16_s8(a[0], x[0], {c[0], c[1]}));
    Regs<s32, 2> bottom = b.mma_m8n8k16_s8(a[3], x[1], b.mma_m8n8k16_s8(a[1], x[0], {c[2], c[3]}));
    return {top[0], top[1], bottom[0], bottom[1]};
}

RowBlock Format::load_staged(KernelBuilder&, SharedPtr, Reg<u32>, Reg<u32>) const {
    throw ptxsmith::Error("this weight format has no staged form of the mma strategy");
}

}  // namespace gemv::mma

using gemv::mma::BFrag;
using gemv::mma::CFrag;
using gemv::mma::RowBlock;

constexpr uint32_t kTileRows = 16;

Kernel build_gemv_mma(const Gemv& gemv, const Target& target) {
    const GemvShape& s = gemv.shape;
    const GemvPlan& plan = gemv.plan;
    std::unique_ptr<gemv::mma::Format> format;
    if (s.weights == quant::GgmlType::q4_k) format = gemv::mma::q4k_format();
    else if (s.weights == quant::GgmlType::q6_k) format = gemv::mma::q6k_format();
    else throw ptxsmith::Error("the mma generator handles Q4_K and Q6_K weights only");
    KernelBuilder b(gemv.name(), target);
    const uint32_t mats = s.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    const uint32_t vecs = s.batch;
    const uint32_t superblocks = s.k / 256;
    const uint32_t block_bytes = format->block_bytes();
    const uint32_t row_bytes = superblocks * block_bytes;

    const gemv::Params params = gemv::declare_params(b, s, true);
    const std::vector<GlobalPtr>& w = params.w;
    const GlobalPtr xq = params.xq, xds = params.xds, y = params.y, yq = params.yq, yds = params.yds;
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
    // n-tile nt covers vectors 8 nt .. 8 nt + 7. B: vector min(8 nt + g, batch - 1) at this lane's
    // bytes; C: vectors 8 nt + 2t and + 1 (clamped).
    const uint32_t ntiles = (vecs + 7) / 8;
    const bool permuted = format->permuted_k();
    std::vector<GlobalPtr> x_at;
    std::vector<std::array<GlobalPtr, 2>> ds_at(ntiles);
    for (uint32_t nt = 0; nt < ntiles; ++nt) {
        x_at.push_back(b.index(b.index(xq, b.min(b.add(g, 8 * nt), vecs - 1), s.k), t, permuted ? 8 : 4));
        for (uint32_t e = 0; e < 2; ++e) {
            ds_at[nt][e] = b.index(xds, b.min(b.add(b.shl(t, 1u), 8 * nt + e), vecs - 1), s.k / 32 * 4);
        }
    }

    CFrag zero;
    for (auto& r : zero) r = b.mov<s32>(0);
    std::vector<std::vector<Reg<f32>>> acc(mats);
    for (auto& per_matrix : acc) {
        for (uint32_t i = 0; i < 4 * tiles * ntiles; ++i) per_matrix.push_back(b.mov<f32>(0.0f));
    }

    using Loaded = std::vector<std::vector<RowBlock>>;  // [matrix][h]
    const LdOpts weight_load = gemv::weight_load_options(plan, target);
    auto load = [&](Reg<u32> sb) {
        Loaded l(mats);
        Reg<u32> offset = b.mul_lo(sb, block_bytes);
        for (uint32_t m = 0; m < mats; ++m) {
            for (uint32_t h = 0; h < pairs; ++h) l[m].push_back(format->load(b, b.index(row_at[m][h], offset, 1), t, weight_load));
        }
        return l;
    };
    auto compute = [&](const Loaded& l, Reg<u32> sb) {
        // With one n-tile the super-block's 8 block scales per C vector are loaded up front (two
        // 16-byte loads); with more, each is loaded when used, to keep registers for the accumulators.
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
        gemv::mma::Step step{b, mats, tiles, ntiles, l, acc,
            [&](uint32_t nt, uint32_t j) {
                GlobalPtr xs = b.index(x_at[nt], sb, 256);
                if (permuted) {
                    Regs<u32, 2> pair = b.ld_v<u32, 2>(xs[32 * int64_t{j}], {.nc = true});
                    return BFrag{b.bitcast<b32>(pair[0]), b.bitcast<b32>(pair[1])};
                }
                return BFrag{b.ld<b32>(xs[32 * int64_t{j}], {.nc = true}), b.ld<b32>(xs[32 * int64_t{j} + 16], {.nc = true})};
            },
            [&](uint32_t nt, uint32_t e, uint32_t j) {
                if (ntiles == 1) return dx_first[e][j];
                return gemv::half2_to_f32(b, b.ld<u32>(b.index(ds_at[nt][e], sb, 32)[4 * int64_t{j}], {.nc = true})).first;
            },
            zero};
        format->compute(step);
    };
    // Staged steps: lane l < words copies 8-byte word l of each of the warp's 16 rows' window, the
    // aligned words that hold super-block sb (rows are 8-byte aligned: plan_mma stages only when
    // K % 1024 == 0), into a slot of the warp's ring; the block starts `skew` bytes into it.
    const uint32_t words = (block_bytes + 6 + 7) / 8;
    const uint32_t slot_bytes = mats * kTileRows * gemv::mma::kStagedPitch;
    SharedPtr ring{};
    std::vector<GlobalPtr> copy_src;
    Pred copies{}, full_tile{};
    Reg<u32> tile_row{};
    if (plan.staged) {
        if (!format->can_stage() || row_bytes % 8 != 0 || tiles != 1) {
            throw ptxsmith::Error("mma: staged steps need Q6_K, one m16 tile per warp and K a multiple of 1024");
        }
        ring = b.offset(b.addr_of(b.dynamic_shared(16)), b.mul_lo(warp, gemv::mma::kStagedSteps * slot_bytes));
        copies = b.setp(Cmp::lt, lane, words);
        // Rows past N (the last tile of a matrix) copy row N - 1 again (computed, not stored).
        tile_row = b.min(first_row, s.n - 1);
        for (uint32_t m = 0; m < mats; ++m) copy_src.push_back(b.index(b.index(w[m], tile_row, row_bytes), lane, 8));
        full_tile = b.setp(Cmp::le, b.add(first_row, kTileRows), s.n);
    }
    // Matrix m's rows in the ring slot at byte offset `slot`.
    auto slot_rows = [&](Reg<u32> slot, uint32_t m) { return b.offset(ring, b.add(slot, m * kTileRows * gemv::mma::kStagedPitch)); };
    auto copy_step = [&](Reg<u32> sb, Reg<u32> slot) {
        Reg<u32> window = b.and_(b.mul_lo(sb, block_bytes), ~7u);
        auto copy_rows = [&](bool whole) {
            for (uint32_t m = 0; m < mats; ++m) {
                GlobalPtr src = b.index(copy_src[m], window, 1);
                SharedPtr dst = b.index(slot_rows(slot, m), lane, 8);
                for (uint32_t r = 0; r < kTileRows; ++r) {
                    Address<Space::global> from = src[int64_t{r} * row_bytes];
                    if (!whole) {
                        // Row first_row + r, or row N - 1 past N.
                        Reg<u32> row = b.min(b.add(first_row, r), s.n - 1);
                        from = b.index(src, b.sub(row, tile_row), row_bytes)[0];
                    }
                    Address<Space::shared> to = dst[int64_t{r} * gemv::mma::kStagedPitch];
                    b.predicated(copies, [&] {
                        if (target.sm >= 80) b.cp_async(to, from, 8, CpAsyncCache::ca);
                        else b.st_v<u32, 2>(to, b.ld_v<u32, 2>(from, weight_load));
                    });
                }
            }
        };
        b.if_else(full_tile, [&] { copy_rows(true); }, [&] { copy_rows(false); });
        if (target.sm >= 80) b.cp_async_commit();
    };
    // The staged step in `slot`, as the format's loads from shared memory (after every lane's copies landed).
    auto load_staged = [&](Reg<u32> sb, Reg<u32> slot, uint32_t pending) {
        if (target.sm >= 80) b.cp_async_wait(pending);
        b.bar_warp_sync();
        Reg<u32> skew = b.and_(b.mul_lo(sb, block_bytes), 7u);
        Loaded l(mats);
        for (uint32_t m = 0; m < mats; ++m) {
            SharedPtr matrix = slot_rows(slot, m);
            for (uint32_t h = 0; h < pairs; ++h) {
                SharedPtr row = b.index(matrix, b.add(g, 8 * h), gemv::mma::kStagedPitch);
                l[m].push_back(format->load_staged(b, row, skew, t));
            }
        }
        return l;
    };
    auto carry = [&](Loaded& to, const Loaded& from) {
        for (uint32_t m = 0; m < mats; ++m) {
            for (uint32_t h = 0; h < pairs; ++h) {
                for (size_t i = 0; i < to[m][h].words.size(); ++i) b.mov(to[m][h].words[i], from[m][h].words[i]);
                for (size_t i = 0; i < to[m][h].halves.size(); ++i) b.mov(to[m][h].halves[i], from[m][h].halves[i]);
            }
        }
    };

    // plan_mma keeps k_split <= superblocks, so every slice has a first super-block.
    Reg<u32> current_sb = b.mov<u32>(slice);
    if (plan.staged) {
        // The ring's slots alternate: the next step's copies are in flight while this one is computed.
        Reg<u32> slot = b.mov<u32>(0u);
        copy_step(current_sb, slot);
        if (target.sm >= 90) b.griddep_wait();
        if (superblocks > split) {
            b.for_range(b.add(slice, split), superblocks, split, [&](Reg<u32> sb) {
                Reg<u32> next_slot = b.xor_(slot, slot_bytes);
                copy_step(sb, next_slot);
                compute(load_staged(current_sb, slot, 1), current_sb);
                b.bar_warp_sync();  // every lane has read the slot before it is refilled
                b.mov(slot, next_slot);
                b.mov(current_sb, sb);
            }, Unroll{1});
        }
        compute(load_staged(current_sb, slot, 0), current_sb);
    } else {
        Loaded current = load(current_sb);
        // Only weights so far: the inputs and outputs come after the previous kernel finishes.
        if (target.sm >= 90) b.griddep_wait();
        if (superblocks > split) {
            b.for_range(b.add(slice, split), superblocks, split, [&](Reg<u32> sb) {
                Loaded next = load(sb);
                compute(current, current_sb);
                carry(current, next);
                b.mov(current_sb, sb);
            }, Unroll{1});
        }
        compute(current, current_sb);
    }

    // The weights are read: the kernel that follows may launch and wait for this one's outputs.
    if (target.sm >= 90) b.griddep_launch_dependents();
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
