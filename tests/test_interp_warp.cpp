// Barriers, warp-synchronous instructions, divergence and reconvergence, tensor-core fragments,
// asynchronous copies and launch geometry, each against a host model of what the GPU does.
#include <array>
#include <numeric>

#include "interp_harness.hpp"

using namespace itest;

namespace {

constexpr uint32_t kFull = 0xffffffffu;

// ---------------------------------------------------------------------------------------------
// Barriers and shared memory
// ---------------------------------------------------------------------------------------------

TEST_CASE("block reduction through shared memory with bar.sync, 256 threads per CTA") {
    ITEST_RNG(rng);
    const uint32_t block = 256, ctas = 6, n = block * ctas;
    std::vector<uint32_t> x(n);
    for (uint32_t& v : x) v = rng.u32() >> 12;
    KernelBuilder b("block_reduce");
    b.reqntid(block);
    GlobalPtr in = b.param_ptr("x", Type::u32), out = b.param_ptr("sums", Type::u32);
    SharedArray s = b.shared_array("partial", block * 4, 16);
    Reg<u32> t = b.tid_x();
    SharedPtr mine = b.index(b.addr_of(s), t, 4);
    b.st(mine[0], b.ld<u32>(b.index(in, b.global_index_x(), 4)[0]));
    b.bar_sync();
    for (uint32_t stride = block / 2; stride >= 1; stride /= 2) {  // unrolled at generation time
        b.if_(b.setp(Cmp::lt, t, stride), [&] {
            b.st(mine[0], b.add(b.ld<u32>(mine[0]), b.ld<u32>(mine[stride * 4])));
        });
        b.bar_sync();
    }
    b.predicated(b.setp(Cmp::eq, t, 0u), [&] { b.st(b.index(out, b.ctaid_x(), 4)[0], b.ld<u32>(s[0])); });
    Kernel k = b.finish();

    // With both shared-memory checks on, a correct reduction must pass too.
    for (bool checked : {false, true}) {
        CAPTURE(checked);
        Device dev;
        uint64_t sums = dev.poisoned<uint32_t>(ctas, "sums");
        interp::ArgList args;
        args.ptr(dev.upload(x, "x")).ptr(sums);
        interp::Options o;
        o.check_shared_races = checked;
        o.check_uninitialized_shared = checked;
        interp::Stats st = interp::run(k, launch_1d(ctas, block), dev.mem(), args, o);
        CHECK(st.ctas == ctas);
        CHECK(st.thread_instructions >= st.warp_instructions);
        CHECK(st.warp_instructions > 0);
        auto got = dev.download<uint32_t>(sums, ctas);
        for (uint32_t c = 0; c < ctas; ++c) {
            CAPTURE(c);
            CHECK(got[c] == std::accumulate(x.begin() + c * block, x.begin() + (c + 1) * block, 0u));
        }
    }
}

TEST_CASE("bar.sync with a thread count pairs two warps; bar.arrive lets a producer go on") {
    ITEST_RNG(rng);
    const uint32_t block = 128;
    std::vector<uint32_t> v(block);
    for (uint32_t& x : v) x = rng.u32();
    KernelBuilder b("named_barriers");
    GlobalPtr in = b.param_ptr("in", Type::u32), swapped = b.param_ptr("swapped", Type::u32), passed = b.param_ptr("passed", Type::u32);
    SharedArray s = b.shared_array("exchange", block * 4, 16);
    SharedArray mailbox = b.shared_array("mailbox", 32 * 4, 16);
    Reg<u32> t = b.tid_x();
    Reg<u32> lane = b.laneid();
    Reg<u32> warp = b.shr(t, 5u);
    Reg<u32> value = b.ld<u32>(b.index(in, t, 4)[0]);
    SharedPtr base = b.addr_of(s);
    b.st(b.index(base, t, 4)[0], value);
    // Warps 0 and 1 meet at barrier 1, warps 2 and 3 at barrier 2; each reads its partner warp's value.
    b.if_else(b.setp(Cmp::lt, warp, 2u), [&] { b.bar_sync(1, 64); }, [&] { b.bar_sync(2, 64); });
    b.st(b.index(swapped, t, 4)[0], b.ld<u32>(b.index(base, b.xor_(t, 32u), 4)[0]));
    // Warp 0 produces into the mailbox and arrives at barrier 3; warp 1 waits there and consumes.
    SharedPtr slot = b.index(b.addr_of(mailbox), lane, 4);
    b.if_(b.setp(Cmp::eq, warp, 0u), [&] {
        b.st(slot[0], b.add(value, 1u));
        b.bar_arrive(3, 64);
    });
    b.if_(b.setp(Cmp::eq, warp, 1u), [&] {
        b.bar_sync(3, 64);
        b.st(b.index(passed, lane, 4)[0], b.ld<u32>(slot[0]));
    });
    Kernel k = b.finish();
    // Also with the shared-memory checks on: the named barriers order every access here.
    for (const interp::Options& options : {interp::Options{}, all_checks()}) {
        CAPTURE(options.check_shared_races);
        Device dev;
        uint64_t sw = dev.poisoned<uint32_t>(block, "swapped"), ps = dev.poisoned<uint32_t>(32, "passed");
        interp::ArgList args;
        args.ptr(dev.upload(v, "in")).ptr(sw).ptr(ps);
        interp::run(k, launch_1d(2, block), dev.mem(), args, options);
        auto gs = dev.download<uint32_t>(sw, block), gp = dev.download<uint32_t>(ps, 32);
        for (uint32_t i = 0; i < block; ++i) {
            CAPTURE(i);
            CHECK(gs[i] == v[i ^ 32]);
        }
        for (uint32_t l = 0; l < 32; ++l) {
            CAPTURE(l);
            CHECK(gp[l] == v[l] + 1);
        }
    }
}

TEST_CASE("dynamic shared memory, sized at launch, beside a static array") {
    ITEST_RNG(rng);
    const uint32_t block = 160, ctas = 3, n = block * ctas;  // five warps
    std::vector<uint32_t> x(n);
    for (uint32_t& v : x) v = rng.u32();
    KernelBuilder b("dynamic_shared");
    GlobalPtr in = b.param_ptr("x", Type::u32), out = b.param_ptr("out", Type::u32);
    SharedArray fixed = b.shared_array("fixed", block * 4, 16);
    SharedArray dyn = b.dynamic_shared(16);
    Reg<u32> t = b.tid_x();
    Reg<u32> i = b.global_index_x();
    Reg<u32> v = b.ld<u32>(b.index(in, i, 4)[0]);
    b.st(b.index(b.addr_of(dyn), t, 4)[0], v);
    b.st(b.index(b.addr_of(fixed), t, 4)[0], b.not_(v));
    b.bar_sync();
    // out[i] = dyn[block-1-t] ^ ~fixed[t] : the reversed value, provided the arrays do not overlap.
    Reg<u32> mirror = b.sub(b.mov<u32>(block - 1), t);
    Reg<u32> r = b.xor_(b.ld<u32>(b.index(b.addr_of(dyn), mirror, 4)[0]), b.not_(b.ld<u32>(b.index(b.addr_of(fixed), t, 4)[0])));
    b.st(b.index(out, i, 4)[0], r);
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(n, "out");
    interp::ArgList args;
    args.ptr(dev.upload(x, "x")).ptr(o);
    interp::run(k, launch_1d(ctas, block, block * 4), dev.mem(), args, all_checks());
    auto got = dev.download<uint32_t>(o, n);
    Mismatches bad("dynamic shared");
    for (uint32_t c = 0; c < ctas; ++c)
        for (uint32_t j = 0; j < block; ++j) {
            uint32_t want = x[c * block + block - 1 - j] ^ x[c * block + j];
            if (got[c * block + j] != want) bad.add(fmt::format("cta {} thread {}: got {:#x}, expected {:#x}", c, j, got[c * block + j], want));
        }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("2-D and 3-D grids and blocks: tid, ntid, ctaid, nctaid and laneid in every dimension") {
    const interp::Dim3 grid{3, 2, 2}, block{8, 4, 3};  // 96 threads per CTA: lanes wrap across y and z
    const uint32_t per_cta = static_cast<uint32_t>(block.count()), total = per_cta * static_cast<uint32_t>(grid.count());
    constexpr uint32_t kFields = 8;
    KernelBuilder b("geometry");
    GlobalPtr out = b.param_ptr("out", Type::u32);
    auto r = [&](SReg s) { return b.sreg32(s); };
    Reg<u32> tx = r(SReg::tid_x), ty = r(SReg::tid_y), tz = r(SReg::tid_z);
    Reg<u32> nx = r(SReg::ntid_x), ny = r(SReg::ntid_y), nz = r(SReg::ntid_z);
    Reg<u32> cx = r(SReg::ctaid_x), cy = r(SReg::ctaid_y), cz = r(SReg::ctaid_z);
    Reg<u32> gx = r(SReg::nctaid_x), gy = r(SReg::nctaid_y), gz = r(SReg::nctaid_z);
    // flat = ((cz * gy + cy) * gx + cx) * (nx*ny*nz) + (tz * ny + ty) * nx + tx
    Reg<u32> cta = b.mad_lo(b.mad_lo(cz, gy, cy), gx, cx);
    Reg<u32> in_cta = b.mad_lo(b.mad_lo(tz, ny, ty), nx, tx);
    Reg<u32> flat = b.mad_lo(cta, b.mul_lo(b.mul_lo(nx, ny), nz), in_cta);
    Reg<u32> pack_n = b.or_(b.or_(nx, b.shl(ny, 8u)), b.shl(nz, 16u));
    Reg<u32> pack_g = b.or_(b.or_(gx, b.shl(gy, 8u)), b.shl(gz, 16u));
    GlobalPtr rec = b.index(out, flat, 4 * kFields);
    const Reg<u32> fields[kFields] = {tx, ty, tz, cx, cy, cz, b.laneid(), b.or_(pack_n, b.shl(pack_g, 24u))};
    for (uint32_t f = 0; f < kFields; ++f) b.st(rec[4 * f], fields[f]);
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(total * kFields, "out");
    interp::ArgList args;
    args.ptr(o);
    interp::run(k, interp::Launch{grid, block, 0}, dev.mem(), args);
    auto got = dev.download<uint32_t>(o, total * kFields);
    Mismatches bad("geometry");
    for (uint32_t z = 0, flat_i = 0; z < grid.z; ++z)
        for (uint32_t y = 0; y < grid.y; ++y)
            for (uint32_t x = 0; x < grid.x; ++x)
                for (uint32_t k3 = 0; k3 < per_cta; ++k3, ++flat_i) {
                    uint32_t t_x = k3 % block.x, t_y = (k3 / block.x) % block.y, t_z = k3 / (block.x * block.y);
                    uint32_t pn = block.x | (block.y << 8) | (block.z << 16), pg = grid.x | (grid.y << 8) | (grid.z << 16);
                    const uint32_t want[kFields] = {t_x, t_y, t_z, x, y, z, k3 % 32, pn | (pg << 24)};
                    for (uint32_t f = 0; f < kFields; ++f)
                        if (got[flat_i * kFields + f] != want[f])
                            bad.add(fmt::format("cta ({},{},{}) thread ({},{},{}) field {}: got {:#x}, expected {:#x}", x, y, z, t_x, t_y, t_z, f,
                                                got[flat_i * kFields + f], want[f]));
                }
    ITEST_CHECK_NONE(bad);
}

// ---------------------------------------------------------------------------------------------
// Shuffles, votes, redux, activemask
// ---------------------------------------------------------------------------------------------

struct ShflResult {
    uint32_t value;
    bool valid;
};

// shfl.sync as the PTX ISA defines it, for lane `lane` of a full warp holding `a`.
ShflResult shfl_model(ShflMode mode, const std::array<uint32_t, 32>& a, uint32_t lane, uint32_t b, uint32_t c) {
    const uint32_t seg_mask = (c >> 8) & 0x1f, clamp = c & 0x1f;
    const int32_t max_lane = static_cast<int32_t>((lane & seg_mask) | (clamp & ~seg_mask));
    const int32_t min_lane = static_cast<int32_t>(lane & seg_mask);
    int32_t j = 0;
    bool valid = false;
    const auto l = static_cast<int32_t>(lane), bb = static_cast<int32_t>(b & 0x1f);
    switch (mode) {
    case ShflMode::up: j = l - bb; valid = j >= max_lane; break;
    case ShflMode::down: j = l + bb; valid = j <= max_lane; break;
    case ShflMode::bfly: j = l ^ bb; valid = j <= max_lane; break;
    case ShflMode::idx: j = min_lane | (bb & ~static_cast<int32_t>(seg_mask)); valid = j <= max_lane; break;
    }
    if (!valid) j = l;
    return {a[static_cast<uint32_t>(j)], valid};
}

const char* mode_name(ShflMode m) {
    switch (m) {
    case ShflMode::up: return "up";
    case ShflMode::down: return "down";
    case ShflMode::bfly: return "bfly";
    default: return "idx";
    }
}

TEST_CASE("shfl.sync up/down/bfly/idx, whole-warp and segmented, against host permutations") {
    ITEST_RNG(rng);
    const uint32_t warps = 4, n = 32 * warps;
    std::vector<uint32_t> values(n), lane_b(n);
    for (uint32_t& v : values) v = rng.u32();
    // Per-lane b: a different shuffle operand in every lane, some beyond the warp.
    for (uint32_t& v : lane_b) v = rng.below(4) == 0 ? rng.u32() : rng.below(40);
    struct Config {
        ShflMode mode;
        uint32_t c;
        std::optional<uint32_t> imm_b;  // nullopt: b from the per-lane register
    };
    std::vector<Config> configs;
    for (ShflMode m : {ShflMode::up, ShflMode::down, ShflMode::bfly, ShflMode::idx}) {
        const uint32_t clamp = m == ShflMode::up ? 0u : 0x1fu;
        for (uint32_t width : {32u, 16u, 8u, 4u}) {
            const uint32_t c = ((32 - width) << 8) | clamp;
            configs.push_back({m, c, std::nullopt});
            configs.push_back({m, c, 1 + rng.below(width)});
        }
    }
    for (const Config& cfg : configs) {
        CAPTURE(mode_name(cfg.mode));
        CAPTURE(cfg.c);
        CAPTURE(cfg.imm_b.value_or(9999));
        KernelBuilder b("shfl_modes");
        GlobalPtr in = b.param_ptr("values", Type::u32), bs = b.param_ptr("b", Type::u32);
        GlobalPtr out = b.param_ptr("out", Type::u32), valid_out = b.param_ptr("valid", Type::u32);
        Reg<u32> i = b.global_index_x();
        Reg<u32> v = b.ld<u32>(b.index(in, i, 4)[0]);
        Reg<u32> lane_operand = b.ld<u32>(b.index(bs, i, 4)[0]);
        Pred valid;
        Reg<u32> r = cfg.imm_b ? b.shfl<u32>(cfg.mode, v, *cfg.imm_b, cfg.c, kFull, &valid)
                               : b.shfl<u32>(cfg.mode, v, lane_operand, cfg.c, kFull, &valid);
        b.st(b.index(out, i, 4)[0], r);
        b.st(b.index(valid_out, i, 4)[0], as_u32(b, valid));
        Kernel k = b.finish();
        Device dev;
        uint64_t o = dev.poisoned<uint32_t>(n, "out"), vo = dev.poisoned<uint32_t>(n, "valid");
        interp::ArgList args;
        args.ptr(dev.upload(values, "values")).ptr(dev.upload(lane_b, "b")).ptr(o).ptr(vo);
        interp::run(k, launch_1d(2, n / 2), dev.mem(), args);
        auto got = dev.download<uint32_t>(o, n), got_valid = dev.download<uint32_t>(vo, n);
        Mismatches bad(fmt::format("shfl.{} c={:#x}", mode_name(cfg.mode), cfg.c));
        for (uint32_t w = 0; w < warps; ++w) {
            std::array<uint32_t, 32> a{};
            std::copy_n(values.begin() + 32 * w, 32, a.begin());
            for (uint32_t l = 0; l < 32; ++l) {
                uint32_t bval = cfg.imm_b ? *cfg.imm_b : lane_b[32 * w + l];
                ShflResult want = shfl_model(cfg.mode, a, l, bval, cfg.c);
                if (got[32 * w + l] != want.value || got_valid[32 * w + l] != uint32_t{want.valid})
                    bad.add(fmt::format("warp {} lane {} b {}: got {:#x} valid {}, expected {:#x} valid {}", w, l, bval, got[32 * w + l],
                                        got_valid[32 * w + l], want.value, want.valid));
            }
        }
        ITEST_CHECK_NONE(bad);
    }
}

TEST_CASE("inclusive warp scan with shfl.up and its valid predicate") {
    ITEST_RNG(rng);
    const uint32_t block = 96, ctas = 3, n = block * ctas;
    std::vector<uint32_t> x(n);
    for (uint32_t& v : x) v = rng.u32() >> 8;
    KernelBuilder b("warp_scan");
    GlobalPtr in = b.param_ptr("x", Type::u32), out = b.param_ptr("scan", Type::u32), validity = b.param_ptr("validity", Type::u32);
    Reg<u32> i = b.global_index_x();
    Reg<u32> sum = b.ld<u32>(b.index(in, i, 4)[0]);
    Reg<u32> valid_bits = b.mov<u32>(0u);
    for (uint32_t step = 0, d = 1; d < 32; ++step, d *= 2) {
        Pred valid;
        Reg<u32> up = b.shfl<u32>(ShflMode::up, sum, d, 0u, kFull, &valid);
        b.mov(sum, b.selp<u32>(b.add(sum, up), sum, valid));
        b.mov(valid_bits, b.or_(valid_bits, b.shl(as_u32(b, valid), step)));
    }
    b.st(b.index(out, i, 4)[0], sum);
    b.st(b.index(validity, i, 4)[0], valid_bits);
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(n, "scan"), vb = dev.poisoned<uint32_t>(n, "validity");
    interp::ArgList args;
    args.ptr(dev.upload(x, "x")).ptr(o).ptr(vb);
    interp::run(k, launch_1d(ctas, block), dev.mem(), args);
    auto got = dev.download<uint32_t>(o, n), got_valid = dev.download<uint32_t>(vb, n);
    Mismatches bad("warp scan");
    for (uint32_t w = 0; w < n / 32; ++w) {
        uint32_t running = 0;
        for (uint32_t l = 0; l < 32; ++l) {
            running += x[32 * w + l];
            uint32_t want_valid = 0;
            for (uint32_t step = 0; step < 5; ++step) want_valid |= uint32_t{l >= (1u << step)} << step;
            if (got[32 * w + l] != running || got_valid[32 * w + l] != want_valid)
                bad.add(fmt::format("warp {} lane {}: got {} (valid bits {:#x}), expected {} ({:#x})", w, l, got[32 * w + l],
                                    got_valid[32 * w + l], running, want_valid));
        }
    }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("vote.all/any/uni/ballot on random, uniform and single-lane predicates") {
    ITEST_RNG(rng);
    const uint32_t warps = 8, n = 32 * warps;
    std::vector<uint32_t> p(n);
    for (uint32_t w = 0; w < warps; ++w) {
        uint32_t single = rng.below(32);
        for (uint32_t l = 0; l < 32; ++l) {
            uint32_t& v = p[32 * w + l];
            switch (w % 4) {
            case 0: v = rng.coin(); break;
            case 1: v = 1; break;
            case 2: v = 0; break;
            default: v = l == single; break;
            }
        }
    }
    KernelBuilder b("votes");
    GlobalPtr in = b.param_ptr("p", Type::u32), out = b.param_ptr("out", Type::u32);
    Reg<u32> i = b.global_index_x();
    Pred pred = b.setp(Cmp::ne, b.ld<u32>(b.index(in, i, 4)[0]), 0u);
    GlobalPtr rec = b.index(out, i, 16);
    b.st(rec[0], as_u32(b, b.vote_all(pred)));
    b.st(rec[4], as_u32(b, b.vote_any(pred)));
    b.st(rec[8], as_u32(b, b.vote_uni(pred)));
    b.st(rec[12], b.vote_ballot(pred));
    // A negated source predicate is read negated.
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(4 * n, "out");
    interp::ArgList args;
    args.ptr(dev.upload(p, "p")).ptr(o);
    interp::run(k, launch_1d(2, n / 2), dev.mem(), args);
    auto got = dev.download<uint32_t>(o, 4 * n);
    Mismatches bad("votes");
    for (uint32_t w = 0; w < warps; ++w) {
        uint32_t ballot = 0;
        for (uint32_t l = 0; l < 32; ++l) ballot |= p[32 * w + l] << l;
        const uint32_t want[4] = {ballot == kFull, ballot != 0, ballot == 0 || ballot == kFull, ballot};
        for (uint32_t l = 0; l < 32; ++l)
            for (uint32_t f = 0; f < 4; ++f)
                if (got[4 * (32 * w + l) + f] != want[f])
                    bad.add(fmt::format("warp {} lane {} field {} (all/any/uni/ballot): got {:#x}, expected {:#x}", w, l, f,
                                        got[4 * (32 * w + l) + f], want[f]));
    }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("activemask inside divergent branches, after reconvergence, and in a partial warp") {
    ITEST_RNG(rng);
    const uint32_t block = 80, n = block;  // warps of 32, 32 and 16 threads
    std::vector<uint32_t> cond(n);
    for (uint32_t& c : cond) c = rng.coin();
    KernelBuilder b("activemask_divergence");
    GlobalPtr in = b.param_ptr("cond", Type::u32), inside = b.param_ptr("inside", Type::u32), after = b.param_ptr("after", Type::u32);
    Reg<u32> t = b.tid_x();
    Pred p = b.setp(Cmp::ne, b.ld<u32>(b.index(in, t, 4)[0]), 0u);
    b.if_else(p, [&] { b.st(b.index(inside, t, 4)[0], b.activemask()); },
              [&] { b.st(b.index(inside, t, 4)[0], b.not_(b.activemask())); });
    b.st(b.index(after, t, 4)[0], b.activemask());
    Kernel k = b.finish();
    Device dev;
    uint64_t ins = dev.poisoned<uint32_t>(n, "inside"), aft = dev.poisoned<uint32_t>(n, "after");
    interp::ArgList args;
    args.ptr(dev.upload(cond, "cond")).ptr(ins).ptr(aft);
    interp::run(k, launch_1d(1, block), dev.mem(), args);
    auto gi = dev.download<uint32_t>(ins, n), ga = dev.download<uint32_t>(aft, n);
    for (uint32_t w = 0; w * 32 < block; ++w) {
        const uint32_t lanes = std::min(32u, block - 32 * w);
        const uint32_t present = lanes == 32 ? kFull : (1u << lanes) - 1;
        uint32_t taken = 0;
        for (uint32_t l = 0; l < lanes; ++l) taken |= cond[32 * w + l] << l;
        for (uint32_t l = 0; l < lanes; ++l) {
            CAPTURE(w);
            CAPTURE(l);
            const uint32_t tid = 32 * w + l;
            CHECK(gi[tid] == (cond[tid] ? taken : ~(present & ~taken)));
            CHECK(ga[tid] == present);
        }
    }
}

TEST_CASE("redux.sync add/min/max on u32 and s32, and/or/xor on b32") {
    ITEST_RNG(rng);
    const uint32_t warps = 6, n = 32 * warps;
    std::vector<uint32_t> v(n);
    for (uint32_t k = 0; k < n; ++k) v[k] = k < 32 ? (k == 5 ? 0x80000000u : 7u) : rng.u32() >> rng.below(32);
    KernelBuilder b("redux_all");
    GlobalPtr in = b.param_ptr("v", Type::u32), out = b.param_ptr("out", Type::u32);
    Reg<u32> i = b.global_index_x();
    Reg<u32> x = b.ld<u32>(b.index(in, i, 4)[0]);
    Reg<s32> sx = b.bitcast<s32>(x);
    Reg<b32> bx = b.bitcast<b32>(x);
    GlobalPtr rec = b.index(out, i, 32);
    b.st(rec[0], b.redux(AtomOp::add, x));
    b.st(rec[4], b.redux(AtomOp::min, x));
    b.st(rec[8], b.redux(AtomOp::max, x));
    b.st(rec[12], b.bitcast<u32>(b.redux(AtomOp::min, sx)));
    b.st(rec[16], b.bitcast<u32>(b.redux(AtomOp::max, sx)));
    b.st(rec[20], b.bitcast<u32>(b.redux(AtomOp::and_, bx)));
    b.st(rec[24], b.bitcast<u32>(b.redux(AtomOp::or_, bx)));
    b.st(rec[28], b.bitcast<u32>(b.redux(AtomOp::xor_, bx)));
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(8 * n, "out");
    interp::ArgList args;
    args.ptr(dev.upload(v, "v")).ptr(o);
    interp::run(k, launch_1d(2, n / 2), dev.mem(), args);
    auto got = dev.download<uint32_t>(o, 8 * n);
    Mismatches bad("redux");
    for (uint32_t w = 0; w < warps; ++w) {
        uint32_t add = 0, umin = kFull, umax = 0, band = kFull, bor = 0, bxor = 0;
        int32_t smin = INT32_MAX, smax = INT32_MIN;
        for (uint32_t l = 0; l < 32; ++l) {
            uint32_t e = v[32 * w + l];
            add += e;
            umin = std::min(umin, e);
            umax = std::max(umax, e);
            smin = std::min(smin, static_cast<int32_t>(e));
            smax = std::max(smax, static_cast<int32_t>(e));
            band &= e;
            bor |= e;
            bxor ^= e;
        }
        const uint32_t want[8] = {add, umin, umax, static_cast<uint32_t>(smin), static_cast<uint32_t>(smax), band, bor, bxor};
        static const char* names[8] = {"add.u32", "min.u32", "max.u32", "min.s32", "max.s32", "and", "or", "xor"};
        for (uint32_t l = 0; l < 32; ++l)
            for (uint32_t f = 0; f < 8; ++f)
                if (got[8 * (32 * w + l) + f] != want[f])
                    bad.add(fmt::format("warp {} lane {} redux.{}: got {:#x}, expected {:#x}", w, l, names[f], got[8 * (32 * w + l) + f], want[f]));
    }
    ITEST_CHECK_NONE(bad);
}

// ---------------------------------------------------------------------------------------------
// Divergence and reconvergence
// ---------------------------------------------------------------------------------------------

TEST_CASE("divergent if/else where both sides write, nested, then a full-warp ballot") {
    ITEST_RNG(rng);
    const uint32_t block = 128, ctas = 2, n = block * ctas;
    std::vector<uint32_t> x(n);
    for (uint32_t& v : x) v = rng.u32();
    KernelBuilder b("divergent_if_else");
    GlobalPtr in = b.param_ptr("x", Type::u32), out = b.param_ptr("out", Type::u32), ballots = b.param_ptr("ballots", Type::u32);
    Reg<u32> i = b.global_index_x();
    Reg<u32> v = b.ld<u32>(b.index(in, i, 4)[0]);
    Reg<u32> result = b.mov<u32>(0u);
    Pred odd = b.setp(Cmp::ne, b.and_(v, 1u), 0u);
    b.if_else(
        odd,
        [&] {
            // nested: bit 1 picks between two more paths
            b.if_else(b.setp(Cmp::ne, b.and_(v, 2u), 0u), [&] { b.mov(result, b.mul_lo(v, 3u)); },
                      [&] { b.mov(result, b.add(v, 1000u)); });
        },
        [&] { b.mov(result, b.xor_(v, 0x5a5a5a5au)); });
    b.st(b.index(out, i, 4)[0], result);
    b.st(b.index(ballots, i, 4)[0], b.vote_ballot(odd));
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(n, "out"), bl = dev.poisoned<uint32_t>(n, "ballots");
    interp::ArgList args;
    args.ptr(dev.upload(x, "x")).ptr(o).ptr(bl);
    interp::run(k, launch_1d(ctas, block), dev.mem(), args);
    auto got = dev.download<uint32_t>(o, n), gb = dev.download<uint32_t>(bl, n);
    Mismatches bad("if/else");
    for (uint32_t j = 0; j < n; ++j) {
        uint32_t e = x[j];
        uint32_t want = (e & 1) ? ((e & 2) ? e * 3 : e + 1000) : (e ^ 0x5a5a5a5au);
        uint32_t ballot = 0;
        for (uint32_t l = 0; l < 32; ++l) ballot |= (x[(j & ~31u) + l] & 1) << l;
        if (got[j] != want) bad.add(fmt::format("thread {} value {:#x}: got {:#x}, expected {:#x}", j, e, got[j], want));
        if (gb[j] != ballot) bad.add(fmt::format("thread {}: ballot after reconvergence {:#x}, expected {:#x}", j, gb[j], ballot));
    }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("loops with per-lane trip counts, unrolled or not, reconverge before a warp reduction") {
    ITEST_RNG(rng);
    const uint32_t block = 64, ctas = 2, n = block * ctas;
    std::vector<uint32_t> trips(n), x(n);
    for (uint32_t j = 0; j < n; ++j) {
        trips[j] = rng.below(5) == 0 ? 0 : rng.below(41);
        x[j] = rng.u32() >> 16;
    }
    for (int unroll : {0, 1, 4}) {
        CAPTURE(unroll);
        KernelBuilder b("per_lane_loops");
        GlobalPtr tr = b.param_ptr("trips", Type::u32), in = b.param_ptr("x", Type::u32);
        GlobalPtr out = b.param_ptr("out", Type::u32), warp_out = b.param_ptr("warp_out", Type::u32);
        Reg<u32> i = b.global_index_x();
        Reg<u32> count = b.ld<u32>(b.index(tr, i, 4)[0]);
        Reg<u32> v = b.ld<u32>(b.index(in, i, 4)[0]);
        Reg<u32> acc = b.mov<u32>(0u);
        // acc = sum over k < count of (v + k)
        b.for_range(0u, count, 1, [&](Reg<u32> k) { b.mov(acc, b.add(acc, b.add(v, k))); }, Unroll{unroll});
        b.st(b.index(out, i, 4)[0], acc);
        GlobalPtr rec = b.index(warp_out, i, 8);
        b.st(rec[0], b.activemask());
        b.st(rec[4], b.redux(AtomOp::add, acc));
        Kernel k = b.finish();
        Device dev;
        uint64_t o = dev.poisoned<uint32_t>(n, "out"), wo = dev.poisoned<uint32_t>(2 * n, "warp_out");
        interp::ArgList args;
        args.ptr(dev.upload(trips, "trips")).ptr(dev.upload(x, "x")).ptr(o).ptr(wo);
        interp::run(k, launch_1d(ctas, block), dev.mem(), args);
        auto got = dev.download<uint32_t>(o, n), gw = dev.download<uint32_t>(wo, 2 * n);
        Mismatches bad("per-lane loops");
        std::vector<uint32_t> want(n);
        for (uint32_t j = 0; j < n; ++j) {
            for (uint32_t kk = 0; kk < trips[j]; ++kk) want[j] += x[j] + kk;
            if (got[j] != want[j]) bad.add(fmt::format("thread {} ({} trips): got {}, expected {}", j, trips[j], got[j], want[j]));
        }
        for (uint32_t j = 0; j < n; ++j) {
            uint32_t total = std::accumulate(want.begin() + (j & ~31u), want.begin() + (j & ~31u) + 32, 0u);
            if (gw[2 * j] != kFull) bad.add(fmt::format("thread {}: activemask after the loop {:#x}", j, gw[2 * j]));
            if (gw[2 * j + 1] != total) bad.add(fmt::format("thread {}: warp total {}, expected {}", j, gw[2 * j + 1], total));
        }
        ITEST_CHECK_NONE(bad);
    }
}

// ---------------------------------------------------------------------------------------------
// Tensor cores
// ---------------------------------------------------------------------------------------------

// Row-major M x K, K x N and M x N matrices and the host product D = A * B + C (in double).
struct MmaCase {
    int m, n, k;
    std::vector<double> a, b, c;
    double at(const std::vector<double>& x, int cols, int r, int col) const { return x[static_cast<size_t>(r * cols + col)]; }
    double d(int r, int col) const {
        double s = at(c, n, r, col);
        for (int kk = 0; kk < k; ++kk) s += at(a, k, r, kk) * at(b, n, kk, col);
        return s;
    }
};

// Per-lane fragments for mma.m16n8k16 with 16-bit A/B (PTX ISA "Matrix Fragments for mma.m16n8k16
// with floating point type"): groupID g = lane >> 2, tig = lane % 4.
//   A: a0,a1 (g, 2tig+{0,1}), a2,a3 (g+8, 2tig+{0,1}), a4,a5 (g, 2tig+8+{0,1}), a6,a7 (g+8, 2tig+8+{0,1})
//   B: b0,b1 (2tig+{0,1}, g), b2,b3 (2tig+8+{0,1}, g)
//   C/D: c0,c1 (g, 2tig+{0,1}), c2,c3 (g+8, 2tig+{0,1})
struct Frag16 {
    int a_row(int lane, int i) const { return (lane >> 2) + ((i / 2) % 2) * 8; }
    int a_col(int lane, int i) const { return (lane % 4) * 2 + (i & 1) + (i >= 4 ? 8 : 0); }
    int b_row(int lane, int i) const { return (lane % 4) * 2 + (i & 1) + (i >= 2 ? 8 : 0); }
    int b_col(int lane, int) const { return lane >> 2; }
    int c_row(int lane, int i) const { return (lane >> 2) + (i >= 2 ? 8 : 0); }
    int c_col(int lane, int i) const { return (lane % 4) * 2 + (i & 1); }
};

// Runs one warp through mma.m16n8k16 on fragments gathered on the host.
std::vector<float> run_mma16(bool bf16, const MmaCase& mc, Format fmt16) {
    const Frag16 f;
    std::vector<uint32_t> a_frag(32 * 4), b_frag(32 * 2);
    std::vector<float> c_frag(32 * 4);
    auto bits = [&](double v) { return uint32_t{encode_half(v, fmt16)}; };
    for (int lane = 0; lane < 32; ++lane) {
        for (int r = 0; r < 4; ++r) {  // register r holds elements 2r (low half) and 2r+1 (high half)
            uint32_t lo = bits(mc.at(mc.a, 16, f.a_row(lane, 2 * r), f.a_col(lane, 2 * r)));
            uint32_t hi = bits(mc.at(mc.a, 16, f.a_row(lane, 2 * r + 1), f.a_col(lane, 2 * r + 1)));
            a_frag[static_cast<size_t>(4 * lane + r)] = lo | (hi << 16);
        }
        for (int r = 0; r < 2; ++r) {
            uint32_t lo = bits(mc.at(mc.b, 8, f.b_row(lane, 2 * r), f.b_col(lane, 2 * r)));
            uint32_t hi = bits(mc.at(mc.b, 8, f.b_row(lane, 2 * r + 1), f.b_col(lane, 2 * r + 1)));
            b_frag[static_cast<size_t>(2 * lane + r)] = lo | (hi << 16);
        }
        for (int i = 0; i < 4; ++i)
            c_frag[static_cast<size_t>(4 * lane + i)] = static_cast<float>(mc.at(mc.c, 8, f.c_row(lane, i), f.c_col(lane, i)));
    }
    KernelBuilder b(bf16 ? "mma_bf16" : "mma_f16");
    GlobalPtr ga = b.param_ptr("a", Type::b32), gb = b.param_ptr("b", Type::b32), gc = b.param_ptr("c", Type::f32);
    GlobalPtr gd = b.param_ptr("d", Type::f32);
    Reg<u32> lane = b.laneid();
    auto c = b.ld_v<f32, 4>(b.index(gc, lane, 16)[0]);
    Regs<f32, 4> d;
    if (bf16) {
        d = b.mma_m16n8k16<bf16x2>(b.ld_v<bf16x2, 4>(b.index(ga, lane, 16)[0]), b.ld_v<bf16x2, 2>(b.index(gb, lane, 8)[0]), c);
    } else {
        d = b.mma_m16n8k16<f16x2>(b.ld_v<f16x2, 4>(b.index(ga, lane, 16)[0]), b.ld_v<f16x2, 2>(b.index(gb, lane, 8)[0]), c);
    }
    b.st_v<f32, 4>(b.index(gd, lane, 16)[0], d);
    Kernel k = b.finish();
    Device dev;
    uint64_t out = dev.poisoned<float>(32 * 4, "d");
    interp::ArgList args;
    args.ptr(dev.upload(a_frag, "a")).ptr(dev.upload(b_frag, "b")).ptr(dev.upload(c_frag, "c")).ptr(out);
    interp::run(k, launch_1d(1, 32), dev.mem(), args);
    return dev.download<float>(out, 32 * 4);
}

void check_mma16(bool bf16, const MmaCase& mc, double rel_tol) {
    const Frag16 f;
    std::vector<float> d = run_mma16(bf16, mc, bf16 ? kBF16 : kF16);
    Mismatches bad(bf16 ? "mma.m16n8k16 bf16" : "mma.m16n8k16 f16");
    for (int lane = 0; lane < 32; ++lane)
        for (int i = 0; i < 4; ++i) {
            int r = f.c_row(lane, i), col = f.c_col(lane, i);
            double want = mc.d(r, col), got = d[static_cast<size_t>(4 * lane + i)];
            double scale = std::fabs(mc.at(mc.c, 8, r, col));
            for (int kk = 0; kk < 16; ++kk) scale += std::fabs(mc.at(mc.a, 16, r, kk) * mc.at(mc.b, 8, kk, col));
            if (std::fabs(got - want) > rel_tol * scale)
                bad.add(fmt::format("D[{}][{}] (lane {}, d{}): got {}, expected {}", r, col, lane, i, got, want));
        }
    ITEST_CHECK_NONE(bad);
}

// A random 16x16, 16x8 and 16x8 problem. `grid`: values on a coarse grid, whose products and
// sums f32 holds exactly, so the result is exact whatever the accumulation order.
MmaCase random_mma16(Rng& rng, bool grid, Format f) {
    MmaCase mc{16, 8, 16, {}, {}, {}};
    auto value = [&](double scale) {
        if (grid) return static_cast<double>(rng.range(-64, 64)) / scale;
        return round_to_format(rng.real(-4.0, 4.0), f, Round::rn);
    };
    for (int x = 0; x < 16 * 16; ++x) mc.a.push_back(value(32));
    for (int x = 0; x < 16 * 8; ++x) mc.b.push_back(value(16));
    for (int x = 0; x < 16 * 8; ++x) mc.c.push_back(grid ? static_cast<double>(rng.range(-1000, 1000)) / 512 : rng.real(-10.0, 10.0));
    if (!grid)
        for (double& x : mc.c) x = static_cast<float>(x);
    return mc;
}

TEST_CASE("mma.m16n8k16 with f16 and bf16 tiles against a host matrix product") {
    ITEST_RNG(rng);
    check_mma16(false, random_mma16(rng, true, kF16), 0);
    check_mma16(true, random_mma16(rng, true, kBF16), 0);
    check_mma16(false, random_mma16(rng, false, kF16), 1e-5);
    check_mma16(true, random_mma16(rng, false, kBF16), 1e-5);
}

// mma.m16n8k32 with s8 A/B (PTX ISA "Matrix Fragments for mma.m16n8k32"): g = lane >> 2, t = lane % 4.
//   A (16x32): a0..a3 (g, 4t+{0..3}), a4..a7 (g+8, 4t+{0..3}), a8..a11 (g, 4t+16+{0..3}), a12..a15 (g+8, 4t+16+{0..3})
//   B (32x8):  b0..b3 (4t+{0..3}, g), b4..b7 (4t+16+{0..3}, g)
//   C/D: as for m16n8k16.
void check_mma_s8(Rng& rng, bool satfinite) {
    std::vector<int8_t> a(16 * 32), bm(32 * 8);
    std::vector<int32_t> c(16 * 8);
    for (int8_t& x : a) x = static_cast<int8_t>(rng.range(-128, 127));
    for (int8_t& x : bm) x = static_cast<int8_t>(rng.range(-128, 127));
    for (int32_t& x : c) x = satfinite ? (rng.coin() ? INT32_MAX - static_cast<int32_t>(rng.below(300000)) : INT32_MIN + static_cast<int32_t>(rng.below(300000)))
                                      : rng.s32() / 4;
    std::vector<uint32_t> a_frag(32 * 4), b_frag(32 * 2);
    std::vector<int32_t> c_frag(32 * 4);
    auto byte = [](int8_t v, int k) { return uint32_t{static_cast<uint8_t>(v)} << (8 * k); };
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, t = lane % 4;
        for (int r = 0; r < 4; ++r) {
            const int row = g + (r % 2) * 8, col0 = 4 * t + (r >= 2 ? 16 : 0);
            uint32_t w = 0;
            for (int kk = 0; kk < 4; ++kk) w |= byte(a[static_cast<size_t>(row * 32 + col0 + kk)], kk);
            a_frag[static_cast<size_t>(4 * lane + r)] = w;
        }
        for (int r = 0; r < 2; ++r) {
            const int row0 = 4 * t + (r == 1 ? 16 : 0);
            uint32_t w = 0;
            for (int kk = 0; kk < 4; ++kk) w |= byte(bm[static_cast<size_t>((row0 + kk) * 8 + g)], kk);
            b_frag[static_cast<size_t>(2 * lane + r)] = w;
        }
        for (int i = 0; i < 4; ++i) c_frag[static_cast<size_t>(4 * lane + i)] = c[static_cast<size_t>((g + (i >= 2 ? 8 : 0)) * 8 + 2 * t + (i & 1))];
    }
    KernelBuilder b(satfinite ? "mma_s8_satfinite" : "mma_s8");
    GlobalPtr ga = b.param_ptr("a", Type::b32), gb = b.param_ptr("b", Type::b32), gc = b.param_ptr("c", Type::s32);
    GlobalPtr gd = b.param_ptr("d", Type::s32);
    Reg<u32> lane_id = b.laneid();
    auto d = b.mma_m16n8k32_s8(b.ld_v<b32, 4>(b.index(ga, lane_id, 16)[0]), b.ld_v<b32, 2>(b.index(gb, lane_id, 8)[0]),
                               b.ld_v<s32, 4>(b.index(gc, lane_id, 16)[0]), satfinite);
    b.st_v<s32, 4>(b.index(gd, lane_id, 16)[0], d);
    Kernel k = b.finish();
    Device dev;
    uint64_t out = dev.poisoned<int32_t>(32 * 4, "d");
    interp::ArgList args;
    args.ptr(dev.upload(a_frag, "a")).ptr(dev.upload(b_frag, "b")).ptr(dev.upload(c_frag, "c")).ptr(out);
    interp::run(k, launch_1d(1, 32), dev.mem(), args);
    auto got = dev.download<int32_t>(out, 32 * 4);
    Mismatches bad(satfinite ? "mma.m16n8k32.satfinite s8" : "mma.m16n8k32 s8");
    for (int lane = 0; lane < 32; ++lane)
        for (int i = 0; i < 4; ++i) {
            const int r = (lane >> 2) + (i >= 2 ? 8 : 0), col = 2 * (lane % 4) + (i & 1);
            int64_t s = c[static_cast<size_t>(r * 8 + col)];
            for (int kk = 0; kk < 32; ++kk) s += int64_t{a[static_cast<size_t>(r * 32 + kk)]} * bm[static_cast<size_t>(kk * 8 + col)];
            int32_t want = satfinite ? static_cast<int32_t>(std::clamp<int64_t>(s, INT32_MIN, INT32_MAX))
                                     : static_cast<int32_t>(static_cast<uint32_t>(s));
            if (got[static_cast<size_t>(4 * lane + i)] != want)
                bad.add(fmt::format("D[{}][{}] (lane {}, d{}): got {}, expected {}", r, col, lane, i, got[static_cast<size_t>(4 * lane + i)], want));
        }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("mma.m16n8k32 with s8 tiles, wrapping and with .satfinite") {
    ITEST_RNG(rng);
    check_mma_s8(rng, false);
    check_mma_s8(rng, true);
}

// mma.m8n8k16 with s8 A/B (sm_75): A (8x16) a0..a3 (g, 4t+{0..3}); B (16x8) b0..b3 (4t+{0..3}, g);
// C/D (8x8) c0, c1 (g, 2t+{0,1}). Wraps on overflow like the hardware.
TEST_CASE("mma.m8n8k16 with s8 tiles") {
    ITEST_RNG(rng);
    std::vector<int8_t> a(8 * 16), bm(16 * 8);
    std::vector<int32_t> c(8 * 8);
    for (int8_t& x : a) x = static_cast<int8_t>(rng.range(-128, 127));
    for (int8_t& x : bm) x = static_cast<int8_t>(rng.range(-128, 127));
    for (int32_t& x : c) x = rng.coin() ? rng.s32() : INT32_MAX - static_cast<int32_t>(rng.below(100000));
    std::vector<uint32_t> a_frag(32), b_frag(32);
    std::vector<int32_t> c_frag(32 * 2);
    auto byte = [](int8_t v, int k) { return uint32_t{static_cast<uint8_t>(v)} << (8 * k); };
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, t = lane % 4;
        for (int kk = 0; kk < 4; ++kk) {
            a_frag[static_cast<size_t>(lane)] |= byte(a[static_cast<size_t>(g * 16 + 4 * t + kk)], kk);
            b_frag[static_cast<size_t>(lane)] |= byte(bm[static_cast<size_t>((4 * t + kk) * 8 + g)], kk);
        }
        for (int i = 0; i < 2; ++i) c_frag[static_cast<size_t>(2 * lane + i)] = c[static_cast<size_t>(g * 8 + 2 * t + i)];
    }
    KernelBuilder b("mma_m8n8k16_s8", Target{75});
    GlobalPtr ga = b.param_ptr("a", Type::b32), gb = b.param_ptr("b", Type::b32), gc = b.param_ptr("c", Type::s32);
    GlobalPtr gd = b.param_ptr("d", Type::s32);
    Reg<u32> lane_id = b.laneid();
    auto d = b.mma_m8n8k16_s8(b.ld<b32>(b.index(ga, lane_id, 4)[0]), b.ld<b32>(b.index(gb, lane_id, 4)[0]),
                              b.ld_v<s32, 2>(b.index(gc, lane_id, 8)[0]));
    b.st_v<s32, 2>(b.index(gd, lane_id, 8)[0], d);
    Kernel k = b.finish();
    Device dev;
    uint64_t out = dev.poisoned<int32_t>(32 * 2, "d");
    interp::ArgList args;
    args.ptr(dev.upload(a_frag, "a")).ptr(dev.upload(b_frag, "b")).ptr(dev.upload(c_frag, "c")).ptr(out);
    interp::run(k, launch_1d(1, 32), dev.mem(), args);
    auto got = dev.download<int32_t>(out, 32 * 2);
    Mismatches bad("mma.m8n8k16 s8");
    for (int lane = 0; lane < 32; ++lane)
        for (int i = 0; i < 2; ++i) {
            const int r = lane >> 2, col = 2 * (lane % 4) + i;
            int64_t s = c[static_cast<size_t>(r * 8 + col)];
            for (int kk = 0; kk < 16; ++kk) s += int64_t{a[static_cast<size_t>(r * 16 + kk)]} * bm[static_cast<size_t>(kk * 8 + col)];
            const auto want = static_cast<int32_t>(static_cast<uint32_t>(s));
            if (got[static_cast<size_t>(2 * lane + i)] != want)
                bad.add(fmt::format("D[{}][{}] (lane {}, d{}): got {}, expected {}", r, col, lane, i, got[static_cast<size_t>(2 * lane + i)], want));
        }
    ITEST_CHECK_NONE(bad);
}

// ldmatrix: four 8x8 b16 matrices whose 32 rows (16 bytes each) lie at scattered slots of a
// shared array. Lanes 8q..8q+7 give the addresses of matrix q's rows; lanes whose addresses the
// instruction ignores (x1: 8-31, x2: 16-31) point at decoy rows. Each lane receives, per matrix,
// row lane/4, columns 2(lane%4) and 2(lane%4)+1 (low half first); .trans delivers the transpose.
template <int N> void check_ldmatrix(Rng& rng, bool trans) {
    constexpr uint32_t kSlots = 40;  // 32 matrix rows and 8 decoys
    std::vector<uint16_t> rows(kSlots * 8);
    for (uint16_t& e : rows) e = static_cast<uint16_t>(rng.u32());
    std::vector<uint32_t> slot_of(32);  // matrix row (q*8 + r) -> slot
    std::vector<uint32_t> perm(kSlots);
    std::iota(perm.begin(), perm.end(), 0u);
    rng.shuffle(perm);
    for (uint32_t x = 0; x < 32; ++x) slot_of[x] = perm[x];
    std::vector<uint32_t> lane_slot(32);
    for (uint32_t l = 0; l < 32; ++l) lane_slot[l] = l < 8 * N ? slot_of[l] : perm[32 + l % 8];

    KernelBuilder b(fmt::format("ldmatrix_x{}{}", N, trans ? "_trans" : ""));
    GlobalPtr src = b.param_ptr("rows", Type::b32), slots = b.param_ptr("lane_slot", Type::u32), out = b.param_ptr("out", Type::b32);
    SharedArray tile = b.shared_array("tile", kSlots * 16, 16);
    Reg<u32> lane = b.laneid();
    // Copy the rows into shared memory: lane l copies slots l and l + 32 (if any).
    for (uint32_t base = 0; base < kSlots; base += 32) {
        Reg<u32> s = b.add(lane, base);
        b.if_(b.setp(Cmp::lt, s, kSlots), [&] {
            b.st_v<b32, 4>(b.index(b.addr_of(tile), s, 16)[0], b.ld_v<b32, 4>(b.index(src, s, 16)[0]));
        });
    }
    b.bar_sync();
    SharedPtr row_addr = b.index(b.addr_of(tile), b.ld<u32>(b.index(slots, lane, 4)[0]), 16);
    auto d = b.ldmatrix<N>(row_addr[0], trans);
    for (int q = 0; q < N; ++q) b.st(b.index(out, lane, 4 * N)[4 * q], d[static_cast<size_t>(q)]);
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(32 * N, "out");
    interp::ArgList args;
    args.ptr(dev.upload(rows, "rows")).ptr(dev.upload(lane_slot, "lane_slot")).ptr(o);
    interp::run(k, launch_1d(1, 32), dev.mem(), args, all_checks());
    auto got = dev.download<uint32_t>(o, 32 * N);
    auto element = [&](uint32_t q, uint32_t r, uint32_t c) { return uint32_t{rows[slot_of[q * 8 + r] * 8 + c]}; };
    Mismatches bad(fmt::format("ldmatrix.x{}{}", N, trans ? ".trans" : ""));
    for (uint32_t l = 0; l < 32; ++l)
        for (uint32_t q = 0; q < N; ++q) {
            const uint32_t g = l / 4, c0 = 2 * (l % 4);
            uint32_t want = trans ? element(q, c0, g) | (element(q, c0 + 1, g) << 16) : element(q, g, c0) | (element(q, g, c0 + 1) << 16);
            if (got[N * l + q] != want) bad.add(fmt::format("lane {} matrix {}: got {:#010x}, expected {:#010x}", l, q, got[N * l + q], want));
        }
    ITEST_CHECK_NONE(bad);
}

TEST_CASE("ldmatrix x1/x2/x4, with and without .trans") {
    ITEST_RNG(rng);
    for (bool trans : {false, true}) {
        check_ldmatrix<1>(rng, trans);
        check_ldmatrix<2>(rng, trans);
        check_ldmatrix<4>(rng, trans);
    }
}

// ---------------------------------------------------------------------------------------------
// Asynchronous copies
// ---------------------------------------------------------------------------------------------

TEST_CASE("cp.async groups: wait_group, wait_all, 4/8/16-byte copies, src-size zero fill") {
    ITEST_RNG(rng);
    const uint32_t block = 64;
    // Three regions of 16 bytes per thread; each starts as 0xAB filler written by the thread.
    std::vector<uint32_t> src0(4 * block), src1(4 * block), src2(4 * block);
    for (auto* v : {&src0, &src1, &src2})
        for (uint32_t& x : *v) x = rng.u32();
    KernelBuilder b("cp_async_groups");
    GlobalPtr g0 = b.param_ptr("src0", Type::b32), g1 = b.param_ptr("src1", Type::b32), g2 = b.param_ptr("src2", Type::b32);
    GlobalPtr o0 = b.param_ptr("out0", Type::b32), o1 = b.param_ptr("out1", Type::b32), o2 = b.param_ptr("out2", Type::b32);
    SharedArray r0 = b.shared_array("region0", block * 16, 16), r1 = b.shared_array("region1", block * 16, 16);
    SharedArray r2 = b.shared_array("region2", block * 16, 16);
    Reg<u32> t = b.tid_x();
    const Regs<b32, 4> filler{b.mov<b32>(0xabababab), b.mov<b32>(0xabababab), b.mov<b32>(0xabababab), b.mov<b32>(0xabababab)};
    SharedPtr s0 = b.index(b.addr_of(r0), t, 16), s1 = b.index(b.addr_of(r1), t, 16), s2 = b.index(b.addr_of(r2), t, 16);
    for (SharedPtr s : {s0, s1, s2}) b.st_v<b32, 4>(s[0], filler);
    // group 0: one 16-byte .cg copy
    b.cp_async(s0[0], b.index(g0, t, 16)[0], 16, CpAsyncCache::cg);
    b.cp_async_commit();
    // group 1: 16 bytes of which only t % 17 come from global memory; the rest is zero-filled
    b.cp_async(s1[0], b.index(g1, t, 16)[0], 16, CpAsyncCache::cg, b.rem(t, 17u));
    b.cp_async_commit();
    // group 2: one 8-byte and two 4-byte .ca copies
    GlobalPtr row2 = b.index(g2, t, 16);
    b.cp_async(s2[0], row2[0], 8);
    b.cp_async(s2[8], row2[8], 4);
    b.cp_async(s2[12], row2[12], 4);
    b.cp_async_commit();
    // After wait_group 2 the oldest group is complete: read this thread's own copy.
    b.cp_async_wait(2);
    b.st_v<b32, 4>(b.index(o0, t, 16)[0], b.ld_v<b32, 4>(s0[0]));
    b.cp_async_wait_all();
    b.bar_sync();
    // After wait_all and the barrier every copy is visible to every thread: read the neighbour's.
    Reg<u32> other = b.xor_(t, 1u);
    b.st_v<b32, 4>(b.index(o1, other, 16)[0], b.ld_v<b32, 4>(b.index(b.addr_of(r1), other, 16)[0]));
    b.st_v<b32, 4>(b.index(o2, other, 16)[0], b.ld_v<b32, 4>(b.index(b.addr_of(r2), other, 16)[0]));
    Kernel k = b.finish();
    Device dev;
    uint64_t out0 = dev.poisoned<uint32_t>(4 * block, "out0"), out1 = dev.poisoned<uint32_t>(4 * block, "out1");
    uint64_t out2 = dev.poisoned<uint32_t>(4 * block, "out2");
    interp::ArgList args;
    args.ptr(dev.upload(src0, "src0")).ptr(dev.upload(src1, "src1")).ptr(dev.upload(src2, "src2")).ptr(out0).ptr(out1).ptr(out2);
    interp::run(k, launch_1d(1, block), dev.mem(), args, all_checks());
    auto d0 = dev.download<uint8_t>(out0, 16 * block), d1 = dev.download<uint8_t>(out1, 16 * block), d2 = dev.download<uint8_t>(out2, 16 * block);
    auto bytes_of = [](const std::vector<uint32_t>& v) {
        std::vector<uint8_t> x(v.size() * 4);
        std::memcpy(x.data(), v.data(), x.size());
        return x;
    };
    auto b0 = bytes_of(src0), b1 = bytes_of(src1), b2 = bytes_of(src2);
    Mismatches bad("cp.async");
    for (uint32_t th = 0; th < block; ++th)
        for (uint32_t byte = 0; byte < 16; ++byte) {
            const uint32_t at = 16 * th + byte;
            const uint8_t want1 = byte < th % 17 ? b1[at] : 0;
            if (d0[at] != b0[at]) bad.add(fmt::format("group 0, thread {} byte {}: got {:#04x}, expected {:#04x}", th, byte, d0[at], b0[at]));
            if (d1[at] != want1) bad.add(fmt::format("group 1 (src-size {}), thread {} byte {}: got {:#04x}, expected {:#04x}", th % 17, th, byte, d1[at], want1));
            if (d2[at] != b2[at]) bad.add(fmt::format("group 2, thread {} byte {}: got {:#04x}, expected {:#04x}", th, byte, d2[at], b2[at]));
        }
    ITEST_CHECK_NONE(bad);
}

}  // namespace
