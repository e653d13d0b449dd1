#include "kernels/reduce.hpp"

namespace kernels {

using namespace ptxgen;

Reg<f32> warp_sum(KernelBuilder& b, Reg<f32> v) {
    for (uint32_t lane_mask = 16; lane_mask >= 1; lane_mask /= 2) v = b.add(v, b.shfl_bfly(v, lane_mask));
    return v;
}

// Thread mapping: each warp reduces its lanes with shuffles; lane 0 of warp w writes
// scratch[w]; after a barrier every warp reads all partial sums and reduces them again, so every
// thread ends with the total without a second barrier-and-broadcast round.
Reg<f32> block_sum(KernelBuilder& b, Reg<f32> v, uint32_t threads, const std::string& scratch_name) {
    const uint32_t warps = threads / 32;
    Reg<f32> sum = warp_sum(b, v);
    if (warps == 1) return sum;
    SharedArray scratch = b.shared_array(scratch_name, warps * 4, 16);
    SharedPtr base = b.addr_of(scratch);
    Reg<u32> tid = b.tid_x();
    Reg<u32> lane = b.and_(tid, 31u);
    Reg<u32> warp = b.shr(tid, 5u);
    b.predicated(b.setp(Cmp::eq, lane, 0u), [&] { b.st(b.index(base, warp, 4)[0], sum); });
    b.bar_sync();
    // Lanes beyond the warp count contribute zero.
    Reg<u32> slot = b.min(lane, warps - 1);
    Reg<f32> partial = b.ld<f32>(b.index(base, slot, 4)[0]);
    Reg<f32> mine = b.selp<f32>(partial, 0.0f, b.setp(Cmp::lt, lane, warps));
    Reg<f32> total = warp_sum(b, mine);
    b.bar_sync();  // the scratch array may be reused by the caller
    return total;
}

}  // namespace kernels
