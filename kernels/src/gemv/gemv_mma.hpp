// The tensor-core (mma) matrix-vector generator: the driver (gemv_mma.cpp) and what a weight
// format contributes (gemv_mma_q4k.cpp, gemv_mma_q6k.cpp). See gemv_mma.cpp for the thread mapping.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "kernels/gemv.hpp"
#include "ptxgen/builder.hpp"

namespace kernels::gemv::mma {

using ptxgen::b32;
using ptxgen::f32;
using ptxgen::GlobalPtr;
using ptxgen::KernelBuilder;
using ptxgen::Reg;
using ptxgen::Regs;
using ptxgen::s32;
using ptxgen::SharedPtr;
using ptxgen::u16;
using ptxgen::u32;

using AFrag = Regs<b32, 4>;  // m16n8k32 s8: rows g / g + 8 at k 4t.., then the same rows at k 16 + 4t..
using BFrag = Regs<b32, 2>;  // column g at k 4t.., then at k 16 + 4t..
using CFrag = Regs<s32, 4>;  // row g at columns 2t, 2t + 1, then row g + 8

// D = A B + C (mma.m16n8k32.s8; four mma.m8n8k16.s8 on sm_75).
CFrag mma_s8(KernelBuilder& b, const AFrag& a, const BFrag& x, const CFrag& c);

// One super-block of one row as loaded (raw registers, carried through the software pipeline).
struct RowBlock {
    std::vector<Reg<u32>> words;
    std::vector<Reg<u16>> halves;
};

// What the driver offers a format while it computes one super-block.
struct Step {
    KernelBuilder& b;
    uint32_t mats, tiles, ntiles;
    // rows[m][h]: matrix m, row g + 8h of the warp (h < 2 tiles).
    const std::vector<std::vector<RowBlock>>& rows;
    // acc[m][4 (nt tiles + tile) + i]: C element i of m-tile `tile` and n-tile nt.
    std::vector<std::vector<Reg<f32>>>& acc;
    // The B fragment of Q8_1 block j (0..7) of the super-block for n-tile nt, in the format's
    // lane layout (Format::permuted_k).
    std::function<BFrag(uint32_t nt, uint32_t j)> x;
    // The Q8_1 scale of block j for the lane's C column e (0, 1) of n-tile nt.
    std::function<Reg<f32>(uint32_t nt, uint32_t e, uint32_t j)> dx;
    CFrag zero;
};

class Format {
public:
    virtual ~Format() = default;
    virtual uint32_t block_bytes() const = 0;
    // true: lane t's B words are elements 8t .. 8t + 7 of a block (a permutation of k that the
    // weights follow); false: elements 4t .. 4t + 3 and 16 + 4t .. 16 + 4t + 3 (the ISA's own).
    virtual bool permuted_k() const = 0;
    // Issues the loads of one super-block of one row: `block` is its first byte.
    virtual RowBlock load(KernelBuilder& b, GlobalPtr block, Reg<u32> t, ptxgen::LdOpts weights) const = 0;
    // Staged steps (plan.staged): the same loads from the warp's shared-memory copy of the block,
    // which starts `skew` bytes (0, 2, 4 or 6) after `row`, the copy's 8-byte-aligned first byte.
    virtual bool can_stage() const { return false; }
    virtual RowBlock load_staged(KernelBuilder& b, SharedPtr row, Reg<u32> skew, Reg<u32> t) const;
    // Adds the super-block's products to step.acc.
    virtual void compute(Step& step) const = 0;
};

// Staged steps: each warp copies its 16 rows' super-block (the 8-byte words that hold it) into a
// ring of kStagedSteps slots in dynamic shared memory with cp.async, one step ahead, rows
// kStagedPitch bytes apart (16 mod 128: the 8 rows one field load touches fall in distinct
// banks). The dynamic shared memory a CTA of `warps` warps over `mats` matrices takes:
constexpr uint32_t kStagedSteps = 2;
constexpr uint32_t kStagedPitch = 272;
constexpr uint32_t staged_ring_bytes(uint32_t warps, uint32_t mats) { return warps * kStagedSteps * mats * 16 * kStagedPitch; }

std::unique_ptr<Format> q4k_format();
std::unique_ptr<Format> q6k_format();

}  // namespace kernels::gemv::mma
