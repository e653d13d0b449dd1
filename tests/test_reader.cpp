// The PTX reader: printed kernels read back as the same program and print to the same bytes;
// malformed text is an error at its line and column; hand-written text of the subset reads.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/registry.hpp"
#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/reader.hpp"

using namespace ptxgen;

namespace {

// The message read_ptx throws for `text`, or "" when it reads.
std::string error_of(const std::string& text, const std::string& source = "bad.ptx") {
    try {
        read_ptx(text, source);
    } catch (const ptxsmith::Error& e) {
        return e.what();
    }
    return "";
}

// Where two kernels differ after canonical_form, for failure messages: "" when they do not.
std::string difference(const Kernel& a, const Kernel& b) {
    const Kernel x = canonical_form(a), y = canonical_form(b);
    if (x.params != y.params) return "parameters";
    if (x.vars != y.vars) return "variables";
    if (x.labels != y.labels) return "labels";
    if (x.regs != y.regs) return "registers";
    if (x.reqntid != y.reqntid || x.maxntid != y.maxntid || x.minnctapersm != y.minnctapersm) return ".reqntid/.maxntid/.minnctapersm";
    for (size_t i = 0; i < std::min(x.code.size(), y.code.size()); ++i) {
        if (!(x.code[i] == y.code[i])) return "instruction " + std::to_string(i) + ": " + print_instruction(x, i);
    }
    if (x.code.size() != y.code.size()) return "instruction count";
    return x.name != y.name ? "name" : "";
}

// Print, read back, print again: the same program, the same bytes.
void check_round_trip(const Kernel& k, const PrintOptions& options = {}) {
    const std::string text = print_ptx(k, options);
    Kernel read = read_ptx_kernel(text, k.name, k.name + ".ptx");
    CHECK_MESSAGE(same_program_modulo_registers(k, read), difference(k, read));
    PrintOptions plain = options;
    plain.debug_locations = false;
    CHECK(print_ptx(read, plain) == print_ptx(k, plain));
}

// A kernel using every instruction form KernelBuilder offers, each modifier combination of
// tests/test_instructions.cpp, on registers that are written before they are read (the reader
// verifies what it reads).
Kernel all_forms() {
    KernelBuilder b("all_forms", Target{90});
    GlobalPtr g = b.param_ptr("x", Type::f32);
    b.param_ptr("bytes", Type::u8);
    Reg<u32> n = b.param<u32>("n");
    Reg<s32> s = b.param<s32>("s");
    Reg<f32> f = b.param<f32>("a");
    Reg<f64> fd = b.param<f64>("d");
    Reg<f16> h = b.param<f16>("h");
    Reg<bf16x2> bff = b.param<bf16x2>("pair");
    Reg<u16> rh = b.param<u16>("w");
    Reg<s64> sd = b.param<s64>("stride");
    b.reqntid(128);
    SharedArray tile = b.shared_array("tile", 1024);
    SharedArray dyn = b.dynamic_shared();  // after a static array: printed first all the same
    LocalArray lm = b.local_array("lmem", 64, 8);
    b.label("never_used");  // never bound nor named: the text has no trace of it

    Reg<u64> ud = b.cvt<u64>(n);
    Reg<s16> sh = b.cvt<s16>(s);
    Reg<b16> bh = b.mov<b16>(0x8000);
    Reg<b32> bw = b.mov<b32>(0xdeadbeefu);
    Reg<b64> bd = b.mov<b64>(0);
    Reg<f16x2> hh = b.mov<f16x2>(-2.0f);
    Reg<bf16> bf = b.mov<bf16>(1.0f);
    Pred p = b.setp(Cmp::lt, n, 100u);
    Pred q = b.setp(Cmp::ne, s, 0);
    GenericPtr gen = b.cvta_generic(g);
    SharedPtr sp = b.addr_of(tile);
    Label top = b.label("top");
    b.bind(top);

    // arithmetic
    b.add<s32>(s, s);
    b.sub<s32>(s, 5);
    b.add<s32>(s, s, {.sat = true});
    b.sub<s32>(s, -7, {.sat = true});
    b.add<u16>(rh, 1);
    b.sub<s16>(sh, -2);
    b.add<u32>(n, 0xffffffffu);
    b.add<u64>(ud, 8);
    b.sub<s64>(sd, sd);
    b.add<f32>(f, f);
    b.add<f32>(f, 1.0f, {.round = Round::rn});
    b.add<f32>(f, f, {Round::rz, true, true});
    b.sub<f32>(f, -0.5f, {.round = Round::rm});
    b.mul<f32>(f, f, {.round = Round::rp, .ftz = true});
    b.mul<f32>(f, f, {.sat = true});
    b.add<f64>(fd, fd, {.round = Round::rn});
    b.sub<f64>(fd, 1.0, {.round = Round::rz});
    b.mul<f64>(fd, 2.0);
    b.add<f16>(h, h, {Round::rn, true, true});
    b.mul<f16>(h, 1.5f);  // the immediate goes through mov.b16 first
    b.add<f16x2>(hh, hh);
    b.mul<f16x2>(hh, 1.0f, {.sat = true});
    b.add<bf16>(bf, bf, {.round = Round::rn});
    b.mul<bf16>(bf, 2.0f);
    b.sub<bf16x2>(bff, bff);
    b.mul_lo<s32>(s, s);
    b.mul_hi<s32>(s, 3);
    b.mul_wide<s32>(s, 4);
    b.mul_wide<u32>(n, 8u);
    b.mul_wide<u16>(rh, rh);
    b.mul_wide<s16>(sh, -1);
    b.mul_hi<u64>(ud, ud);
    b.mad_lo<u32>(n, 3, n);
    b.mad_hi<u32>(n, n, 1);
    b.mad_wide<u32>(n, 4, ud);
    b.mad_lo<s64>(sd, sd, sd);
    b.mad_hi<s64>(sd, -1, sd);
    b.mad_wide<s16>(sh, sh, s);
    b.mad_wide<s32>(s, s, 16);
    b.fma<f32>(f, f, f);
    b.fma<f32>(f, 2.0f, f, {Round::rz, true, true});
    b.fma<f64>(fd, fd, fd, {.round = Round::rm});
    b.fma<f16>(h, h, h);
    b.fma<f16x2>(hh, hh, hh, {Round::rn, true, true});
    b.fma<bf16>(bf, bf, bf);
    b.fma<bf16x2>(bff, bff, bff);
    b.div<s32>(s, 7);
    b.div<u64>(ud, ud);
    b.div_approx(f, f);
    b.div_approx(f, f, true);
    b.div_full(f, 3.0f);
    b.div_full(f, f, true);
    b.div<f32>(f, f, {.round = Round::rn});
    b.div<f32>(f, f, {.round = Round::rz, .ftz = true});
    b.div<f64>(fd, 2.0, {.round = Round::rp});
    b.rem<u32>(n, 3);
    b.rem<s64>(sd, sd);
    b.rem<s16>(sh, -3);
    b.min<s32>(s, -1);
    b.max<u16>(rh, 9);
    b.min<u64>(ud, ud);
    b.min<f32>(f, f, {.ftz = true});
    b.max<f32>(f, 0.0f);
    b.max<f64>(fd, fd);
    b.min<f16>(h, h);
    b.max<f16x2>(hh, hh, {.ftz = true});
    b.min<bf16>(bf, bf);
    b.max<bf16x2>(bff, bff);
    b.abs<s32>(s);
    b.neg<s16>(sh);
    b.abs<f32>(f, {.ftz = true});
    b.neg<f64>(fd);
    b.abs<f16>(h);
    b.neg<f16x2>(hh, {.ftz = true});
    b.abs<bf16>(bf);
    b.neg<bf16x2>(bff);

    // bits
    b.and_<u32>(n, 0xff);
    b.and_<b32>(bw, 0xf0f0u);
    b.or_<s64>(sd, sd);
    b.xor_<u16>(rh, rh);
    b.not_<b32>(bw);
    b.not_<u64>(ud);
    b.or_<b16>(bh, 0x8000);
    b.and_(p, !q);
    b.or_(p, q);
    b.xor_(!p, q);
    b.not_(p);
    b.mov(p);
    b.mov(!p);
    b.shl<u32>(n, 3);
    b.shr<u32>(n, n);
    b.shr<s32>(s, 31);
    b.shl<s32>(s, 1);
    b.shr<b64>(bd, n);
    b.shl<s64>(sd, n);
    b.shl<u16>(rh, 4);
    b.shr<s16>(sh, 2);
    b.bfe<u32>(n, 4, 8);
    b.bfe<s64>(sd, n, n);
    b.bfi<b32>(bw, bw, 4, 8);
    b.bfi<u64>(ud, 0xffu, n, 16);
    b.prmt<u32>(n, n, 0x3210);
    b.prmt<b32>(bw, 0x12345678u, n);
    b.popc<u32>(n);
    b.popc<s64>(sd);
    b.clz<b64>(bd);
    b.brev<u64>(ud);
    b.brev<b32>(bw);

    // comparison and selection
    for (Cmp c : {Cmp::eq, Cmp::ne, Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge, Cmp::lo, Cmp::ls, Cmp::hi, Cmp::hs}) b.setp<u32>(c, n, 1);
    for (Cmp c : {Cmp::eq, Cmp::ne, Cmp::lt, Cmp::le, Cmp::gt, Cmp::ge}) b.setp<s32>(c, s, -1);
    for (int c = 0; c <= static_cast<int>(Cmp::nan); ++c) {
        const auto cmp = static_cast<Cmp>(c);
        if (cmp != Cmp::lo && cmp != Cmp::ls && cmp != Cmp::hi && cmp != Cmp::hs) b.setp<f32>(cmp, f, 0.5f);
    }
    b.setp<f64>(Cmp::geu, fd, 0.0);
    b.setp<f16>(Cmp::lt, h, h);
    b.setp<bf16>(Cmp::nan, bf, bf);
    b.setp_bits<b64>(Cmp::ne, bd, 0);
    b.setp_bits<u32>(Cmp::eq, n, 5u);
    b.setp<s32>(Cmp::lt, s, 0, BoolOp::and_, q);
    b.setp<f32>(Cmp::gtu, f, 0.0f, BoolOp::or_, !q);
    b.setp<u64>(Cmp::hs, ud, ud, BoolOp::xor_, q);
    b.selp<u32>(1, 0, p);
    b.selp<f32>(1.0f, f, !p);
    b.selp<f64>(fd, 2.0, p);
    b.selp<s64>(-1, 1, p);
    b.selp<u16>(rh, 5, p);
    b.selp<b32>(0xffu, 0u, p);
    b.selp<f16>(h, h, p);
    b.selp<f16>(1.0f, h, p);
    b.selp<bf16x2>(bff, bff, !p);

    // moves
    b.mov<u32>(7);
    b.mov<s32>(-7);
    b.mov<u64>(uint64_t{1} << 40);
    b.mov<s64>(-1);
    b.mov<u16>(65535);
    b.mov<s16>(-3);
    b.mov<f32>(1.5f);
    b.mov<f64>(-2.0);
    b.mov<bf16x2>(0.5f);
    Reg<u32> r = b.mov<u32>(n);
    b.mov(r, 5);
    for (int sr = 0; sr <= static_cast<int>(SReg::warpid); ++sr) b.sreg32(static_cast<SReg>(sr));
    b.clock64();
    b.globaltimer();
    b.global_index_x();
    b.pack<b32, b16>(bh, bh);
    b.pack<f16x2, f16>(h, h);
    b.pack<u64, u32>(n, n);
    b.unpack<bf16, bf16x2>(bff);
    b.unpack<u32, b64>(bd);
    b.bitcast<u32, f32>(f);
    b.bitcast<f64, s64>(sd);
    b.bitcast<f16, u16>(rh);
    b.bitcast<f16x2, bf16x2>(bff);
    b.unpack<b64, b128>(b.pack<b128, u64>(ud, ud));

    // conversions
    b.cvt<f32>(h);
    b.cvt<f32>(h, {.ftz = true});
    b.cvt<f64>(h);
    b.cvt<f16>(f, {.round = Round::rz});
    b.cvt<f16>(f, {Round::rn, true, true});
    b.cvt<f16>(fd, {.round = Round::rn});
    b.cvt<bf16>(f, {.round = Round::rm});
    b.cvt<bf16>(f, {.round = Round::rn, .ftz = true});
    b.cvt<f32>(bf);
    b.cvt<bf16>(h, {.round = Round::rn});
    b.cvt<f16>(bf, {.round = Round::rz});
    b.cvt<bf16>(s, {.round = Round::rn});
    b.cvt<s32>(bf, {.round = Round::rzi});
    b.cvt<f64>(bf);
    b.cvt<bf16>(bf, {.round = Round::rni});
    b.cvt<f32>(bf, {.ftz = true});
    b.cvt_pair<f16x2>(f, f);
    b.cvt_pair<bf16x2>(f, f, {.round = Round::rz});
    b.cvt<s64>(s);
    b.cvt<u32>(ud);
    b.cvt<u32>(rh);
    b.cvt<s32>(sh);
    b.cvt<u32>(s);
    b.cvt<u16>(s, {.sat = true});
    b.cvt<u8>(n);
    b.cvt<s8>(s, {.sat = true});
    b.cvt<u8>(rh);
    b.cvt<u8>(f, {.round = Round::rzi, .sat = true});
    b.cvt<s32>(f, {.round = Round::rni});
    b.cvt<u32>(f, {.round = Round::rzi});
    b.cvt<s64>(f, {.round = Round::rmi});
    b.cvt<u64>(fd, {.round = Round::rpi});
    b.cvt<s32>(f, {Round::rzi, true, true});
    b.cvt<f32>(s, {.round = Round::rn});
    b.cvt<f64>(ud, {.round = Round::rz});
    b.cvt<f32>(rh, {.round = Round::rm});
    b.cvt<f16>(s, {.round = Round::rn});
    b.cvt<s16>(h, {.round = Round::rni});
    b.cvt<f64>(f, {.ftz = true});
    b.cvt<f32>(fd, {Round::rn, true, true});
    b.cvt<f32>(f, {.round = Round::rzi, .ftz = true});
    b.cvt<f32>(f, {.ftz = true, .sat = true});
    b.cvt<f64>(fd, {.round = Round::rmi});

    // math
    b.ex2<f32>(f);
    b.ex2<f32>(f, {.ftz = true});
    b.lg2(f, {.ftz = true});
    b.sin(f);
    b.cos(f, {.ftz = true});
    b.ex2<f16>(h);
    b.ex2<f16x2>(hh);
    b.ex2<bf16>(bf, {.ftz = true});
    b.ex2<bf16x2>(bff, {.ftz = true});
    b.rcp<f32>(f);
    b.rcp<f32>(f, {.round = Round::rp, .ftz = true});
    b.rcp<f64>(fd, {.round = Round::rz});
    b.rcp<f64>(fd, {.ftz = true});
    b.sqrt<f32>(f);
    b.sqrt<f32>(f, {.round = Round::rn, .ftz = true});
    b.sqrt<f64>(fd, {.round = Round::rm});
    b.rsqrt<f32>(f, {.ftz = true});
    b.rsqrt<f64>(fd);
    b.tanh<f32>(f);
    b.tanh<f16>(h);
    b.tanh<f16x2>(hh);
    b.tanh<bf16>(bf);
    b.tanh<bf16x2>(bff);

    // loads and stores
    b.ld<u8>(g[1]);
    b.ld<s8>(g[2]);
    b.ld<b8>(g[3]);
    b.ld<u16>(g[4]);
    b.ld<s16>(g[-2]);
    b.ld<u64>(g[8]);
    b.ld<f64>(g[16]);
    Reg<b128> q128 = b.ld<b128>(g[32]);
    b.ld<f16>(g[2]);
    b.ld<bf16x2>(g[4]);
    b.st<u8>(g[1], n);
    b.st<s8>(g[1], -1);
    b.st<b8>(g[1], 0xffu);
    b.st<u16>(g[2], 7);
    b.st<f32>(g[0], 1.0f);
    b.st<b16>(g[0], 0x3c00);
    b.st(g[8], ud);
    b.st(g[32], q128);
    b.st(g[0], h);
    b.st(g[0], hh);
    b.ld<f32>(g[0], {.nc = true});
    for (CacheOp c : {CacheOp::ca, CacheOp::cg, CacheOp::cs, CacheOp::lu, CacheOp::cv}) b.ld<u32>(g[4], {.cache = c});
    b.ld<u32>(g[0], {.cache = CacheOp::cg, .nc = true});
    for (int e = 1; e <= static_cast<int>(Evict::L1_no_allocate); ++e) b.ld<u32>(g[0], {.evict = static_cast<Evict>(e)});
    b.ld<f32>(g[0], {.evict = Evict::L1_evict_last, .nc = true});
    b.ld_v<u32, 4>(g[0], {.evict = Evict::L1_no_allocate, .nc = true});
    for (CacheOp c : {CacheOp::wb, CacheOp::cg, CacheOp::cs, CacheOp::wt}) b.st<u32>(g[0], 1u, {.cache = c});
    for (int e = 1; e < static_cast<int>(Evict::L1_no_allocate); ++e) b.st<f32>(g[4], 0.0f, {.evict = static_cast<Evict>(e)});
    b.ld<u32>(g[0], {.vol = true});
    b.st<u32>(g[0], 1u, {.vol = true});
    b.ld<f32>(sp[4], {.vol = true});
    b.st<f32>(sp[4], 0.0f, {.vol = true});
    b.ld_v<u32, 2>(g[8], {.vol = true});
    b.ld<u32>(gen[0], {.vol = true});
    b.ld_v<f32, 4>(g[16]);
    b.ld_v<f64, 2>(g[0], {.cache = CacheOp::cs});
    b.ld_v<u8, 4>(g[0]);
    b.ld_v<u16, 4>(g[0]);
    b.ld_v<f16x2, 4>(g[0]);
    b.ld_v<f16, 2>(g[0]);
    b.st_v<u32, 4>(g[0], {n, n, n, n});
    b.st_v<u16, 2>(g[4], {rh, rh}, {.cache = CacheOp::cs});
    b.st_v<s8, 2>(g[2], {s, s});
    b.ld<u32>(tile[16]);
    b.st<f32>(tile[0], 1.0f);
    b.ld<f64>(sp[8]);
    b.st<u16>(sp[2], rh);
    b.ld_v<f32, 4>(tile[0]);
    b.ld<u32>(b.index(sp, n, 4)[0]);
    b.ld<u32>(b.offset(sp, 64)[-4]);
    b.ld<u32>(dyn[4]);
    b.addr_of(dyn);
    b.st<u32>(lm[4], 1u);
    b.ld<u32>(lm[0]);
    b.st_v<f32, 2>(lm[8], {f, f});
    b.ld<f32>(b.index(g, n, 4)[0]);
    b.ld<f32>(b.offset(g, 256)[0]);

    // warp-level
    b.shfl_up<u32>(n, 1);
    b.shfl_down<f32>(f, 16);
    b.shfl_bfly<s32>(s, 8);
    b.shfl_idx<b32>(bw, n, 0xffffu);
    Pred valid;
    b.shfl<u32>(ShflMode::down, n, 2, 0x1f, 0xffffffffu, &valid);
    b.shfl<f16x2>(ShflMode::idx, hh, n, 0x1f, 0xfu);
    b.vote_all(p);
    b.vote_any(!p);
    b.vote_uni(p, 0xffu);
    b.vote_ballot(valid);
    b.activemask();
    b.redux<u32>(AtomOp::add, n);
    b.redux<s32>(AtomOp::min, s);
    b.redux<u32>(AtomOp::max, n, 0xffu);
    b.redux<b32>(AtomOp::and_, bw);
    b.redux<u32>(AtomOp::or_, n);
    b.redux<s32>(AtomOp::xor_, s);
    b.dp4a(n, n, 0u);
    b.dp4a(n, s, 0);
    b.dp4a(s, n, s);
    b.dp4a(s, s, -1);
    b.dp2a(DpHalf::lo, n, n, n);
    b.dp2a(DpHalf::hi, n, n, 5u);
    b.dp2a(DpHalf::lo, n, s, s);
    b.dp2a(DpHalf::hi, s, n, 0);

    // synchronisation
    b.bar_sync();
    b.bar_sync(1, 64);
    b.bar_arrive(2, 128);
    b.bar_warp_sync();
    b.bar_warp_sync(0xffu);
    b.membar(Scope::cta);
    b.membar(Scope::gpu);
    b.membar(Scope::sys);
    b.fence(FenceSem::sc, Scope::cta);
    b.fence(FenceSem::acq_rel, Scope::gpu);

    // atomics and reductions
    b.atom<u32>(AtomOp::add, g[0], 1u);
    b.atom<s32>(AtomOp::add, g[0], -1);
    b.atom<f32>(AtomOp::add, g[4], 1.0f);
    b.atom<f64>(AtomOp::add, g[8], fd);
    b.atom<u64>(AtomOp::add, g[8], ud);
    b.atom<s32>(AtomOp::min, g[0], -1);
    b.atom<u32>(AtomOp::max, g[0], 5u);
    b.atom<s64>(AtomOp::max, g[0], sd);
    b.atom<u64>(AtomOp::min, g[0], 0u);
    b.atom<b32>(AtomOp::exch, g[0], bw);
    b.atom<b64>(AtomOp::exch, g[0], 0u);
    b.atom<b32>(AtomOp::and_, g[0], 0xfu);
    b.atom<b32>(AtomOp::or_, g[0], 1u);
    b.atom<b64>(AtomOp::xor_, g[0], bd);
    b.atom_cas<u32>(g[0], 0u, 1u);
    b.atom_cas<u64>(g[0], ud, ud);
    b.atom<u32>(AtomOp::add, sp[4], 1u);
    b.atom<f32>(AtomOp::add, sp[0], 1.0f);
    b.atom_cas<b32>(sp[0], bw, 3u);
    b.atom<u32>(AtomOp::max, tile[4], 9u);
    b.atom<s32>(AtomOp::min, gen[0], 0);
    b.atom<b64>(AtomOp::exch, gen[8], bd);
    b.red<u32>(AtomOp::add, g[0], 1u);
    b.red<f32>(AtomOp::add, g[4], f);
    b.red<s32>(AtomOp::min, sp[0], -5);
    b.red<u64>(AtomOp::max, gen[0], ud);
    b.red<b32>(AtomOp::xor_, g[0], 1u);
    b.red<f64>(AtomOp::add, g[8], 0.5);

    // tensor cores
    Regs<f32, 4> acc = b.mma_m16n8k16<f16x2>({hh, hh, hh, hh}, {hh, hh}, {f, f, f, f});
    b.mma_m16n8k16<bf16x2>({bff, bff, bff, bff}, {bff, bff}, acc);
    b.mma_m16n8k32_s8({bw, bw, bw, bw}, {bw, bw}, {s, s, s, s});
    b.mma_m16n8k32_s8({bw, bw, bw, bw}, {bw, bw}, {s, s, s, s}, true);
    b.mma_m8n8k16_s8(bw, bw, {s, s});
    b.griddep_launch_dependents();
    b.griddep_wait();
    b.prefetch_l2(g[64]);
    b.ld_v<u32, 4>(g[0], {.evict = Evict::L1_evict_first, .nc = true, .l2_prefetch = 128});
    b.ld<u32>(g[0], {.l2_prefetch = 256});
    b.ldmatrix<1>(sp[0]);
    b.ldmatrix<1>(sp[0], true);
    b.ldmatrix<2>(sp[0]);
    b.ldmatrix<4, f16x2>(sp[16]);
    b.ldmatrix<4>(sp[0], true);
    b.ldmatrix<2, bf16x2>(tile[32]);

    // asynchronous copies
    b.cp_async(sp[0], g[0], 4);
    b.cp_async(sp[16], g[16], 16);
    b.cp_async(sp[0], g[0], 16, CpAsyncCache::cg);
    b.cp_async(sp[0], g[0], 16, CpAsyncCache::cg, n);
    b.cp_async(sp[8], g[8], 8, CpAsyncCache::ca, n);
    b.cp_async(tile[16], g[0], 16, CpAsyncCache::cg);
    b.cp_async_commit();
    b.cp_async_wait(1);
    b.cp_async_wait_all();

    // control flow
    Label fwd = b.label("fwd");
    b.bra(fwd);
    b.bind(fwd);
    b.predicated(p, [&] {
        b.add<u32>(n, 1);
        b.st<u32>(g[0], n);
        b.bra(top, true);
    });
    b.predicated(!q, [&] { b.exit(); });
    b.if_(p, [&] { b.add<u32>(n, 1); });
    b.if_else(!p, [&] { b.add<u32>(n, 1); }, [&] { b.sub<u32>(n, 1); });
    Reg<u32> count = b.mov<u32>(0);
    b.while_([&] { return b.setp<u32>(Cmp::lt, count, 10); }, [&] { b.mov(count, b.add<u32>(count, 1)); });
    b.for_range(0, n, 1, [&](Reg<u32> i) { b.add<u32>(i, 1); });
    b.for_range(n, 100, 4, [&](Reg<u32> i) { b.add<u32>(i, 1); }, Unroll{1});
    b.for_range(0, n, 2, [&](Reg<u32> i) { b.add<u32>(i, 1); }, Unroll{4});
    b.ret();
    return b.finish();
}

// The module template of the error tests: LINE is replaced by one line of text.
const char* const kModule =
    ".version 7.0\n"
    ".target sm_80\n"
    ".address_size 64\n"
    "\n"
    ".visible .entry k(\n"
    "\t.param .u64 param_x,\t// f32*\n"
    "\t.param .u32 param_n\n"
    ")\n"
    "{\n"
    "\t.reg .pred %p<2>;\n"
    "\t.reg .u32 %r<4>;\n"
    "\t.reg .u64 %rd<3>;\n"
    "\t.reg .f32 %f<2>;\n"
    "\t.shared .align 16 .b8 tile[64];\n"
    "\n"
    "\tld.param.u64 %rd0, [param_x];\n"
    "\tld.param.u32 %r0, [param_n];\n"
    "LINE\n"
    "\tret;\n"
    "}\n";
constexpr int kLine = 18;  // the line LINE is on

std::string module_with(const std::string& line) {
    std::string text = kModule;
    text.replace(text.find("LINE"), 4, line);
    return text;
}

// The error for `line` put into the template, expected at column `col` of that line.
std::string error_at(const std::string& line, int col) {
    const std::string message = error_of(module_with(line));
    const std::string where = "bad.ptx:" + std::to_string(kLine) + ":" + std::to_string(col) + ": ";
    CHECK_MESSAGE(message.rfind(where, 0) == 0, "expected the error at ", where, " got: ", message);
    return message.substr(std::min(message.size(), where.size()));
}

}  // namespace

TEST_CASE("every registered kernel reads back as the program printed, at sm_75, sm_80 and sm_90") {
    size_t kernels_read = 0;
    for (const kernels::Family& family : kernels::registry()) {
        std::vector<kernels::ParamValues> shapes{kernels::ParamValues{}};
        shapes.insert(shapes.end(), family.info.test_shapes.begin(), family.info.test_shapes.end());
        for (const kernels::ParamValues& shape : shapes) {
            auto instance = kernels::instantiate(family, shape);
            for (int sm : {75, 80, 90}) {
                const Kernel k = instance->build(Target{sm});
                const std::string text = print_ptx(k);
                const std::vector<Kernel> read = read_ptx(text, instance->name() + ".ptx");
                REQUIRE(read.size() == 1);
                CHECK_MESSAGE(same_program_modulo_registers(k, read[0]), instance->name(), " at sm_", sm, ": ", difference(k, read[0]));
                CHECK(print_ptx(read[0]) == text);
                CHECK(text.find(".target " + read[0].target.str() + "\n") != std::string::npos);
                ++kernels_read;
            }
        }
    }
    CHECK(kernels_read >= 36);
}

TEST_CASE("a kernel with every instruction form reads back as the same program and prints the same bytes") {
    const Kernel k = all_forms();
    REQUIRE(k.code.size() > 400);
    check_round_trip(k);

    const Kernel read = read_ptx_kernel(print_ptx(k), "all_forms");
    CHECK(read.target == Target{90});
    // The builder's register order differs; by (type, number within the type) it is the same.
    CHECK_FALSE(read.same_program(k));
    CHECK(read.same_program(canonical_form(k)));
    // Parameters come back with their pointee (from the printer's comment) and half types.
    REQUIRE(read.params.size() == 10);
    CHECK(read.params[0] == Param{"x", Type::u64, true, Type::f32});
    CHECK(read.params[1] == Param{"bytes", Type::u64, true, Type::u8});
    CHECK(read.params[6] == Param{"h", Type::f16, false, Type::f16});
    CHECK(read.params[7] == Param{"pair", Type::bf16x2, false, Type::bf16x2});
    CHECK(read.reqntid == std::array<uint32_t, 3>{128, 1, 1});
    CHECK(read.maxntid == std::array<uint32_t, 3>{0, 0, 0});
    // The dynamic shared array is printed at module scope, so it reads back first.
    REQUIRE(read.vars.size() == 3);
    CHECK(read.vars[0].dynamic);
    CHECK(read.vars[1].name == "tile");
    CHECK(read.vars[2] == VarDecl{"lmem", Space::local, 64, 8, false});
    // Labels by the builder's creation number; the one never used leaves no trace.
    CHECK(read.labels.front().name == "$L_top_1");
    CHECK(read.labels.size() + 1 == k.labels.size());
}

TEST_CASE("same_program_modulo_registers sees through register numbering and nothing else") {
    KernelBuilder b("cmp", Target{80});
    GlobalPtr x = b.param_ptr("x", Type::f32);
    Reg<u32> i = b.tid_x();
    Reg<f32> v = b.ld<f32>(b.index(x, i, 4)[0]);  // u32, u64 and f32 registers interleaved
    b.st(b.index(x, i, 4)[0], b.add<f32>(v, 1.0f));
    const Kernel k = b.finish();
    const Kernel read = read_ptx_kernel(print_ptx(k), "cmp");
    CHECK(same_program_modulo_registers(k, read));
    CHECK_FALSE(k.same_program(read));  // the builder numbered them in creation order

    Kernel other = read;
    other.params[0].pointee = Type::u32;
    CHECK_FALSE(same_program_modulo_registers(k, other));
    other = read;
    other.code.back().m.ftz = true;
    CHECK_FALSE(same_program_modulo_registers(k, other));
    other = read;
    for (Instr& in : other.code) {
        if (in.op == Op::add) in.operand(2).type = Type::b32;  // same bits, another type
    }
    CHECK_FALSE(same_program_modulo_registers(k, other));
    // Renaming %rd1 to %rd2 and back is the same dataflow, but other text: the comparison is by
    // (type, number within the type), not up to any renaming.
    other = read;
    const uint32_t rd1 = read.code[1].operand(0).id, rd2 = read.code[3].operand(0).id;
    for (Instr& in : other.code) {
        for (int o = 0; o < in.nops; ++o) {
            Operand& op = in.operand(o);
            if ((op.kind == OpKind::reg || (op.kind == OpKind::addr && op.base == AddrBase::reg)) && (op.id == rd1 || op.id == rd2))
                op.id = op.id == rd1 ? rd2 : rd1;
        }
    }
    CHECK_FALSE(same_program_modulo_registers(k, other));
}

TEST_CASE("the .target directive becomes Kernel::target, arch-specific targets included") {
    KernelBuilder b("t", Target{80});
    b.add<u32>(b.mov<u32>(1), 2u);
    const Kernel k = b.finish();
    PrintOptions o;
    o.target = Target{90, true};
    o.version = PtxVersion{8, 5};
    const std::string text = print_ptx(k, o);
    const Kernel read = read_ptx_kernel(text, "t");
    CHECK(read.target == Target{90, true});
    CHECK(print_ptx(read, o) == text);
    CHECK(read_ptx_kernel(print_ptx(k), "t").target == Target{75});
}

TEST_CASE("debug-location comments are read over, and read kernels point at their PTX lines") {
    const Kernel k = all_forms();
    PrintOptions debug;
    debug.debug_locations = true;
    check_round_trip(k, debug);

    const Kernel read = read_ptx_kernel(print_ptx(k), "all_forms", "forms.ptx");
    REQUIRE(read.locs.size() == read.code.size());
    CHECK(std::string(read.locs[0].file_name()) == "forms.ptx");
    CHECK(read.locs[0].line() > 10);
}

TEST_CASE("immediates come back with the type the builder gave them") {
    KernelBuilder b("imm", Target{80});
    Reg<u32> u = b.mov<u32>(1);
    Reg<b32> w = b.mov<b32>(2u);
    b.and_(u, 255u);                       // and.b32 of a u32 register: a u32 immediate, 255
    b.setp_bits<u32>(Cmp::eq, u, 5u);      // setp.eq.b32 of a u32 register: 5
    b.st<u8>(GlobalPtr{b.cvt<u64>(u)}[0], 200);  // st.u8 stores a u32 value
    b.shfl_down(w, 4u);                    // lane operands u32, the mask b32
    Kernel k = b.finish();
    const Kernel read = read_ptx_kernel(print_ptx(k), "imm");
    CHECK(same_program_modulo_registers(k, read));
    const Instr& and_ = read.code[2];
    CHECK(and_.operand(2) == Operand::imm(255, Type::u32));
    const Instr& st = read.code[5];
    CHECK(st.operand(1) == Operand::imm(200, Type::u32));
    const Instr& shfl = read.code[6];
    CHECK(shfl.operand(3) == Operand::imm(4, Type::u32));
    CHECK(shfl.operand(4) == Operand::imm(31, Type::u32));
    CHECK(shfl.operand(5) == Operand::imm(0xffffffff, Type::b32));
}

TEST_CASE("a hand-written saxpy reads: its own register numbering, comments, plain labels") {
    const std::string text = R"(// saxpy, written by hand: y[i] = a * x[i] + y[i]
.version 7.0
.target sm_80
.address_size 64

/* the parameters, in launch order */
.visible .entry saxpy_by_hand(
	.param .f32 param_a,
	.param .u64 param_x,   // f32*
	.param .u64 param_y,
	.param .u32 param_n
)
.maxntid 256
.minnctapersm 2
{
	.reg .u64 %rd<12>;     // declared in any order,
	.reg .pred %p<1>;
	.reg .f32 %f<8>;       /* more than used */
	.reg .u32 %r<10>;

	ld.param.f32 %f7, [param_a];
	ld.param.u64 %rd11, [param_x];
	cvta.to.global.u64 %rd3, %rd11;
	ld.param.u64 %rd10, [param_y];
	cvta.to.global.u64 %rd4, %rd10;
	ld.param.u32 %r9, [param_n];
	mov.u32 %r5, %ctaid.x;
	mov.u32 %r6, %ntid.x;
	mov.u32 %r7, %tid.x;
	mad.lo.u32 %r8, %r5, %r6, %r7;   // i
	setp.ge.u32 %p0, %r8, %r9;
	@%p0 bra DONE;
	mad.wide.u32 %rd5, %r8, 4, %rd3;
	mad.wide.u32 %rd6, %r8, 0x4, %rd4;
	ld.global.nc.f32 %f1, [%rd5];
	ld.global.f32 %f2, [%rd6];
	fma.rn.f32 %f3, %f7, %f1, %f2;
	st.global.f32 [%rd6+0], %f3;
DONE:
	ret;
}
)";
    const Kernel k = read_ptx_kernel(text, "saxpy_by_hand", "saxpy.ptx");
    CHECK(k.target == Target{80});
    REQUIRE(k.params.size() == 4);
    CHECK(k.params[0] == Param{"a", Type::f32, false, Type::f32});
    CHECK(k.params[1] == Param{"x", Type::u64, true, Type::f32});
    CHECK(k.params[2] == Param{"y", Type::u64, false, Type::u64});  // no comment: a plain u64
    CHECK(k.maxntid == std::array<uint32_t, 3>{256, 1, 1});
    CHECK(k.minnctapersm == 2);
    CHECK(k.regs.size() == 31);
    CHECK(k.regs.front() == Type::pred);  // numbered by type whatever the declaration order
    REQUIRE(k.code.size() == 20);
    REQUIRE(k.labels.size() == 1);
    CHECK(k.labels[0].name == "DONE");
    const Instr& guarded = k.code[11];
    CHECK(guarded.op == Op::bra);
    CHECK(guarded.guard != kNoReg);
    CHECK(k.code[13].operand(2) == Operand::imm(4, Type::u32));  // 0x4 reads as the u32 4
    CHECK(k.code[17].operand(0).offset == 0);
    CHECK(k.code[16].op == Op::fma);
    CHECK(k.code[16].m.round == Round::rn);

    // Printing renames the registers by type; that text reads back to the same program.
    const std::string printed = print_ptx(k);
    CHECK(printed.find("fma.rn.f32 %f3, %f7, %f1, %f2;") != std::string::npos);
    CHECK(printed.find("\t.param .u64 param_x,\t// f32*\n") != std::string::npos);
    const Kernel again = read_ptx_kernel(printed, "saxpy_by_hand");
    CHECK(again.same_program(k));
    CHECK(print_ptx(again) == printed);
}

TEST_CASE("a module with two entries and a dynamic shared array") {
    const std::string text =
        ".version 7.0\n.target sm_80\n.address_size 64\n"
        ".extern .shared .align 16 .b8 dynamic_smem[];\n"
        ".visible .entry first(\n\t.param .u32 param_n\n)\n{\n\t.reg .u32 %r<2>;\n"
        "\tld.param.u32 %r0, [param_n];\n\tst.shared.u32 [dynamic_smem+4], %r0;\n\tret;\n}\n"
        ".visible .entry second()\n{\n\t.reg .u32 %r<1>;\n\tmov.u32 %r0, dynamic_smem;\n\texit;\n}\n";
    const std::vector<Kernel> ks = read_ptx(text);
    REQUIRE(ks.size() == 2);
    CHECK(ks[0].name == "first");
    CHECK(ks[1].name == "second");
    CHECK(ks[1].vars.size() == 1);
    CHECK(ks[1].code[0].operand(1) == Operand::symbol(0));
    CHECK(read_ptx_kernel(text, "second").code.size() == 2);
    CHECK(error_of(text).empty());
    try {
        read_ptx_kernel(text, "third", "two.ptx");
        FAIL("expected an error");
    } catch (const ptxsmith::Error& e) {
        CHECK(std::string(e.what()) == "two.ptx: no kernel named third; the module has first, second");
    }
}

TEST_CASE("text outside the subset is an error at its line and column") {
    CHECK(error_of(module_with("\tadd.u32 %r1, %r0, 1;")).empty());  // the template itself reads

    CHECK(error_at("\tfoo.u32 %r1, %r0;", 2) == "unknown instruction 'foo.u32'");
    CHECK(error_at("\tadd.u32.x %r1, %r0, 1;", 10) == "unexpected .x in add.u32.x");
    CHECK(error_at("\tsetp.u32 %p1, %r0, 1;", 7) == "setp needs a comparison such as .lt here");
    CHECK(error_at("\tadd.u32 %r1, %r0;", 18) == "add.u32 takes 3 operands, not 2");
    CHECK(error_at("\tadd.u32 %r1, %r0, 1, 2;", 23) == "add.u32 takes 3 operands, not 4");
    CHECK(error_at("\tadd.u32 %r1, %r9, 1;", 15) == "%r9 is not declared: the kernel declares %r<4>");
    CHECK(error_at("\tadd.f64 %fd1, %fd0, %fd0;", 10) == "%fd1: no .reg declares %fd registers");
    CHECK(error_at("\tadd.u32 %r1, %r01, 1;", 15) == "%r01: register numbers have no leading zeros");
    CHECK(error_at("\tadd.u32 %r1, %zz0, 1;", 15) == "'%zz0' is neither a special register nor a register of a prefix ptxgen prints");
    CHECK(error_at("\tadd.u32 %r1, %f0, 1;", 15) == "%f0 is a .f32 register; add.u32 needs .u32 here");
    CHECK(error_at("\tadd.u32 %r1, %r0, 4294967296;", 20) == "4294967296 does not fit in .u32");
    CHECK(error_at("\tmov.f32 %f1, 1.5;", 15) == "a .f32 immediate is written 0f and 8 hex digits of its bits, not 1.5");
    CHECK(error_at("\tld.global.f32 %f1, [%rd1+];", 27) == "expected a byte offset, found ']'");
    CHECK(error_at("\tld.global.f32 %f1, %rd1;", 21) == "expected an address such as [%rd1+8], found '%rd1'");
    CHECK(error_at("\tld.global.f32 %f1, [%r1];", 22) == "%r1 is a .u32 register; an address is a 64-bit integer register");
    CHECK(error_at("\tld.local.u32 %r1, [tile];", 21) == "tile is a .shared array; ld.local.u32 addresses local memory");
    CHECK(error_at("\tld.global.u32 %r1, [param_n];", 22) == "parameter param_n is read with ld.param");
    CHECK(error_at("\t@%r0 ret;", 3) == "%r0 is not a predicate, so it cannot guard an instruction");
    CHECK(error_at("\tadd.u32 %r1, !%r0, 1;", 15) == "only predicate sources can be negated");
    CHECK(error_at("\t.foo 3;", 2) == "unknown directive '.foo'");
    CHECK(error_at("\tbra $L_nowhere_0;", 6) == "branch to label $L_nowhere_0, which is never bound");
    CHECK(error_at("\tmov.u32 %r1, 0; # comment", 18) == "unexpected character '#'");
    CHECK(error_at("\tredux.sync.add.f32 %f1, %f0, 0xffffffff;", 2)
          == "redux.sync takes add/min/max on u32 or s32 and and/or/xor on b32");
    CHECK(error_of(module_with("$L_a_0:\n$L_a_0:")).find("bad.ptx:19:1: label $L_a_0 is bound twice") == 0);
}

TEST_CASE("declaration and header errors, and verifier errors on what was read") {
    std::string text = module_with("");
    text.replace(text.find(".reg .f32"), 9, ".reg .u32");
    CHECK(error_of(text) == "bad.ptx:13:7: %f registers hold f32: declare them .f32");

    text = module_with("");
    text.replace(text.find(".target sm_80"), 13, ".target sm_70");
    CHECK(error_of(text).rfind("bad.ptx:2:9: target sm_70 is older than sm_75", 0) == 0);

    text = module_with("\tredux.sync.add.u32 %r1, %r0, 0xffffffff;");
    text.replace(text.find(".version 7.0"), 12, ".version 6.5");
    CHECK(error_of(text) == "bad.ptx:1:10: kernel k with .target sm_80 needs .version 7.0 or newer");

    text = module_with("\tredux.sync.add.u32 %r1, %r0, 0xffffffff;");
    text.replace(text.find(".target sm_80"), 13, ".target sm_75");
    CHECK(error_of(text) == "bad.ptx:18:2: redux.sync.add.u32 needs sm_80 / PTX 7.0, but the module's .target is sm_75");

    text = module_with("\tret;\n}\n/* never closed");
    CHECK(error_of(text) == "bad.ptx:20:1: this /* comment never ends");

    // A read of a register nothing writes is the verifier's error, naming the PTX line.
    const std::string unset = error_of(module_with("\tadd.u32 %r1, %r2, 1;"));
    CHECK(unset.find("reads register %r2 before anything writes it") != std::string::npos);
    CHECK(unset.find("(at bad.ptx:18)") != std::string::npos);
}
