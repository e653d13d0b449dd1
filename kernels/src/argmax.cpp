// Thread mapping: one CTA of `block` threads. x splits into a head of h = 0..3 elements before its
// first 16-byte boundary, q = (n - h) / 4 float4s from there, and a tail of n - h - 4q < 4
// elements. Thread t takes head element t (t < h), float4s t, t + block, t + 2 block, ... (16-byte
// loads, four per unrolled step) and tail element t, in that order, so its indices only grow and
// only a strictly greater value replaces its best (ties keep the earlier index). Its best starts
// as NaN, "nothing yet", which any non-NaN value replaces (setp.gtu, and setp.num so that a NaN
// value never does); max.f32 keeps the non-NaN operand. Then the thread's best becomes a u32 key
// that orders like the floats (-0 and +0 one key; NaN 0, below -inf) and is packed as
// (key << 32 | ~index) into a u64: the largest packed value has the largest key and, among equal
// keys, the smallest index. Warps take the u64 max by butterfly shuffles (two 32-bit halves each
// step), lane 0 of each warp writes it to shared memory, and after one barrier every warp reduces
// those again; thread 0 stores ~low half. A thread that saw only NaNs (or nothing) holds key 0
// and index 0, so all-NaN answers 0.
#include "kernels/argmax.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernels/shape.hpp"
#include "ptxgen/builder.hpp"

namespace kernels {

using namespace ptxgen;

namespace {

constexpr FMode kRn{.round = Round::rn};
constexpr int kUnroll = 4;  // float4 loads in flight per thread in the main loop

// A u32 that orders as x does: a value >= +0 gets its sign bit set, a negative one all its bits
// flipped; both zeros get one key (x + 0 turns -0 into +0); NaN gets 0 (-inf is 0x007fffff).
Reg<u32> order_key(KernelBuilder& b, Reg<f32> x) {
    Reg<s32> bits = b.bitcast<s32>(b.add(x, 0.0f, kRn));
    Reg<s32> flip = b.or_(b.shr(bits, 31u), std::numeric_limits<int32_t>::min());
    Reg<u32> key = b.bitcast<u32>(b.xor_(bits, flip));
    return b.selp<u32>(0u, key, b.setp(Cmp::nan, x, x));
}

// The largest packed (key, ~index) of the warp, in every lane.
Reg<u64> warp_max(KernelBuilder& b, Reg<u64> v) {
    for (uint32_t lane_mask = 16; lane_mask >= 1; lane_mask /= 2) {
        Regs<u32, 2> halves = b.unpack<u32>(v);
        v = b.max(v, b.pack<u64>(b.shfl_bfly(halves[0], lane_mask), b.shfl_bfly(halves[1], lane_mask)));
    }
    return v;
}

// The index the kernel returns, by its rule, written plainly.
uint32_t argmax_index(const float* x, uint32_t n) {
    uint32_t best = 0;
    bool found = false;
    for (uint32_t i = 0; i < n; ++i) {
        if (std::isnan(x[i])) continue;
        if (!found || x[i] > x[best]) {
            best = i;
            found = true;
        }
    }
    return best;
}

}  // namespace

FamilyInfo Argmax::info() {
    return {"argmax",
            "out = index of the largest of x[n] (f32): ties to the smallest index, NaN never wins (all NaN: 0); "
            "one CTA",
            {ParamSpec{"n", ParamKind::integer, "number of values", "128256", 1, 2147483647.0, {}}, block_param(1024)},
            {ParamValues{{"n", "1"}, {"block", "32"}},
             ParamValues{{"n", "5"}, {"block", "64"}},
             ParamValues{{"n", "31"}, {"block", "32"}},
             ParamValues{{"n", "1000"}, {"block", "64"}},
             ParamValues{{"n", "1000"}, {"block", "1024"}},
             ParamValues{{"n", "4099"}, {"block", "32"}},
             ParamValues{{"n", "4099"}, {"block", "256"}}},
            {ParamValues{}, ParamValues{{"n", "151936"}}, ParamValues{{"n", "32000"}, {"block", "256"}}}};
}

Argmax Argmax::from(const ParamValues& v) {
    return Argmax{static_cast<uint32_t>(v.integer("n")), checked_block(v)};
}

std::string Argmax::name() const { return fmt::format("argmax_n{}_b{}", n, block); }

std::string Argmax::notes() const {
    return fmt::format("one CTA of {} threads; 16-byte loads from x's first 16-byte boundary ({} per thread per "
                       "step), scalar head and tail; u64 (key, ~index) max by shuffles and shared memory",
                       block, kUnroll);
}

Kernel Argmax::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr x = b.param_ptr("x", Type::f32);
    GlobalPtr out = b.param_ptr("out", Type::s32);
    b.reqntid(block);
    Reg<u32> tid = b.tid_x();

    Reg<f32> best_value = b.mov<f32>(std::numeric_limits<float>::quiet_NaN());
    Reg<u32> best_index = b.mov<u32>(0u);
    auto consider = [&](Reg<f32> value, Reg<u32> index) {
        Pred greater = b.setp(Cmp::gtu, value, best_value);  // or either is NaN
        Pred better = b.setp(Cmp::num, value, value, BoolOp::and_, greater);
        b.mov(best_index, b.selp<u32>(index, best_index, better));
        b.mov(best_value, b.max(best_value, value));
    };

    // h: elements before the first 16-byte boundary, (-address mod 16) / 4, at most n.
    Reg<u32> address_low = b.cvt<u32>(x.reg);
    Reg<u32> head = b.min(b.shr(b.and_(b.sub(b.mov<u32>(16u), address_low), 15u), 2u), n);
    b.if_(b.setp(Cmp::lt, tid, head), [&] { consider(b.ld<f32>(b.index(x, tid, 4)[0], {.nc = true}), tid); });

    GlobalPtr aligned = b.index(x, head, 4);
    Reg<u32> quads = b.shr(b.sub(b.mov<u32>(n), head), 2u);
    b.for_range(
        tid, quads, block,
        [&](Reg<u32> i) {
            auto v = b.ld_v<f32, 4>(b.index(aligned, i, 16)[0], {.nc = true});
            Reg<u32> first = b.mad_lo(i, 4u, head);
            consider(v[0], first);
            for (uint32_t c = 1; c < 4; ++c) consider(v[c], b.add(first, c));
        },
        Unroll{kUnroll});

    Reg<u32> tail_index = b.add(b.mad_lo(quads, 4u, head), tid);
    b.if_(b.setp(Cmp::lt, tail_index, n),
          [&] { consider(b.ld<f32>(b.index(x, tail_index, 4)[0], {.nc = true}), tail_index); });

    Reg<u64> best = warp_max(b, b.pack<u64>(b.not_(best_index), order_key(b, best_value)));
    const uint32_t warps = block / 32;
    if (warps > 1) {
        SharedArray scratch = b.shared_array("warp_best", warps * 8, 16);
        SharedPtr base = b.addr_of(scratch);
        Reg<u32> lane = b.and_(tid, 31u);
        b.predicated(b.setp(Cmp::eq, lane, 0u), [&] { b.st(b.index(base, b.shr(tid, 5u), 8)[0], best); });
        b.bar_sync();
        // Lanes beyond the warp count bring 0, below every packed value a thread can hold.
        Reg<u64> partial = b.ld<u64>(b.index(base, b.min(lane, warps - 1), 8)[0]);
        best = warp_max(b, b.selp<u64>(partial, uint64_t{0}, b.setp(Cmp::lt, lane, warps)));
    }
    b.predicated(b.setp(Cmp::eq, tid, 0u),
                 [&] { b.st(out[0], b.bitcast<s32>(b.not_(b.unpack<u32>(best)[0]))); });
    return b.finish();
}

LaunchConfig Argmax::launch_config() const {
    LaunchConfig c;
    c.block = {block, 1, 1};
    return c;
}

std::vector<ArgSpec> Argmax::args() const {
    return {{"x", Role::input, Type::f32, n}, {"out", Role::output, Type::s32, 1}};
}

void Argmax::prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const {
    std::mt19937_64 rng(seed ^ 0x6172676d6178ull);  // its own stream, apart from the generic fill
    std::uniform_int_distribution<uint32_t> at(0, n - 1);
    float* x = args[0].as<float>();
    for (uint32_t s = 0; s < n / 64 + 1; ++s) {
        x[at(rng)] = s % 2 == 0 ? std::numeric_limits<float>::quiet_NaN() : -std::numeric_limits<float>::infinity();
    }
    const float largest = x[argmax_index(x, n)];
    for (int copy = 0; copy < 3; ++copy) x[at(rng)] = largest;
}

void Argmax::reference(std::vector<HostBuffer>& args) const {
    args[1].as<int32_t>()[0] = static_cast<int32_t>(argmax_index(args[0].as<float>(), n));
}

}  // namespace kernels
