// The flash_attention generator.
//
// Thread mapping: CTA (x, y) takes query head y and the Br = 16 * warps query rows of tile
// (gridDim.x - 1 - x) (the longest tiles start first); warp w owns rows [16 w, 16 w + 16) of the
// tile. The CTA walks the key positions [0, min(p0 + tile end, p0 + n)) in tiles of Bc keys
// (64, or 32 for head_dim 256), each K and V tile staged in shared memory by cp.async, two stages
// deep: tile t + 1 loads while tile t is used. Staging: thread i copies 16-byte chunk i % (D / 8)
// of rows i / (D / 8), + T / (D / 8), ...; rows past the end are zero-filled (so masked keys hold
// zeros, never cache garbage) and read no memory.
// Per warp and key tile: S (16 x Bc) = Q K^T by mma.sync m16n8k16, Q fragments from ldmatrix once
// (kept in registers for head_dim <= 128, reloaded from shared memory for 256), K fragments by
// ldmatrix; keys past a row's position get -inf (only on tiles that reach the warp's diagonal);
// online softmax in f32 per row (the lane group of four that holds a row reduces with two
// butterflies), probabilities by ex2 with scale * log2(e) folded in; O (16 x D, f32 in registers)
// is rescaled and gains P V, P converted to f16 in registers as the A fragment and V fragments by
// ldmatrix.trans. Lane (g = lane / 4, t = lane % 4) holds rows g and g + 8, columns 2t, 2t + 1 of
// each 8-column block. Last: O / l, rows < n stored as f32 pairs.
// Shared rows are padded by 16 bytes so the eight rows an ldmatrix phase reads fall in distinct banks.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

#include "kernels/flash_attention.hpp"
#include "mma_fragments.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;
using namespace mma_detail;

namespace {

// Rows [first, first + passes * rows_per_pass) of a global matrix into shared memory, one 16-byte
// chunk per thread per pass (`dst` and `src` already point at this thread's chunk of its first
// row). Rows at or past `end` are zero-filled and read nothing; `end` >= 1.
struct RowCopy {
    SharedPtr dst;
    GlobalPtr src;
    uint32_t src_row_bytes = 0;
    uint32_t dst_row_bytes = 0;
    uint32_t rows_per_pass = 0;
    uint32_t passes = 0;
};

void stage_rows(KernelBuilder& b, const RowCopy& c, Reg<u32> first, Reg<u32> end, Reg<u32> last) {
    for (uint32_t p = 0; p < c.passes; ++p) {
        Reg<u32> row = b.add(first, p * c.rows_per_pass);
        Pred inside = b.setp(Cmp::lt, row, end);
        GlobalPtr from = b.index(c.src, b.min(row, last), c.src_row_bytes);
        Address<Space::shared> to = c.dst[int64_t{p} * c.rows_per_pass * c.dst_row_bytes];
        copy16(b, to, from[0], inside);
    }
}

}  // namespace

Kernel FlashAttention::build(const Target& target) const {
    const uint32_t D = head_dim, Br = query_rows(), Bc = key_rows(), T = 32 * warps;
    const uint32_t pitch = 2 * D + 16;  // bytes per shared row
    const uint32_t q_bytes = Br * pitch, kv_tile_bytes = Bc * pitch, stage_bytes = 2 * kv_tile_bytes;
    const uint32_t chunks_per_row = D / 8, rows_per_pass = T / chunks_per_row;
    const uint32_t d_blocks = D / 8, k_steps = D / 16, key_blocks = Bc / 8;
    const uint32_t q_tiles = (len + Br - 1) / Br;
    const bool q_in_registers = D <= 128;
    const float c = static_cast<float>(effective_scale() * std::numbers::log2e);

    KernelBuilder b(name(), target);
    GlobalPtr q = b.param_ptr("q", Type::f16);
    GlobalPtr k_cache = b.param_ptr("k_cache", Type::f16);
    GlobalPtr v_cache = b.param_ptr("v_cache", Type::f16);
    GlobalPtr pos_ptr = b.param_ptr("pos", Type::s32);
    GlobalPtr out = b.param_ptr("out", Type::f32);
    b.reqntid(T);

    Reg<u32> tid = b.tid_x();
    Reg<u32> lane = b.and_(tid, 31u);
    Reg<u32> warp = b.shr(tid, 5u);
    Reg<u32> g = b.shr(lane, 2u);
    Reg<u32> t4 = b.and_(lane, 3u);
    Reg<u32> head = b.ctaid_y();
    Reg<u32> kv_head = b.div(head, q_heads / kv_heads);
    Reg<u32> q0 = b.mul_lo(b.sub(b.mov<u32>(q_tiles - 1), b.ctaid_x()), Br);

    Reg<u32> p0 = b.bitcast<u32>(b.ld<s32>(pos_ptr[0]));
    Reg<u32> rows_end = b.min(b.add(q0, Br), len);
    Reg<u32> kv_end = b.min(b.add(p0, rows_end), max_seq);
    Reg<u32> kv_last = b.sub(kv_end, 1u);
    Reg<u32> kv_tiles = b.div(b.add(kv_end, Bc - 1), Bc);

    // Shared memory: the Q tile, then two stages of (K tile, V tile).
    SharedPtr smem = b.addr_of(b.dynamic_shared(16));
    Reg<u32> chunk_row = b.shr(tid, static_cast<uint32_t>(std::countr_zero(chunks_per_row)));
    Reg<u32> chunk_col = b.and_(tid, chunks_per_row - 1);
    Reg<u32> chunk_at = b.mad_lo(chunk_row, pitch, b.shl(chunk_col, 4u));
    RowCopy q_copy{b.offset(smem, chunk_at), b.index(b.index(q, head, 2 * D), chunk_col, 16), q_heads * 2 * D, pitch,
                   rows_per_pass, Br / rows_per_pass};
    Reg<u32> len_last = b.mov<u32>(len - 1);
    Reg<u32> len_end = b.mov<u32>(len);
    GlobalPtr k_src = b.index(b.index(k_cache, kv_head, max_seq * 2 * D), chunk_col, 16);
    GlobalPtr v_src = b.index(b.index(v_cache, kv_head, max_seq * 2 * D), chunk_col, 16);
    SharedPtr kv_dst = b.offset(smem, b.add(chunk_at, q_bytes));
    auto stage_tile = [&](Reg<u32> tile) {
        Reg<u32> first = b.mad_lo(tile, Bc, chunk_row);
        SharedPtr dst = b.offset(kv_dst, b.mul_lo(b.and_(tile, 1u), stage_bytes));
        RowCopy kc{dst, k_src, 2 * D, pitch, rows_per_pass, Bc / rows_per_pass};
        stage_rows(b, kc, first, kv_end, kv_last);
        RowCopy vc{b.offset(dst, kv_tile_bytes), v_src, 2 * D, pitch, rows_per_pass, Bc / rows_per_pass};
        stage_rows(b, vc, first, kv_end, kv_last);
    };
    auto commit = [&] {
        if (target.sm >= 80) b.cp_async_commit();
    };
    auto wait_all = [&] {
        if (target.sm >= 80) b.cp_async_wait_all();
    };

    stage_rows(b, q_copy, b.add(q0, chunk_row), len_end, len_last);
    stage_tile(b.mov<u32>(0u));
    commit();
    wait_all();
    b.bar_sync();

    // ldmatrix lane addresses. A-style (Q, and V with .trans): matrices (rows 0-7 | 8-15) x
    // (columns 0-7 | 8-15) in the order a0..a3. K-style: (keys 0-7, d 0-7), (keys 0-7, d 8-15),
    // (keys 8-15, d 0-7), (keys 8-15, d 8-15): b0, b1 of one key block, then of the next.
    Reg<u32> a_row = b.add(b.and_(lane, 7u), b.and_(lane, 8u));
    Reg<u32> a_off = b.mad_lo(a_row, pitch, b.shl(b.shr(lane, 4u), 4u));
    Reg<u32> k_row = b.add(b.and_(lane, 7u), b.shr(b.and_(lane, 16u), 1u));
    Reg<u32> k_off = b.mad_lo(k_row, pitch, b.shl(b.and_(lane, 8u), 1u));
    SharedPtr q_frag_at = b.offset(smem, b.mad_lo(warp, 16 * pitch, a_off));
    SharedPtr k_frag_at = b.offset(smem, b.add(k_off, q_bytes));
    SharedPtr v_frag_at = b.offset(smem, b.add(a_off, q_bytes + kv_tile_bytes));

    std::vector<AFrag> q_frags;
    if (q_in_registers) {
        for (uint32_t ks = 0; ks < k_steps; ++ks) q_frags.push_back(b.ldmatrix<4, f16x2>(q_frag_at[ks * 32]));
    }

    // Running state: O accumulators, and per row (g, g + 8) the max m (scaled, log2 units) and
    // this lane's part of the sum l.
    Reg<f32> zero = b.mov<f32>(0.0f);
    const Acc zero_acc{zero, zero, zero, zero};
    std::vector<Acc> o_state(d_blocks);
    for (Acc& a : o_state)
        for (auto& r : a) r = b.mov<f32>(0.0f);
    std::array<Reg<f32>, 2> m{b.mov<f32>(-1e30f), b.mov<f32>(-1e30f)};
    std::array<Reg<f32>, 2> l{b.mov<f32>(0.0f), b.mov<f32>(0.0f)};

    // The position of the warp's first row, and each lane's two row positions.
    Reg<u32> warp_first = b.add(b.add(p0, q0), b.shl(warp, 4u));
    std::array<Reg<u32>, 2> row_pos{b.add(warp_first, g), b.add(warp_first, b.add(g, 8u))};
    Reg<u32> two_t = b.shl(t4, 1u);

    b.for_range(0u, kv_tiles, 1, [&](Reg<u32> tile) {
        b.if_(b.setp(Cmp::lt, b.add(tile, 1u), kv_tiles), [&] { stage_tile(b.add(tile, 1u)); });
        commit();
        std::vector<Acc> o = o_state;
        Reg<u32> stage_off = b.mul_lo(b.and_(tile, 1u), stage_bytes);
        SharedPtr k_at = b.offset(k_frag_at, stage_off);
        SharedPtr v_at = b.offset(v_frag_at, stage_off);

        // S = Q K^T.
        std::vector<Acc> s(key_blocks, zero_acc);
        for (uint32_t ks = 0; ks < k_steps; ++ks) {
            AFrag qf = q_in_registers ? q_frags[ks] : b.ldmatrix<4, f16x2>(q_frag_at[ks * 32]);
            for (uint32_t nb = 0; nb < key_blocks; nb += 2) {
                Regs<f16x2, 4> kf = b.ldmatrix<4, f16x2>(k_at[int64_t{nb} * 8 * pitch + ks * 32]);
                s[nb] = mma(b, lane, qf, {kf[0], kf[1]}, s[nb]);
                s[nb + 1] = mma(b, lane, qf, {kf[2], kf[3]}, s[nb + 1]);
            }
        }

        // Causal mask, only where the tile reaches past the warp's first row.
        Reg<u32> key0 = b.mul_lo(tile, Bc);
        b.if_(b.setp(Cmp::gt, b.add(key0, Bc - 1), warp_first), [&] {
            Reg<u32> lane_key = b.add(key0, two_t);
            for (uint32_t r = 0; r < 2; ++r) {
                // Element (nb, e) is key lane_key + 8 nb + e; it is masked when that exceeds row_pos.
                Reg<s32> room = b.bitcast<s32>(b.sub(row_pos[r], lane_key));
                for (uint32_t nb = 0; nb < key_blocks; ++nb) {
                    for (uint32_t e = 0; e < 2; ++e) {
                        Pred masked = b.setp(Cmp::lt, room, static_cast<int32_t>(8 * nb + e));
                        b.mov(s[nb][2 * r + e], b.selp<f32>(-INFINITY, s[nb][2 * r + e], masked));
                    }
                }
            }
        });

        // Online softmax per row; s becomes P.
        for (uint32_t r = 0; r < 2; ++r) {
            Reg<f32> mx = s[0][2 * r];
            for (uint32_t nb = 0; nb < key_blocks; ++nb)
                for (uint32_t e = 0; e < 2; ++e) {
                    if (nb != 0 || e != 0) mx = b.max(mx, s[nb][2 * r + e]);
                }
            mx = b.max(mx, b.shfl_bfly(mx, 1u));
            mx = b.max(mx, b.shfl_bfly(mx, 2u));
            Reg<f32> m_new = b.max(m[r], b.mul(mx, c));
            Reg<f32> alpha = b.ex2(b.sub(m[r], m_new));
            Reg<f32> neg_m = b.neg(m_new);
            Reg<f32> sum = zero;
            for (uint32_t nb = 0; nb < key_blocks; ++nb)
                for (uint32_t e = 0; e < 2; ++e) {
                    Reg<f32> p = b.ex2(b.fma(s[nb][2 * r + e], c, neg_m));
                    s[nb][2 * r + e] = p;
                    sum = b.add(sum, p);
                }
            b.mov(l[r], b.fma(l[r], alpha, sum));
            b.mov(m[r], m_new);
            for (Acc& a : o) {
                a[2 * r] = b.mul(a[2 * r], alpha);
                a[2 * r + 1] = b.mul(a[2 * r + 1], alpha);
            }
        }

        // O += P V, 16 keys per step.
        for (uint32_t kk = 0; kk < Bc / 16; ++kk) {
            const Acc &lo = s[2 * kk], &hi = s[2 * kk + 1];
            AFrag pf{to_f16x2(b, lo[0], lo[1]), to_f16x2(b, lo[2], lo[3]), to_f16x2(b, hi[0], hi[1]),
                     to_f16x2(b, hi[2], hi[3])};
            for (uint32_t db = 0; db < d_blocks; db += 2) {
                Regs<f16x2, 4> vf = b.ldmatrix<4, f16x2>(v_at[int64_t{kk} * 16 * pitch + db * 16], true);
                o[db] = mma(b, lane, pf, {vf[0], vf[1]}, o[db]);
                o[db + 1] = mma(b, lane, pf, {vf[2], vf[3]}, o[db + 1]);
            }
        }
        // The loop-carried accumulators stay in the registers the loop started with.
        for (uint32_t db = 0; db < d_blocks; ++db)
            for (uint32_t i = 0; i < 4; ++i) b.mov(o_state[db][i], o[db][i]);
        // Tile t + 1 has landed for every thread, and nobody reads stage t & 1 any more.
        wait_all();
        b.bar_sync();
    });

    // O / l; rows at or past n are not stored.
    for (uint32_t r = 0; r < 2; ++r) {
        Reg<f32> total = b.add(l[r], b.shfl_bfly(l[r], 1u));
        total = b.add(total, b.shfl_bfly(total, 2u));
        Reg<f32> inv = b.rcp(total);
        Reg<u32> row = b.add(q0, b.add(b.shl(warp, 4u), b.add(g, 8 * r)));
        Reg<u32> first = b.mad_lo(b.mad_lo(row, q_heads, head), D, two_t);
        GlobalPtr at = b.index(out, first, 4);
        std::vector<Regs<f32, 2>> values;
        for (uint32_t db = 0; db < d_blocks; ++db) {
            values.push_back({b.mul(o_state[db][2 * r], inv), b.mul(o_state[db][2 * r + 1], inv)});
        }
        b.predicated(b.setp(Cmp::lt, row, len), [&] {
            for (uint32_t db = 0; db < d_blocks; ++db) b.st_v<f32, 2>(at[int64_t{db} * 32], values[db]);
        });
    }
    return b.finish();
}

}  // namespace kernels
