// Exact text of every instruction form and modifier combination KernelBuilder offers.
//
// Each case builds into a fresh KernelBuilder and compares print_instruction() of what was emitted.
// Registers print as %<prefix><n>, numbered from 0 per type in creation order (printer.cpp's
// register_prefix: r=u32, s=s32, rd=u64, f=f32, h=f16, hh=f16x2, bf=bf16, p=pred, ...). Inputs are
// bare b.reg<T>() registers: these tests look at text only, so nothing needs to write them first.
// Every spelling asserted here was also checked against ptxas (CUDA 13) at the form's minimum target.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"

using namespace ptxgen;

namespace {

// The text of the instruction emitted last.
std::string last(const KernelBuilder& b) { return print_instruction(b.peek(), b.size() - 1); }

// Instructions [from, end) joined by newlines: one string, so a failure shows the whole listing.
std::string since(const KernelBuilder& b, size_t from) {
    std::string text;
    for (size_t i = from; i < b.size(); ++i) {
        if (!text.empty()) text += '\n';
        text += print_instruction(b.peek(), i);
    }
    return text;
}

template <class T, int N> Regs<T, N> regs(KernelBuilder& b) {
    Regs<T, N> r;
    for (auto& x : r) x = b.reg<T>();
    return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

TEST_CASE("integer add and sub, with .sat on s32") {
    KernelBuilder b("k");
    auto a = b.reg<s32>();
    auto c = b.reg<s32>();
    b.add<s32>(a, c);
    CHECK(last(b) == "add.s32 %s2, %s0, %s1;");
    b.sub<s32>(a, 5);
    CHECK(last(b) == "sub.s32 %s3, %s0, 5;");
    b.add<s32>(a, c, {.sat = true});
    CHECK(last(b) == "add.sat.s32 %s4, %s0, %s1;");
    b.sub<s32>(a, -7, {.sat = true});
    CHECK(last(b) == "sub.sat.s32 %s5, %s0, -7;");

    auto h = b.reg<u16>();
    b.add<u16>(h, 1);
    CHECK(last(b) == "add.u16 %rh1, %rh0, 1;");
    auto sh = b.reg<s16>();
    b.sub<s16>(sh, -2);
    CHECK(last(b) == "sub.s16 %sh1, %sh0, -2;");
    auto u = b.reg<u32>();
    b.add<u32>(u, 0xffffffffu);
    CHECK(last(b) == "add.u32 %r1, %r0, 4294967295;");
    auto d = b.reg<u64>();
    b.add<u64>(d, 8);
    CHECK(last(b) == "add.u64 %rd1, %rd0, 8;");
    auto sd = b.reg<s64>();
    b.sub<s64>(sd, sd);
    CHECK(last(b) == "sub.s64 %sd1, %sd0, %sd0;");
}

TEST_CASE("f32 and f64 add, sub and mul with rounding, .ftz and .sat") {
    KernelBuilder b("k");
    auto x = b.reg<f32>();
    auto y = b.reg<f32>();
    b.add<f32>(x, y);
    CHECK(last(b) == "add.f32 %f2, %f0, %f1;");
    b.add<f32>(x, 1.0f, {.round = Round::rn});
    CHECK(last(b) == "add.rn.f32 %f3, %f0, 0f3F800000;");
    b.add<f32>(x, y, {Round::rz, true, true});
    CHECK(last(b) == "add.rz.ftz.sat.f32 %f4, %f0, %f1;");
    b.sub<f32>(x, -0.5f, {.round = Round::rm});
    CHECK(last(b) == "sub.rm.f32 %f5, %f0, 0fBF000000;");
    b.mul<f32>(x, y, {.round = Round::rp, .ftz = true});
    CHECK(last(b) == "mul.rp.ftz.f32 %f6, %f0, %f1;");
    b.mul<f32>(x, y, {.sat = true});
    CHECK(last(b) == "mul.sat.f32 %f7, %f0, %f1;");

    auto p = b.reg<f64>();
    b.add<f64>(p, p, {.round = Round::rn});
    CHECK(last(b) == "add.rn.f64 %fd1, %fd0, %fd0;");
    b.sub<f64>(p, 1.0, {.round = Round::rz});
    CHECK(last(b) == "sub.rz.f64 %fd2, %fd0, 0d3FF0000000000000;");
    b.mul<f64>(p, 2.0);
    CHECK(last(b) == "mul.f64 %fd3, %fd0, 0d4000000000000000;");
}

TEST_CASE("f16 and f16x2 arithmetic; immediates are moved into a register first") {
    KernelBuilder b("k", Target{75});
    auto x = b.reg<f16>();
    auto y = b.reg<f16>();
    b.add<f16>(x, y);
    CHECK(last(b) == "add.f16 %h2, %h0, %h1;");
    b.add<f16>(x, y, {Round::rn, true, true});
    CHECK(last(b) == "add.rn.ftz.sat.f16 %h3, %h0, %h1;");
    b.sub<f16>(x, y);
    CHECK(last(b) == "sub.f16 %h4, %h0, %h1;");
    b.mul<f16>(x, y, {.round = Round::rn});
    CHECK(last(b) == "mul.rn.f16 %h5, %h0, %h1;");

    // PTX half instructions take no immediates: the builder writes the bits with mov.b16 first.
    size_t at = b.size();
    b.add<f16>(x, 1.5f);
    CHECK(since(b, at) == "mov.b16 %h7, 0x3e00;\nadd.f16 %h6, %h0, %h7;");

    auto v = b.reg<f16x2>();
    auto w = b.reg<f16x2>();
    b.add<f16x2>(v, w);
    CHECK(last(b) == "add.f16x2 %hh2, %hh0, %hh1;");
    b.sub<f16x2>(v, w, {.ftz = true});
    CHECK(last(b) == "sub.ftz.f16x2 %hh3, %hh0, %hh1;");
    b.mul<f16x2>(v, w, {.sat = true});
    CHECK(last(b) == "mul.sat.f16x2 %hh4, %hh0, %hh1;");
    // A scalar immediate of a packed type fills both halves.
    at = b.size();
    b.mul<f16x2>(v, 1.0f);
    CHECK(since(b, at) == "mov.b32 %hh6, 0x3c003c00;\nmul.f16x2 %hh5, %hh0, %hh6;");
}

TEST_CASE("bf16 and bf16x2 add, sub and mul need sm_90") {
    KernelBuilder b("k", Target{90});
    auto x = b.reg<bf16>();
    auto y = b.reg<bf16>();
    b.add<bf16>(x, y);
    CHECK(last(b) == "add.bf16 %bf2, %bf0, %bf1;");
    b.add<bf16>(x, y, {.round = Round::rn});
    CHECK(last(b) == "add.rn.bf16 %bf3, %bf0, %bf1;");
    b.sub<bf16>(x, y);
    CHECK(last(b) == "sub.bf16 %bf4, %bf0, %bf1;");
    b.mul<bf16>(x, y, {.round = Round::rn});
    CHECK(last(b) == "mul.rn.bf16 %bf5, %bf0, %bf1;");
    size_t at = b.size();
    b.mul<bf16>(x, 2.0f);
    CHECK(since(b, at) == "mov.b16 %bf7, 0x4000;\nmul.bf16 %bf6, %bf0, %bf7;");

    auto v = b.reg<bf16x2>();
    b.add<bf16x2>(v, v);
    CHECK(last(b) == "add.bf16x2 %bff1, %bff0, %bff0;");
    b.sub<bf16x2>(v, v, {.round = Round::rn});
    CHECK(last(b) == "sub.rn.bf16x2 %bff2, %bff0, %bff0;");
    b.mul<bf16x2>(v, v);
    CHECK(last(b) == "mul.bf16x2 %bff3, %bff0, %bff0;");
}

TEST_CASE("integer mul .lo, .hi and .wide") {
    KernelBuilder b("k");
    auto a = b.reg<s32>();
    auto c = b.reg<s32>();
    b.mul_lo<s32>(a, c);
    CHECK(last(b) == "mul.lo.s32 %s2, %s0, %s1;");
    b.mul_hi<s32>(a, 3);
    CHECK(last(b) == "mul.hi.s32 %s3, %s0, 3;");
    b.mul_wide<s32>(a, 4);
    CHECK(last(b) == "mul.wide.s32 %sd0, %s0, 4;");

    auto u = b.reg<u32>();
    b.mul_lo<u32>(u, u);
    CHECK(last(b) == "mul.lo.u32 %r1, %r0, %r0;");
    b.mul_hi<u32>(u, u);
    CHECK(last(b) == "mul.hi.u32 %r2, %r0, %r0;");
    b.mul_wide<u32>(u, 8u);
    CHECK(last(b) == "mul.wide.u32 %rd0, %r0, 8;");

    auto h = b.reg<u16>();
    b.mul_lo<u16>(h, h);
    CHECK(last(b) == "mul.lo.u16 %rh1, %rh0, %rh0;");
    b.mul_wide<u16>(h, h);
    CHECK(last(b) == "mul.wide.u16 %r3, %rh0, %rh0;");
    auto sh = b.reg<s16>();
    b.mul_wide<s16>(sh, -1);
    CHECK(last(b) == "mul.wide.s16 %s4, %sh0, -1;");

    auto d = b.reg<u64>();
    b.mul_lo<u64>(d, d);
    CHECK(last(b) == "mul.lo.u64 %rd2, %rd1, %rd1;");
    b.mul_hi<u64>(d, d);
    CHECK(last(b) == "mul.hi.u64 %rd3, %rd1, %rd1;");
}

TEST_CASE("integer mad .lo, .hi and .wide") {
    KernelBuilder b("k");
    auto a = b.reg<u32>();
    auto c = b.reg<u32>();
    b.mad_lo<u32>(a, 3, c);
    CHECK(last(b) == "mad.lo.u32 %r2, %r0, 3, %r1;");
    b.mad_hi<u32>(a, c, 1);
    CHECK(last(b) == "mad.hi.u32 %r3, %r0, %r1, 1;");
    auto acc = b.reg<u64>();
    b.mad_wide<u32>(a, 4, acc);
    CHECK(last(b) == "mad.wide.u32 %rd1, %r0, 4, %rd0;");

    auto s = b.reg<s64>();
    b.mad_lo<s64>(s, s, s);
    CHECK(last(b) == "mad.lo.s64 %sd1, %sd0, %sd0, %sd0;");
    b.mad_hi<s64>(s, -1, s);
    CHECK(last(b) == "mad.hi.s64 %sd2, %sd0, -1, %sd0;");

    auto sh = b.reg<s16>();
    auto sacc = b.reg<s32>();
    b.mad_wide<s16>(sh, sh, sacc);
    CHECK(last(b) == "mad.wide.s16 %s1, %sh0, %sh0, %s0;");
    auto si = b.reg<s32>();
    b.mad_wide<s32>(si, si, 16);
    CHECK(last(b) == "mad.wide.s32 %sd3, %s2, %s2, 16;");
}

TEST_CASE("fma rounds to nearest unless told otherwise") {
    KernelBuilder b("k", Target{80});
    auto x = b.reg<f32>();
    b.fma<f32>(x, x, x);
    CHECK(last(b) == "fma.rn.f32 %f1, %f0, %f0, %f0;");
    b.fma<f32>(x, 2.0f, x, {Round::rz, true, true});
    CHECK(last(b) == "fma.rz.ftz.sat.f32 %f2, %f0, 0f40000000, %f0;");
    auto d = b.reg<f64>();
    b.fma<f64>(d, d, d);
    CHECK(last(b) == "fma.rn.f64 %fd1, %fd0, %fd0, %fd0;");
    b.fma<f64>(d, d, d, {.round = Round::rm});
    CHECK(last(b) == "fma.rm.f64 %fd2, %fd0, %fd0, %fd0;");
    auto h = b.reg<f16>();
    b.fma<f16>(h, h, h);
    CHECK(last(b) == "fma.rn.f16 %h1, %h0, %h0, %h0;");
    auto hh = b.reg<f16x2>();
    b.fma<f16x2>(hh, hh, hh, {Round::rn, true, true});
    CHECK(last(b) == "fma.rn.ftz.sat.f16x2 %hh1, %hh0, %hh0, %hh0;");
    auto bf = b.reg<bf16>();
    b.fma<bf16>(bf, bf, bf);
    CHECK(last(b) == "fma.rn.bf16 %bf1, %bf0, %bf0, %bf0;");
    auto bff = b.reg<bf16x2>();
    b.fma<bf16x2>(bff, bff, bff);
    CHECK(last(b) == "fma.rn.bf16x2 %bff1, %bff0, %bff0, %bff0;");
}

TEST_CASE("div: integer, .approx, .full and correctly rounded") {
    KernelBuilder b("k");
    auto s = b.reg<s32>();
    b.div<s32>(s, 7);
    CHECK(last(b) == "div.s32 %s1, %s0, 7;");
    auto u = b.reg<u64>();
    b.div<u64>(u, u);
    CHECK(last(b) == "div.u64 %rd1, %rd0, %rd0;");

    auto x = b.reg<f32>();
    auto y = b.reg<f32>();
    b.div_approx(x, y);
    CHECK(last(b) == "div.approx.f32 %f2, %f0, %f1;");
    b.div_approx(x, y, true);
    CHECK(last(b) == "div.approx.ftz.f32 %f3, %f0, %f1;");
    b.div_full(x, 3.0f);
    CHECK(last(b) == "div.full.f32 %f4, %f0, 0f40400000;");
    b.div_full(x, y, true);
    CHECK(last(b) == "div.full.ftz.f32 %f5, %f0, %f1;");
    b.div<f32>(x, y, {.round = Round::rn});
    CHECK(last(b) == "div.rn.f32 %f6, %f0, %f1;");
    b.div<f32>(x, y, {.round = Round::rz, .ftz = true});
    CHECK(last(b) == "div.rz.ftz.f32 %f7, %f0, %f1;");
    auto d = b.reg<f64>();
    b.div<f64>(d, d, {.round = Round::rn});
    CHECK(last(b) == "div.rn.f64 %fd1, %fd0, %fd0;");
    b.div<f64>(d, 2.0, {.round = Round::rp});
    CHECK(last(b) == "div.rp.f64 %fd2, %fd0, 0d4000000000000000;");
}

TEST_CASE("rem") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    b.rem<u32>(u, 3);
    CHECK(last(b) == "rem.u32 %r1, %r0, 3;");
    auto s = b.reg<s64>();
    b.rem<s64>(s, s);
    CHECK(last(b) == "rem.s64 %sd1, %sd0, %sd0;");
    auto h = b.reg<s16>();
    b.rem<s16>(h, -3);
    CHECK(last(b) == "rem.s16 %sh1, %sh0, -3;");
}

TEST_CASE("min and max for integers, floats and halves") {
    KernelBuilder b("k", Target{80});
    auto s = b.reg<s32>();
    b.min<s32>(s, -1);
    CHECK(last(b) == "min.s32 %s1, %s0, -1;");
    b.max<s32>(s, s);
    CHECK(last(b) == "max.s32 %s2, %s0, %s0;");
    auto h = b.reg<u16>();
    b.max<u16>(h, 9);
    CHECK(last(b) == "max.u16 %rh1, %rh0, 9;");
    auto d = b.reg<u64>();
    b.min<u64>(d, d);
    CHECK(last(b) == "min.u64 %rd1, %rd0, %rd0;");
    auto f = b.reg<f32>();
    b.min<f32>(f, f, {.ftz = true});
    CHECK(last(b) == "min.ftz.f32 %f1, %f0, %f0;");
    b.max<f32>(f, 0.0f);
    CHECK(last(b) == "max.f32 %f2, %f0, 0f00000000;");
    auto fd = b.reg<f64>();
    b.max<f64>(fd, fd);
    CHECK(last(b) == "max.f64 %fd1, %fd0, %fd0;");
    auto x = b.reg<f16>();
    b.min<f16>(x, x);
    CHECK(last(b) == "min.f16 %h1, %h0, %h0;");
    auto xx = b.reg<f16x2>();
    b.max<f16x2>(xx, xx, {.ftz = true});
    CHECK(last(b) == "max.ftz.f16x2 %hh1, %hh0, %hh0;");
    auto y = b.reg<bf16>();
    b.min<bf16>(y, y);
    CHECK(last(b) == "min.bf16 %bf1, %bf0, %bf0;");
    auto yy = b.reg<bf16x2>();
    b.max<bf16x2>(yy, yy);
    CHECK(last(b) == "max.bf16x2 %bff1, %bff0, %bff0;");
}

TEST_CASE("abs and neg") {
    KernelBuilder b("k", Target{80});
    auto s = b.reg<s32>();
    b.abs<s32>(s);
    CHECK(last(b) == "abs.s32 %s1, %s0;");
    b.neg<s32>(s);
    CHECK(last(b) == "neg.s32 %s2, %s0;");
    auto sh = b.reg<s16>();
    b.abs<s16>(sh);
    CHECK(last(b) == "abs.s16 %sh1, %sh0;");
    auto sd = b.reg<s64>();
    b.neg<s64>(sd);
    CHECK(last(b) == "neg.s64 %sd1, %sd0;");
    auto f = b.reg<f32>();
    b.abs<f32>(f, {.ftz = true});
    CHECK(last(b) == "abs.ftz.f32 %f1, %f0;");
    b.neg<f32>(f);
    CHECK(last(b) == "neg.f32 %f2, %f0;");
    auto fd = b.reg<f64>();
    b.abs<f64>(fd);
    CHECK(last(b) == "abs.f64 %fd1, %fd0;");
    b.neg<f64>(fd);
    CHECK(last(b) == "neg.f64 %fd2, %fd0;");
    auto h = b.reg<f16>();
    b.abs<f16>(h);
    CHECK(last(b) == "abs.f16 %h1, %h0;");
    b.neg<f16>(h, {.ftz = true});
    CHECK(last(b) == "neg.ftz.f16 %h2, %h0;");
    auto hh = b.reg<f16x2>();
    b.abs<f16x2>(hh, {.ftz = true});
    CHECK(last(b) == "abs.ftz.f16x2 %hh1, %hh0;");
    b.neg<f16x2>(hh);
    CHECK(last(b) == "neg.f16x2 %hh2, %hh0;");
    auto bf = b.reg<bf16>();
    b.abs<bf16>(bf);
    CHECK(last(b) == "abs.bf16 %bf1, %bf0;");
    b.neg<bf16>(bf);
    CHECK(last(b) == "neg.bf16 %bf2, %bf0;");
    auto bff = b.reg<bf16x2>();
    b.abs<bf16x2>(bff);
    CHECK(last(b) == "abs.bf16x2 %bff1, %bff0;");
    b.neg<bf16x2>(bff);
    CHECK(last(b) == "neg.bf16x2 %bff2, %bff0;");
}

// ---------------------------------------------------------------------------------------------
// Bit operations: PTX spells them with .bN whatever the operand's integer type.
// ---------------------------------------------------------------------------------------------

TEST_CASE("and, or, xor and not on integers and bits") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    b.and_<u32>(u, 0xff);
    CHECK(last(b) == "and.b32 %r1, %r0, 255;");  // a u32 immediate prints in decimal
    auto w = b.reg<b32>();
    b.and_<b32>(w, 0xf0f0u);
    CHECK(last(b) == "and.b32 %b1, %b0, 0xf0f0;");  // a bit-type immediate prints in hex
    auto s = b.reg<s64>();
    b.or_<s64>(s, s);
    CHECK(last(b) == "or.b64 %sd1, %sd0, %sd0;");
    auto h = b.reg<u16>();
    b.xor_<u16>(h, h);
    CHECK(last(b) == "xor.b16 %rh1, %rh0, %rh0;");
    b.not_<b32>(w);
    CHECK(last(b) == "not.b32 %b2, %b0;");
    auto d = b.reg<u64>();
    b.not_<u64>(d);
    CHECK(last(b) == "not.b64 %rd1, %rd0;");
    auto bh = b.reg<b16>();
    b.or_<b16>(bh, 0x8000);
    CHECK(last(b) == "or.b16 %bh1, %bh0, 0x8000;");
}

TEST_CASE("predicate logic, including negated operands and mov of !p") {
    KernelBuilder b("k");
    Pred p = b.pred();
    Pred q = b.pred();
    b.and_(p, !q);
    CHECK(last(b) == "and.pred %p2, %p0, !%p1;");
    b.or_(p, q);
    CHECK(last(b) == "or.pred %p3, %p0, %p1;");
    b.xor_(!p, q);
    CHECK(last(b) == "xor.pred %p4, !%p0, %p1;");
    b.not_(p);
    CHECK(last(b) == "not.pred %p5, %p0;");
    b.mov(p);
    CHECK(last(b) == "mov.pred %p6, %p0;");
    b.mov(!p);  // a negated source becomes not.pred
    CHECK(last(b) == "not.pred %p7, %p0;");
    b.mov(q, p);
    CHECK(last(b) == "mov.pred %p1, %p0;");
}

TEST_CASE("shl, and shr logical for unsigned and bits, arithmetic for signed") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    b.shl<u32>(u, 3);
    CHECK(last(b) == "shl.b32 %r1, %r0, 3;");
    b.shr<u32>(u, u);
    CHECK(last(b) == "shr.u32 %r2, %r0, %r0;");
    auto s = b.reg<s32>();
    b.shr<s32>(s, 31);
    CHECK(last(b) == "shr.s32 %s1, %s0, 31;");
    b.shl<s32>(s, 1);
    CHECK(last(b) == "shl.b32 %s2, %s0, 1;");
    auto d = b.reg<b64>();
    b.shr<b64>(d, u);
    CHECK(last(b) == "shr.b64 %bd1, %bd0, %r0;");
    auto sd = b.reg<s64>();
    b.shl<s64>(sd, u);
    CHECK(last(b) == "shl.b64 %sd1, %sd0, %r0;");
    auto h = b.reg<u16>();
    b.shl<u16>(h, 4);
    CHECK(last(b) == "shl.b16 %rh1, %rh0, 4;");
    auto sh = b.reg<s16>();
    b.shr<s16>(sh, 2);
    CHECK(last(b) == "shr.s16 %sh1, %sh0, 2;");
}

TEST_CASE("bfe, bfi and prmt") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    b.bfe<u32>(u, 4, 8);
    CHECK(last(b) == "bfe.u32 %r1, %r0, 4, 8;");
    auto s = b.reg<s64>();
    b.bfe<s64>(s, u, u);
    CHECK(last(b) == "bfe.s64 %sd1, %sd0, %r0, %r0;");
    auto si = b.reg<s32>();
    b.bfe<s32>(si, 0, 16);
    CHECK(last(b) == "bfe.s32 %s1, %s0, 0, 16;");
    auto w = b.reg<b32>();
    b.bfi<b32>(w, w, 4, 8);
    CHECK(last(b) == "bfi.b32 %b1, %b0, %b0, 4, 8;");
    auto d = b.reg<u64>();
    b.bfi<u64>(d, 0xffu, u, 16);
    CHECK(last(b) == "bfi.b64 %rd1, %rd0, 255, %r0, 16;");
    b.prmt<u32>(u, u, 0x3210);
    CHECK(last(b) == "prmt.b32 %r2, %r0, %r0, 12816;");
    b.prmt<b32>(w, 0x12345678u, u);
    CHECK(last(b) == "prmt.b32 %b2, %b0, 0x12345678, %r0;");
}

TEST_CASE("popc, clz and brev") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    b.popc<u32>(u);
    CHECK(last(b) == "popc.b32 %r1, %r0;");
    auto s = b.reg<s64>();
    b.popc<s64>(s);  // the count is always a u32
    CHECK(last(b) == "popc.b64 %r2, %sd0;");
    auto w = b.reg<b64>();
    b.clz<b64>(w);
    CHECK(last(b) == "clz.b64 %r3, %bd0;");
    b.clz<u32>(u);
    CHECK(last(b) == "clz.b32 %r4, %r0;");
    auto d = b.reg<u64>();
    b.brev<u64>(d);
    CHECK(last(b) == "brev.b64 %rd1, %rd0;");
    auto x = b.reg<b32>();
    b.brev<b32>(x);
    CHECK(last(b) == "brev.b32 %b1, %b0;");
}

// ---------------------------------------------------------------------------------------------
// Comparison and selection
// ---------------------------------------------------------------------------------------------

TEST_CASE("setp with every integer comparison") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    const std::pair<Cmp, const char*> unsigned_cmps[] = {
        {Cmp::eq, "eq"}, {Cmp::ne, "ne"}, {Cmp::lt, "lt"}, {Cmp::le, "le"}, {Cmp::gt, "gt"},
        {Cmp::ge, "ge"}, {Cmp::lo, "lo"}, {Cmp::ls, "ls"}, {Cmp::hi, "hi"}, {Cmp::hs, "hs"}};
    int n = 0;
    for (auto [c, name] : unsigned_cmps) {
        b.setp<u32>(c, u, 1);
        CHECK(last(b) == "setp." + std::string(name) + ".u32 %p" + std::to_string(n++) + ", %r0, 1;");
    }
    auto s = b.reg<s32>();
    for (auto [c, name] : {std::pair{Cmp::eq, "eq"}, {Cmp::ne, "ne"}, {Cmp::lt, "lt"}, {Cmp::le, "le"},
                           {Cmp::gt, "gt"}, {Cmp::ge, "ge"}}) {
        b.setp<s32>(c, s, -1);
        CHECK(last(b) == "setp." + std::string(name) + ".s32 %p" + std::to_string(n++) + ", %s0, -1;");
    }
    auto sd = b.reg<s64>();
    b.setp<s64>(Cmp::ge, sd, sd);
    CHECK(last(b) == "setp.ge.s64 %p16, %sd0, %sd0;");
    auto h = b.reg<u16>();
    b.setp<u16>(Cmp::hs, h, 3);
    CHECK(last(b) == "setp.hs.u16 %p17, %rh0, 3;");
    // Bit types compare with eq and ne only.
    auto w = b.reg<b64>();
    b.setp_bits<b64>(Cmp::ne, w, 0);
    CHECK(last(b) == "setp.ne.b64 %p18, %bd0, 0x0;");
    b.setp_bits<u32>(Cmp::eq, u, u);
    CHECK(last(b) == "setp.eq.b32 %p19, %r0, %r0;");
}

TEST_CASE("setp with every float comparison, ordered and unordered") {
    KernelBuilder b("k", Target{90});
    auto f = b.reg<f32>();
    const std::pair<Cmp, const char*> cmps[] = {
        {Cmp::eq, "eq"},   {Cmp::ne, "ne"},   {Cmp::lt, "lt"},   {Cmp::le, "le"},   {Cmp::gt, "gt"},
        {Cmp::ge, "ge"},   {Cmp::equ, "equ"}, {Cmp::neu, "neu"}, {Cmp::ltu, "ltu"}, {Cmp::leu, "leu"},
        {Cmp::gtu, "gtu"}, {Cmp::geu, "geu"}, {Cmp::num, "num"}, {Cmp::nan, "nan"}};
    int n = 0;
    for (auto [c, name] : cmps) {
        b.setp<f32>(c, f, 0.5f);
        CHECK(last(b) == "setp." + std::string(name) + ".f32 %p" + std::to_string(n++) + ", %f0, 0f3F000000;");
    }
    auto d = b.reg<f64>();
    b.setp<f64>(Cmp::geu, d, 0.0);
    CHECK(last(b) == "setp.geu.f64 %p14, %fd0, 0d0000000000000000;");
    auto h = b.reg<f16>();
    b.setp<f16>(Cmp::lt, h, h);
    CHECK(last(b) == "setp.lt.f16 %p15, %h0, %h0;");
    auto bf = b.reg<bf16>();
    b.setp<bf16>(Cmp::nan, bf, bf);
    CHECK(last(b) == "setp.nan.bf16 %p16, %bf0, %bf0;");
}

TEST_CASE("setp combined with a second predicate: .and, .or, .xor") {
    KernelBuilder b("k");
    Pred q = b.pred();
    auto s = b.reg<s32>();
    b.setp<s32>(Cmp::lt, s, 0, BoolOp::and_, q);
    CHECK(last(b) == "setp.lt.and.s32 %p1, %s0, 0, %p0;");
    auto f = b.reg<f32>();
    b.setp<f32>(Cmp::gtu, f, 0.0f, BoolOp::or_, !q);
    CHECK(last(b) == "setp.gtu.or.f32 %p2, %f0, 0f00000000, !%p0;");
    auto u = b.reg<u64>();
    b.setp<u64>(Cmp::hs, u, u, BoolOp::xor_, q);
    CHECK(last(b) == "setp.hs.xor.u64 %p3, %rd0, %rd0, %p0;");
}

TEST_CASE("selp for every register class") {
    KernelBuilder b("k");
    Pred p = b.pred();
    b.selp<u32>(1, 0, p);
    CHECK(last(b) == "selp.u32 %r0, 1, 0, %p0;");
    auto f = b.reg<f32>();
    b.selp<f32>(1.0f, f, !p);
    CHECK(last(b) == "selp.f32 %f1, 0f3F800000, %f0, !%p0;");
    auto d = b.reg<f64>();
    b.selp<f64>(d, 2.0, p);
    CHECK(last(b) == "selp.f64 %fd1, %fd0, 0d4000000000000000, %p0;");
    b.selp<s64>(-1, 1, p);
    CHECK(last(b) == "selp.s64 %sd0, -1, 1, %p0;");
    auto h = b.reg<u16>();
    b.selp<u16>(h, 5, p);
    CHECK(last(b) == "selp.u16 %rh1, %rh0, 5, %p0;");
    b.selp<b32>(0xffu, 0u, p);
    CHECK(last(b) == "selp.b32 %b0, 0xff, 0x0, %p0;");
    // Halves select as bits; a half immediate goes through a register first.
    auto x = b.reg<f16>();
    b.selp<f16>(x, x, p);
    CHECK(last(b) == "selp.b16 %h1, %h0, %h0, %p0;");
    size_t at = b.size();
    b.selp<f16>(1.0f, x, p);
    CHECK(since(b, at) == "mov.b16 %h3, 0x3c00;\nselp.b16 %h2, %h3, %h0, %p0;");
    auto xx = b.reg<bf16x2>();
    b.selp<bf16x2>(xx, xx, !p);
    CHECK(last(b) == "selp.b32 %bff1, %bff0, %bff0, !%p0;");
}

// ---------------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------------

TEST_CASE("mov of immediates of every type") {
    KernelBuilder b("k", Target{80});
    b.mov<u32>(7);
    CHECK(last(b) == "mov.u32 %r0, 7;");
    b.mov<s32>(-7);
    CHECK(last(b) == "mov.s32 %s0, -7;");
    b.mov<u64>(uint64_t{1} << 40);
    CHECK(last(b) == "mov.u64 %rd0, 1099511627776;");
    b.mov<s64>(-1);
    CHECK(last(b) == "mov.s64 %sd0, -1;");
    b.mov<u16>(65535);
    CHECK(last(b) == "mov.u16 %rh0, 65535;");
    b.mov<s16>(-3);
    CHECK(last(b) == "mov.s16 %sh0, -3;");
    b.mov<b16>(0x8000);
    CHECK(last(b) == "mov.b16 %bh0, 0x8000;");
    b.mov<b32>(0xdeadbeefu);
    CHECK(last(b) == "mov.b32 %b0, 0xdeadbeef;");
    b.mov<b64>(0);
    CHECK(last(b) == "mov.b64 %bd0, 0x0;");
    b.mov<f32>(1.5f);
    CHECK(last(b) == "mov.f32 %f0, 0f3FC00000;");
    b.mov<f64>(-2.0);
    CHECK(last(b) == "mov.f64 %fd0, 0dC000000000000000;");
    // mov has no half types: halves move as their bits.
    b.mov<f16>(1.0f);
    CHECK(last(b) == "mov.b16 %h0, 0x3c00;");
    b.mov<f16x2>(-2.0f);
    CHECK(last(b) == "mov.b32 %hh0, 0xc000c000;");
    b.mov<bf16>(1.0f);
    CHECK(last(b) == "mov.b16 %bf0, 0x3f80;");
    b.mov<bf16x2>(0.5f);
    CHECK(last(b) == "mov.b32 %bff0, 0x3f003f00;");
}

TEST_CASE("mov between registers, and into an existing register") {
    KernelBuilder b("k");
    auto r = b.reg<u32>();
    b.mov<u32>(r);
    CHECK(last(b) == "mov.u32 %r1, %r0;");
    auto r2 = b.reg<u32>();
    b.mov(r2, r);
    CHECK(last(b) == "mov.u32 %r2, %r0;");
    b.mov(r2, 5);
    CHECK(last(b) == "mov.u32 %r2, 5;");
    auto h = b.reg<f16>();
    b.mov<f16>(h);
    CHECK(last(b) == "mov.b16 %h1, %h0;");
    auto f = b.reg<f32>();
    b.mov(f, 0.0f);
    CHECK(last(b) == "mov.f32 %f0, 0f00000000;");
}

TEST_CASE("special registers") {
    KernelBuilder b("k");
    const std::pair<SReg, const char*> sregs[] = {
        {SReg::tid_x, "%tid.x"},       {SReg::tid_y, "%tid.y"},       {SReg::tid_z, "%tid.z"},
        {SReg::ntid_x, "%ntid.x"},     {SReg::ntid_y, "%ntid.y"},     {SReg::ntid_z, "%ntid.z"},
        {SReg::ctaid_x, "%ctaid.x"},   {SReg::ctaid_y, "%ctaid.y"},   {SReg::ctaid_z, "%ctaid.z"},
        {SReg::nctaid_x, "%nctaid.x"}, {SReg::nctaid_y, "%nctaid.y"}, {SReg::nctaid_z, "%nctaid.z"},
        {SReg::laneid, "%laneid"},     {SReg::warpid, "%warpid"}};
    int n = 0;
    for (auto [s, name] : sregs) {
        b.sreg32(s);
        CHECK(last(b) == "mov.u32 %r" + std::to_string(n++) + ", " + name + ";");
    }
    b.clock64();
    CHECK(last(b) == "mov.u64 %rd0, %clock64;");
    b.globaltimer();
    CHECK(last(b) == "mov.u64 %rd1, %globaltimer;");
    // The shorthands read the same registers.
    b.tid_x();
    CHECK(last(b) == "mov.u32 %r14, %tid.x;");
    b.ctaid_y();
    CHECK(last(b) == "mov.u32 %r15, %ctaid.y;");
    b.laneid();
    CHECK(last(b) == "mov.u32 %r16, %laneid;");

    size_t at = b.size();
    b.global_index_x();
    CHECK(since(b, at) ==
          "mov.u32 %r17, %ctaid.x;\n"
          "mov.u32 %r18, %ntid.x;\n"
          "mov.u32 %r19, %tid.x;\n"
          "mad.lo.u32 %r20, %r17, %r18, %r19;");
}

TEST_CASE("pack, unpack and bitcast print as mov.bN") {
    KernelBuilder b("k");
    auto lo = b.reg<b16>();
    auto hi = b.reg<b16>();
    b.pack<b32, b16>(lo, hi);
    CHECK(last(b) == "mov.b32 %b0, {%bh0, %bh1};");
    auto h0 = b.reg<f16>();
    auto h1 = b.reg<f16>();
    b.pack<f16x2, f16>(h0, h1);
    CHECK(last(b) == "mov.b32 %hh0, {%h0, %h1};");
    auto u0 = b.reg<u32>();
    auto u1 = b.reg<u32>();
    b.pack<u64, u32>(u0, u1);
    CHECK(last(b) == "mov.b64 %rd0, {%r0, %r1};");

    auto bf = b.reg<bf16x2>();
    auto halves = b.unpack<bf16, bf16x2>(bf);
    CHECK(last(b) == "mov.b32 {%bf0, %bf1}, %bff0;");
    CHECK(halves[0].id != halves[1].id);
    auto w = b.reg<b64>();
    b.unpack<u32, b64>(w);
    CHECK(last(b) == "mov.b64 {%r2, %r3}, %bd0;");

    auto f = b.reg<f32>();
    b.bitcast<u32, f32>(f);
    CHECK(last(b) == "mov.b32 %r4, %f0;");
    auto s = b.reg<s64>();
    b.bitcast<f64, s64>(s);
    CHECK(last(b) == "mov.b64 %fd0, %sd0;");
    auto rh = b.reg<u16>();
    b.bitcast<f16, u16>(rh);
    CHECK(last(b) == "mov.b16 %h2, %rh0;");
    b.bitcast<f16x2, bf16x2>(bf);
    CHECK(last(b) == "mov.b32 %hh1, %bff0;");
}

TEST_CASE("128-bit registers pack from and unpack to two 64-bit halves") {
    KernelBuilder b("k", Target{75});
    auto lo = b.reg<u64>();
    auto hi = b.reg<u64>();
    auto q = b.pack<b128, u64>(lo, hi);
    CHECK(last(b) == "mov.b128 %q0, {%rd0, %rd1};");
    b.unpack<b64, b128>(q);
    CHECK(last(b) == "mov.b128 {%bd0, %bd1}, %q0;");
    // .b128 registers exist from PTX ISA 8.3 on, so the module asks for it.
    CHECK(module_requirement(b.peek()).ptx == PtxVersion{8, 3});
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

TEST_CASE("cvt between f16 and f32/f64") {
    KernelBuilder b("k");
    auto h = b.reg<f16>();
    b.cvt<f32>(h);
    CHECK(last(b) == "cvt.f32.f16 %f0, %h0;");
    b.cvt<f32>(h, {.ftz = true});
    CHECK(last(b) == "cvt.ftz.f32.f16 %f1, %h0;");
    b.cvt<f64>(h);
    CHECK(last(b) == "cvt.f64.f16 %fd0, %h0;");
    auto f = b.reg<f32>();
    const std::pair<Round, const char*> roundings[] = {{Round::rn, "rn"}, {Round::rz, "rz"}, {Round::rm, "rm"}, {Round::rp, "rp"}};
    int n = 1;
    for (auto [r, name] : roundings) {
        b.cvt<f16>(f, {.round = r});
        CHECK(last(b) == "cvt." + std::string(name) + ".f16.f32 %h" + std::to_string(n++) + ", %f2;");
    }
    b.cvt<f16>(f, {Round::rn, true, true});
    CHECK(last(b) == "cvt.rn.ftz.sat.f16.f32 %h5, %f2;");
    auto d = b.reg<f64>();
    b.cvt<f16>(d, {.round = Round::rn});
    CHECK(last(b) == "cvt.rn.f16.f64 %h6, %fd1;");
}

TEST_CASE("cvt between bf16 and f32 on sm_80") {
    KernelBuilder b("k", Target{80});
    auto f = b.reg<f32>();
    const std::pair<Round, const char*> roundings[] = {{Round::rn, "rn"}, {Round::rz, "rz"}, {Round::rm, "rm"}, {Round::rp, "rp"}};
    int n = 0;
    for (auto [r, name] : roundings) {
        b.cvt<bf16>(f, {.round = r});
        CHECK(last(b) == "cvt." + std::string(name) + ".bf16.f32 %bf" + std::to_string(n++) + ", %f0;");
    }
    b.cvt<bf16>(f, {.round = Round::rn, .ftz = true});
    CHECK(last(b) == "cvt.rn.ftz.bf16.f32 %bf4, %f0;");
    auto bf = b.reg<bf16>();
    b.cvt<f32>(bf);
    CHECK(last(b) == "cvt.f32.bf16 %f1, %bf5;");
    // cvt.rn.bf16.f32 came with PTX 7.0, cvt.f32.bf16 with 7.1.
    CHECK(module_requirement(b.peek()).str() == "sm_80 / PTX 7.1");
}

TEST_CASE("cvt between bf16 and everything else on sm_90") {
    KernelBuilder b("k", Target{90});
    auto h = b.reg<f16>();
    b.cvt<bf16>(h, {.round = Round::rn});
    CHECK(last(b) == "cvt.rn.bf16.f16 %bf0, %h0;");
    b.cvt<f16>(b.reg<bf16>(), {.round = Round::rz});
    CHECK(last(b) == "cvt.rz.f16.bf16 %h1, %bf1;");
    auto s = b.reg<s32>();
    b.cvt<bf16>(s, {.round = Round::rn});
    CHECK(last(b) == "cvt.rn.bf16.s32 %bf2, %s0;");
    b.cvt<s32>(b.reg<bf16>(), {.round = Round::rzi});
    CHECK(last(b) == "cvt.rzi.s32.bf16 %s1, %bf3;");
    b.cvt<f64>(b.reg<bf16>());
    CHECK(last(b) == "cvt.f64.bf16 %fd0, %bf4;");
    b.cvt<bf16>(b.reg<bf16>(), {.round = Round::rni});
    CHECK(last(b) == "cvt.rni.bf16.bf16 %bf6, %bf5;");
    b.cvt<f32>(b.reg<bf16>(), {.ftz = true});
    CHECK(last(b) == "cvt.ftz.f32.bf16 %f0, %bf7;");
}

TEST_CASE("cvt_pair packs two f32 values, the first into the upper half") {
    KernelBuilder b("k", Target{80});
    auto hi = b.reg<f32>();
    auto lo = b.reg<f32>();
    b.cvt_pair<f16x2>(hi, lo);
    CHECK(last(b) == "cvt.rn.f16x2.f32 %hh0, %f0, %f1;");
    b.cvt_pair<bf16x2>(hi, lo);
    CHECK(last(b) == "cvt.rn.bf16x2.f32 %bff0, %f0, %f1;");
    b.cvt_pair<f16x2>(hi, lo, {.round = Round::rz});
    CHECK(last(b) == "cvt.rz.f16x2.f32 %hh1, %f0, %f1;");
    b.cvt_pair<bf16x2>(lo, hi, {.round = Round::rz});
    CHECK(last(b) == "cvt.rz.bf16x2.f32 %bff1, %f1, %f0;");
}

TEST_CASE("cvt between integers: widening, narrowing, signedness, .sat") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    auto s = b.reg<s32>();
    b.cvt<u64>(u);
    CHECK(last(b) == "cvt.u64.u32 %rd0, %r0;");
    b.cvt<s64>(s);
    CHECK(last(b) == "cvt.s64.s32 %sd0, %s0;");
    b.cvt<u32>(b.reg<u64>());
    CHECK(last(b) == "cvt.u32.u64 %r1, %rd1;");
    b.cvt<s16>(s);
    CHECK(last(b) == "cvt.s16.s32 %sh0, %s0;");
    b.cvt<u32>(b.reg<u16>());
    CHECK(last(b) == "cvt.u32.u16 %r2, %rh0;");
    b.cvt<s32>(b.reg<s16>());
    CHECK(last(b) == "cvt.s32.s16 %s1, %sh1;");
    b.cvt<u32>(s);
    CHECK(last(b) == "cvt.u32.s32 %r3, %s0;");
    b.cvt<u16>(s, {.sat = true});
    CHECK(last(b) == "cvt.sat.u16.s32 %rh1, %s0;");
}

TEST_CASE("cvt to 8-bit types writes a 32- or 16-bit register") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    b.cvt<u8>(u);
    CHECK(last(b) == "cvt.u8.u32 %r1, %r0;");
    auto s = b.reg<s32>();
    b.cvt<s8>(s, {.sat = true});
    CHECK(last(b) == "cvt.sat.s8.s32 %s1, %s0;");
    b.cvt<u8>(b.reg<u16>());
    CHECK(last(b) == "cvt.u8.u16 %r2, %rh0;");
    b.cvt<u8>(b.reg<f32>(), {.round = Round::rzi, .sat = true});
    CHECK(last(b) == "cvt.rzi.sat.u8.f32 %r3, %f0;");
}

TEST_CASE("cvt between floats and integers with each rounding") {
    KernelBuilder b("k");
    auto f = b.reg<f32>();
    b.cvt<s32>(f, {.round = Round::rni});
    CHECK(last(b) == "cvt.rni.s32.f32 %s0, %f0;");
    b.cvt<u32>(f, {.round = Round::rzi});
    CHECK(last(b) == "cvt.rzi.u32.f32 %r0, %f0;");
    b.cvt<s64>(f, {.round = Round::rmi});
    CHECK(last(b) == "cvt.rmi.s64.f32 %sd0, %f0;");
    b.cvt<u64>(b.reg<f64>(), {.round = Round::rpi});
    CHECK(last(b) == "cvt.rpi.u64.f64 %rd0, %fd0;");
    b.cvt<s32>(f, {Round::rzi, true, true});
    CHECK(last(b) == "cvt.rzi.ftz.sat.s32.f32 %s1, %f0;");
    b.cvt<f32>(b.reg<s32>(), {.round = Round::rn});
    CHECK(last(b) == "cvt.rn.f32.s32 %f1, %s2;");
    b.cvt<f64>(b.reg<u64>(), {.round = Round::rz});
    CHECK(last(b) == "cvt.rz.f64.u64 %fd1, %rd1;");
    b.cvt<f32>(b.reg<u16>(), {.round = Round::rm});
    CHECK(last(b) == "cvt.rm.f32.u16 %f2, %rh0;");
    b.cvt<f16>(b.reg<s32>(), {.round = Round::rn});
    CHECK(last(b) == "cvt.rn.f16.s32 %h0, %s3;");
    b.cvt<s16>(b.reg<f16>(), {.round = Round::rni});
    CHECK(last(b) == "cvt.rni.s16.f16 %sh0, %h1;");
}

TEST_CASE("cvt between f32 and f64, and rounding to an integral value") {
    KernelBuilder b("k");
    auto f = b.reg<f32>();
    auto d = b.reg<f64>();
    b.cvt<f64>(f);
    CHECK(last(b) == "cvt.f64.f32 %fd1, %f0;");
    b.cvt<f64>(f, {.ftz = true});
    CHECK(last(b) == "cvt.ftz.f64.f32 %fd2, %f0;");
    b.cvt<f32>(d, {Round::rn, true, true});
    CHECK(last(b) == "cvt.rn.ftz.sat.f32.f64 %f1, %fd0;");
    b.cvt<f32>(f, {.round = Round::rni});
    CHECK(last(b) == "cvt.rni.f32.f32 %f2, %f0;");
    b.cvt<f32>(f, {.round = Round::rzi, .ftz = true});
    CHECK(last(b) == "cvt.rzi.ftz.f32.f32 %f3, %f0;");
    b.cvt<f32>(f, {.ftz = true, .sat = true});
    CHECK(last(b) == "cvt.ftz.sat.f32.f32 %f4, %f0;");
    b.cvt<f64>(d, {.round = Round::rmi});
    CHECK(last(b) == "cvt.rmi.f64.f64 %fd3, %fd0;");
}

TEST_CASE("cvta to and from the global window") {
    KernelBuilder b("k");
    auto raw = b.reg<u64>();
    GlobalPtr g = b.cvta_to_global(raw);
    CHECK(last(b) == "cvta.to.global.u64 %rd1, %rd0;");
    b.cvta_generic(g);
    CHECK(last(b) == "cvta.global.u64 %rd2, %rd1;");
    // A pointer parameter is loaded and converted where it is declared.
    size_t at = b.size();
    b.param_ptr("x", Type::f32);
    CHECK(since(b, at) == "ld.param.u64 %rd3, [param_x];\ncvta.to.global.u64 %rd4, %rd3;");
}

// ---------------------------------------------------------------------------------------------
// Approximate and correctly rounded math
// ---------------------------------------------------------------------------------------------

TEST_CASE("ex2, lg2, sin and cos are approximate") {
    KernelBuilder b("k", Target{90});
    auto f = b.reg<f32>();
    b.ex2<f32>(f);
    CHECK(last(b) == "ex2.approx.f32 %f1, %f0;");
    b.ex2<f32>(f, {.ftz = true});
    CHECK(last(b) == "ex2.approx.ftz.f32 %f2, %f0;");
    b.lg2(f);
    CHECK(last(b) == "lg2.approx.f32 %f3, %f0;");
    b.lg2(f, {.ftz = true});
    CHECK(last(b) == "lg2.approx.ftz.f32 %f4, %f0;");
    b.sin(f);
    CHECK(last(b) == "sin.approx.f32 %f5, %f0;");
    b.cos(f, {.ftz = true});
    CHECK(last(b) == "cos.approx.ftz.f32 %f6, %f0;");
    b.ex2<f16>(b.reg<f16>());
    CHECK(last(b) == "ex2.approx.f16 %h1, %h0;");
    b.ex2<f16x2>(b.reg<f16x2>());
    CHECK(last(b) == "ex2.approx.f16x2 %hh1, %hh0;");
    b.ex2<bf16>(b.reg<bf16>(), {.ftz = true});
    CHECK(last(b) == "ex2.approx.ftz.bf16 %bf1, %bf0;");
    b.ex2<bf16x2>(b.reg<bf16x2>(), {.ftz = true});
    CHECK(last(b) == "ex2.approx.ftz.bf16x2 %bff1, %bff0;");
}

TEST_CASE("rcp and sqrt: approximate by default, correctly rounded with a rounding mode; rsqrt") {
    KernelBuilder b("k");
    auto f = b.reg<f32>();
    auto d = b.reg<f64>();
    b.rcp<f32>(f);
    CHECK(last(b) == "rcp.approx.f32 %f1, %f0;");
    b.rcp<f32>(f, {.ftz = true});
    CHECK(last(b) == "rcp.approx.ftz.f32 %f2, %f0;");
    b.rcp<f32>(f, {.round = Round::rn});
    CHECK(last(b) == "rcp.rn.f32 %f3, %f0;");
    b.rcp<f32>(f, {.round = Round::rp, .ftz = true});
    CHECK(last(b) == "rcp.rp.ftz.f32 %f4, %f0;");
    b.rcp<f64>(d, {.round = Round::rz});
    CHECK(last(b) == "rcp.rz.f64 %fd1, %fd0;");
    b.rcp<f64>(d, {.ftz = true});
    CHECK(last(b) == "rcp.approx.ftz.f64 %fd2, %fd0;");
    b.sqrt<f32>(f);
    CHECK(last(b) == "sqrt.approx.f32 %f5, %f0;");
    b.sqrt<f32>(f, {.round = Round::rn, .ftz = true});
    CHECK(last(b) == "sqrt.rn.ftz.f32 %f6, %f0;");
    b.sqrt<f64>(d, {.round = Round::rm});
    CHECK(last(b) == "sqrt.rm.f64 %fd3, %fd0;");
    b.rsqrt<f32>(f);
    CHECK(last(b) == "rsqrt.approx.f32 %f7, %f0;");
    b.rsqrt<f32>(f, {.ftz = true});
    CHECK(last(b) == "rsqrt.approx.ftz.f32 %f8, %f0;");
    b.rsqrt<f64>(d);
    CHECK(last(b) == "rsqrt.approx.f64 %fd4, %fd0;");
}

TEST_CASE("tanh for f32, f16, f16x2, bf16 and bf16x2") {
    KernelBuilder b("k", Target{90});
    b.tanh<f32>(b.reg<f32>());
    CHECK(last(b) == "tanh.approx.f32 %f1, %f0;");
    b.tanh<f16>(b.reg<f16>());
    CHECK(last(b) == "tanh.approx.f16 %h1, %h0;");
    b.tanh<f16x2>(b.reg<f16x2>());
    CHECK(last(b) == "tanh.approx.f16x2 %hh1, %hh0;");
    b.tanh<bf16>(b.reg<bf16>());
    CHECK(last(b) == "tanh.approx.bf16 %bf1, %bf0;");
    b.tanh<bf16x2>(b.reg<bf16x2>());
    CHECK(last(b) == "tanh.approx.bf16x2 %bff1, %bff0;");
}

// ---------------------------------------------------------------------------------------------
// Loads and stores
// ---------------------------------------------------------------------------------------------

TEST_CASE("global loads and stores of every width, 8 to 128 bits") {
    KernelBuilder b("k", Target{75});
    GlobalPtr g{b.reg<u64>()};
    // 8-bit values travel in 32-bit registers.
    b.ld<u8>(g[1]);
    CHECK(last(b) == "ld.global.u8 %r0, [%rd0+1];");
    b.ld<s8>(g[2]);
    CHECK(last(b) == "ld.global.s8 %s0, [%rd0+2];");
    b.ld<b8>(g[3]);
    CHECK(last(b) == "ld.global.b8 %b0, [%rd0+3];");
    b.ld<u16>(g[4]);
    CHECK(last(b) == "ld.global.u16 %rh0, [%rd0+4];");
    b.ld<s16>(g[-2]);
    CHECK(last(b) == "ld.global.s16 %sh0, [%rd0+-2];");
    b.ld<f32>(g[0]);
    CHECK(last(b) == "ld.global.f32 %f0, [%rd0];");
    b.ld<u64>(g[8]);
    CHECK(last(b) == "ld.global.u64 %rd1, [%rd0+8];");
    b.ld<f64>(g[16]);
    CHECK(last(b) == "ld.global.f64 %fd0, [%rd0+16];");
    auto q = b.ld<b128>(g[32]);
    CHECK(last(b) == "ld.global.b128 %q0, [%rd0+32];");
    // ld and st have no half types: halves load and store as bits.
    b.ld<f16>(g[2]);
    CHECK(last(b) == "ld.global.b16 %h0, [%rd0+2];");
    b.ld<bf16x2>(g[4]);
    CHECK(last(b) == "ld.global.b32 %bff0, [%rd0+4];");

    b.st<u8>(g[1], b.reg<u32>());
    CHECK(last(b) == "st.global.u8 [%rd0+1], %r1;");
    b.st<s8>(g[1], -1);
    CHECK(last(b) == "st.global.s8 [%rd0+1], -1;");
    b.st<u16>(g[2], 7);
    CHECK(last(b) == "st.global.u16 [%rd0+2], 7;");
    b.st<f32>(g[0], 1.0f);
    CHECK(last(b) == "st.global.f32 [%rd0], 0f3F800000;");
    b.st(g[8], b.reg<u64>());
    CHECK(last(b) == "st.global.u64 [%rd0+8], %rd2;");
    b.st(g[16], b.reg<f64>());
    CHECK(last(b) == "st.global.f64 [%rd0+16], %fd1;");
    b.st(g[32], q);
    CHECK(last(b) == "st.global.b128 [%rd0+32], %q0;");
    b.st(g[0], b.reg<f16>());
    CHECK(last(b) == "st.global.b16 [%rd0], %h1;");
    b.st(g[0], b.reg<f16x2>());
    CHECK(last(b) == "st.global.b32 [%rd0], %hh0;");
    CHECK(module_requirement(b.peek()).str() == "sm_75 / PTX 8.3");  // for .b128
}

TEST_CASE("global loads: .nc, cache operators and L1 eviction priorities") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    b.ld<f32>(g[0], {.nc = true});
    CHECK(last(b) == "ld.global.nc.f32 %f0, [%rd0];");
    const std::pair<CacheOp, const char*> cache_ops[] = {
        {CacheOp::ca, "ca"}, {CacheOp::cg, "cg"}, {CacheOp::cs, "cs"}, {CacheOp::lu, "lu"}, {CacheOp::cv, "cv"}};
    int n = 0;
    for (auto [c, name] : cache_ops) {
        b.ld<u32>(g[4], {.cache = c});
        CHECK(last(b) == "ld.global." + std::string(name) + ".u32 %r" + std::to_string(n++) + ", [%rd0+4];");
    }
    // The PTX grammar is ld.global{.cop}.nc: the cache operator comes first.
    b.ld<u32>(g[0], {.cache = CacheOp::cg, .nc = true});
    CHECK(last(b) == "ld.global.cg.nc.u32 %r5, [%rd0];");
    const std::pair<Evict, const char*> evictions[] = {
        {Evict::L1_evict_normal, "L1::evict_normal"}, {Evict::L1_evict_unchanged, "L1::evict_unchanged"},
        {Evict::L1_evict_first, "L1::evict_first"},   {Evict::L1_evict_last, "L1::evict_last"},
        {Evict::L1_no_allocate, "L1::no_allocate"}};
    n = 6;
    for (auto [e, name] : evictions) {
        b.ld<u32>(g[0], {.evict = e});
        CHECK(last(b) == "ld.global." + std::string(name) + ".u32 %r" + std::to_string(n++) + ", [%rd0];");
    }
    b.ld<f32>(g[0], {.evict = Evict::L1_evict_last, .nc = true});
    CHECK(last(b) == "ld.global.nc.L1::evict_last.f32 %f1, [%rd0];");
    b.ld_v<u32, 4>(g[0], {.evict = Evict::L1_no_allocate, .nc = true});
    CHECK(last(b) == "ld.global.nc.L1::no_allocate.v4.u32 {%r11, %r12, %r13, %r14}, [%rd0];");
    CHECK(module_requirement(b.peek()).str() == "sm_75 / PTX 7.4");  // eviction priorities
}

TEST_CASE("L2 prefetch: the size hint on global loads and prefetch.global.L2") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    b.ld_v<u32, 4>(g[16], {.evict = Evict::L1_evict_first, .nc = true, .l2_prefetch = 256});
    CHECK(last(b) == "ld.global.nc.L1::evict_first.L2::256B.v4.u32 {%r0, %r1, %r2, %r3}, [%rd0+16];");
    b.ld<u32>(g[0], {.l2_prefetch = 64});
    CHECK(last(b) == "ld.global.L2::64B.u32 %r4, [%rd0];");
    KernelBuilder turing("t");
    turing.ld<u32>(GlobalPtr{turing.reg<u64>()}[0], {.l2_prefetch = 128});
    CHECK(module_requirement(turing.peek()).str() == "sm_75 / PTX 7.4");
    CHECK(module_requirement(b.peek()).str() == "sm_80 / PTX 7.4");  // ptxas takes .L2::256B from sm_80
    b.prefetch_l2(g[128]);
    CHECK(last(b) == "prefetch.global.L2 [%rd0+128];");
    KernelBuilder plain("p");
    plain.prefetch_l2(GlobalPtr{plain.reg<u64>()}[0]);
    CHECK(module_requirement(plain.peek()).str() == module_requirement(KernelBuilder("e").peek()).str());  // any target
}

TEST_CASE("global stores: cache operators and L1 eviction priorities") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    const std::pair<CacheOp, const char*> cache_ops[] = {
        {CacheOp::wb, "wb"}, {CacheOp::cg, "cg"}, {CacheOp::cs, "cs"}, {CacheOp::wt, "wt"}};
    for (auto [c, name] : cache_ops) {
        b.st<u32>(g[0], 1u, {.cache = c});
        CHECK(last(b) == "st.global." + std::string(name) + ".u32 [%rd0], 1;");
    }
    const std::pair<Evict, const char*> evictions[] = {
        {Evict::L1_evict_normal, "L1::evict_normal"}, {Evict::L1_evict_unchanged, "L1::evict_unchanged"},
        {Evict::L1_evict_first, "L1::evict_first"}, {Evict::L1_evict_last, "L1::evict_last"}};
    for (auto [e, name] : evictions) {
        b.st<f32>(g[4], 0.0f, {.evict = e});
        CHECK(last(b) == "st.global." + std::string(name) + ".f32 [%rd0+4], 0f00000000;");
    }
}

TEST_CASE("volatile loads and stores") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    SharedPtr s{b.reg<u32>()};
    b.ld<u32>(g[0], {.vol = true});
    CHECK(last(b) == "ld.volatile.global.u32 %r1, [%rd0];");
    b.st<u32>(g[0], 1u, {.vol = true});
    CHECK(last(b) == "st.volatile.global.u32 [%rd0], 1;");
    b.ld<f32>(s[4], {.vol = true});
    CHECK(last(b) == "ld.volatile.shared.f32 %f0, [%r0+4];");
    b.st<f32>(s[4], 0.0f, {.vol = true});
    CHECK(last(b) == "st.volatile.shared.f32 [%r0+4], 0f00000000;");
    b.ld_v<u32, 2>(g[8], {.vol = true});
    CHECK(last(b) == "ld.volatile.global.v2.u32 {%r2, %r3}, [%rd0+8];");
    GenericPtr p{b.reg<u64>()};
    b.ld<u32>(p[0], {.vol = true});
    CHECK(last(b) == "ld.volatile.u32 %r4, [%rd1];");
}

TEST_CASE("vector loads and stores, v2 and v4") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    b.ld_v<f32, 4>(g[16]);
    CHECK(last(b) == "ld.global.v4.f32 {%f0, %f1, %f2, %f3}, [%rd0+16];");
    b.ld_v<u32, 2>(g[0], {.nc = true});
    CHECK(last(b) == "ld.global.nc.v2.u32 {%r0, %r1}, [%rd0];");
    b.ld_v<f64, 2>(g[0], {.cache = CacheOp::cs});
    CHECK(last(b) == "ld.global.cs.v2.f64 {%fd0, %fd1}, [%rd0];");
    b.ld_v<u8, 4>(g[0]);
    CHECK(last(b) == "ld.global.v4.u8 {%r2, %r3, %r4, %r5}, [%rd0];");
    b.ld_v<u16, 4>(g[0]);
    CHECK(last(b) == "ld.global.v4.u16 {%rh0, %rh1, %rh2, %rh3}, [%rd0];");
    b.ld_v<f16x2, 4>(g[0]);
    CHECK(last(b) == "ld.global.v4.b32 {%hh0, %hh1, %hh2, %hh3}, [%rd0];");
    b.ld_v<f16, 2>(g[0]);
    CHECK(last(b) == "ld.global.v2.b16 {%h0, %h1}, [%rd0];");
    b.st_v<u32, 4>(g[0], {b.reg<u32>(), b.reg<u32>(), b.reg<u32>(), b.reg<u32>()});
    CHECK(last(b) == "st.global.v4.u32 [%rd0], {%r6, %r7, %r8, %r9};");
    b.st_v<u16, 2>(g[4], {b.reg<u16>(), b.reg<u16>()}, {.cache = CacheOp::cs});
    CHECK(last(b) == "st.global.cs.v2.u16 [%rd0+4], {%rh4, %rh5};");
    b.st_v<s8, 2>(g[2], {b.reg<s32>(), b.reg<s32>()});
    CHECK(last(b) == "st.global.v2.s8 [%rd0+2], {%s0, %s1};");
}

TEST_CASE("shared memory: arrays by name, pointers, dynamic shared memory") {
    KernelBuilder b("k");
    SharedArray sm = b.shared_array("smem", 1024);
    b.ld<u32>(sm[16]);
    CHECK(last(b) == "ld.shared.u32 %r0, [smem+16];");
    b.st<f32>(sm[0], 1.0f);
    CHECK(last(b) == "st.shared.f32 [smem], 0f3F800000;");
    SharedPtr p = b.addr_of(sm);
    CHECK(last(b) == "mov.u32 %r1, smem;");
    b.ld<f64>(p[8]);
    CHECK(last(b) == "ld.shared.f64 %fd0, [%r1+8];");
    b.st<u16>(p[2], b.reg<u16>());
    CHECK(last(b) == "st.shared.u16 [%r1+2], %rh0;");
    b.ld_v<f32, 4>(sm[0]);
    CHECK(last(b) == "ld.shared.v4.f32 {%f0, %f1, %f2, %f3}, [smem];");
    auto tid = b.reg<u32>();
    b.index(p, tid, 4);
    CHECK(last(b) == "mad.lo.u32 %r3, %r2, 4, %r1;");
    b.offset(p, 64);
    CHECK(last(b) == "add.u32 %r4, %r1, 64;");

    SharedArray dyn = b.dynamic_shared();
    b.ld<u32>(dyn[4]);
    CHECK(last(b) == "ld.shared.u32 %r5, [dynamic_smem+4];");
    b.addr_of(dyn);
    CHECK(last(b) == "mov.u32 %r6, dynamic_smem;");
}

TEST_CASE("local memory and kernel parameters") {
    KernelBuilder b("k");
    LocalArray lm = b.local_array("lmem", 64);
    b.ld<u32>(lm[0]);
    CHECK(last(b) == "ld.local.u32 %r0, [lmem];");
    b.st<u32>(lm[4], 1u);
    CHECK(last(b) == "st.local.u32 [lmem+4], 1;");
    b.st_v<f32, 2>(lm[8], {b.reg<f32>(), b.reg<f32>()});
    CHECK(last(b) == "st.local.v2.f32 [lmem+8], {%f0, %f1};");

    b.param<u32>("n");
    CHECK(last(b) == "ld.param.u32 %r1, [param_n];");
    b.param<f64>("scale");
    CHECK(last(b) == "ld.param.f64 %fd0, [param_scale];");
    b.param<s64>("stride");
    CHECK(last(b) == "ld.param.s64 %sd0, [param_stride];");
    b.param<f16>("h");
    CHECK(last(b) == "ld.param.b16 %h0, [param_h];");
    b.param<bf16x2>("pair");
    CHECK(last(b) == "ld.param.b32 %bff0, [param_pair];");
}

TEST_CASE("global address arithmetic") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    auto i = b.reg<u32>();
    b.index(g, i, 4);
    CHECK(last(b) == "mad.wide.u32 %rd1, %r0, 4, %rd0;");
    b.offset(g, 256);
    CHECK(last(b) == "add.u64 %rd2, %rd0, 256;");
}

// ---------------------------------------------------------------------------------------------
// Warp-level
// ---------------------------------------------------------------------------------------------

TEST_CASE("shfl.sync in all four modes, with and without the valid-lane predicate") {
    KernelBuilder b("k");
    auto r = b.reg<u32>();
    b.shfl_up<u32>(r, 1);
    CHECK(last(b) == "shfl.sync.up.b32 %r1, %r0, 1, 0, 0xffffffff;");
    auto f = b.reg<f32>();
    b.shfl_down<f32>(f, 16);
    CHECK(last(b) == "shfl.sync.down.b32 %f1, %f0, 16, 31, 0xffffffff;");
    auto s = b.reg<s32>();
    b.shfl_bfly<s32>(s, 8);
    CHECK(last(b) == "shfl.sync.bfly.b32 %s1, %s0, 8, 31, 0xffffffff;");
    auto w = b.reg<b32>();
    b.shfl_idx<b32>(w, r, 0xffffu);
    CHECK(last(b) == "shfl.sync.idx.b32 %b1, %b0, %r0, 31, 0xffff;");
    Pred valid;
    b.shfl<u32>(ShflMode::down, r, 2, 0x1f, 0xffffffffu, &valid);
    CHECK(last(b) == "shfl.sync.down.b32 %r2|%p0, %r0, 2, 31, 0xffffffff;");
    CHECK(valid.id != kNoReg);
    b.shfl<f16x2>(ShflMode::idx, b.reg<f16x2>(), r, 0x1f, 0xfu);
    CHECK(last(b) == "shfl.sync.idx.b32 %hh1, %hh0, %r0, 31, 0xf;");
}

TEST_CASE("vote.sync all, any, uni, ballot, and activemask") {
    KernelBuilder b("k");
    Pred p = b.pred();
    b.vote_all(p);
    CHECK(last(b) == "vote.sync.all.pred %p1, %p0, 0xffffffff;");
    b.vote_any(!p);
    CHECK(last(b) == "vote.sync.any.pred %p2, !%p0, 0xffffffff;");
    b.vote_uni(p, 0xffu);
    CHECK(last(b) == "vote.sync.uni.pred %p3, %p0, 0xff;");
    b.vote_ballot(p);
    CHECK(last(b) == "vote.sync.ballot.b32 %r0, %p0, 0xffffffff;");
    b.activemask();
    CHECK(last(b) == "activemask.b32 %r1;");
}

TEST_CASE("redux.sync: add, min, max on u32/s32; and, or, xor as b32") {
    KernelBuilder b("k", Target{80});
    auto u = b.reg<u32>();
    auto s = b.reg<s32>();
    b.redux<u32>(AtomOp::add, u);
    CHECK(last(b) == "redux.sync.add.u32 %r1, %r0, 0xffffffff;");
    b.redux<s32>(AtomOp::min, s);
    CHECK(last(b) == "redux.sync.min.s32 %s1, %s0, 0xffffffff;");
    b.redux<u32>(AtomOp::max, u, 0xffu);
    CHECK(last(b) == "redux.sync.max.u32 %r2, %r0, 0xff;");
    b.redux<b32>(AtomOp::and_, b.reg<b32>());
    CHECK(last(b) == "redux.sync.and.b32 %b1, %b0, 0xffffffff;");
    b.redux<u32>(AtomOp::or_, u);
    CHECK(last(b) == "redux.sync.or.b32 %r3, %r0, 0xffffffff;");
    b.redux<s32>(AtomOp::xor_, s);
    CHECK(last(b) == "redux.sync.xor.b32 %s2, %s0, 0xffffffff;");
}

TEST_CASE("dp4a and dp2a with every signedness combination") {
    KernelBuilder b("k");
    auto u = b.reg<u32>();
    auto s = b.reg<s32>();
    // The accumulator is unsigned only when both sources are.
    b.dp4a(u, u, 0u);
    CHECK(last(b) == "dp4a.u32.u32 %r1, %r0, %r0, 0;");
    b.dp4a(u, s, 0);
    CHECK(last(b) == "dp4a.u32.s32 %s1, %r0, %s0, 0;");
    b.dp4a(s, u, s);
    CHECK(last(b) == "dp4a.s32.u32 %s2, %s0, %r0, %s0;");
    b.dp4a(s, s, -1);
    CHECK(last(b) == "dp4a.s32.s32 %s3, %s0, %s0, -1;");
    b.dp2a(DpHalf::lo, u, u, u);
    CHECK(last(b) == "dp2a.lo.u32.u32 %r2, %r0, %r0, %r0;");
    b.dp2a(DpHalf::hi, u, u, 5u);
    CHECK(last(b) == "dp2a.hi.u32.u32 %r3, %r0, %r0, 5;");
    b.dp2a(DpHalf::lo, u, s, s);
    CHECK(last(b) == "dp2a.lo.u32.s32 %s4, %r0, %s0, %s0;");
    b.dp2a(DpHalf::hi, s, u, 0);
    CHECK(last(b) == "dp2a.hi.s32.u32 %s5, %s0, %r0, 0;");
    b.dp2a(DpHalf::lo, s, s, s);
    CHECK(last(b) == "dp2a.lo.s32.s32 %s6, %s0, %s0, %s0;");
}

// ---------------------------------------------------------------------------------------------
// Synchronisation
// ---------------------------------------------------------------------------------------------

TEST_CASE("bar.sync, bar.arrive and bar.warp.sync") {
    KernelBuilder b("k");
    b.bar_sync();
    CHECK(last(b) == "bar.sync 0;");
    b.bar_sync(1, 64);
    CHECK(last(b) == "bar.sync 1, 64;");
    b.bar_sync(15, 1024);
    CHECK(last(b) == "bar.sync 15, 1024;");
    b.bar_arrive(2, 128);
    CHECK(last(b) == "bar.arrive 2, 128;");
    b.bar_warp_sync();
    CHECK(last(b) == "bar.warp.sync 0xffffffff;");
    b.bar_warp_sync(0xffu);
    CHECK(last(b) == "bar.warp.sync 0xff;");
}

TEST_CASE("membar and fence at each scope") {
    KernelBuilder b("k");
    b.membar(Scope::cta);
    CHECK(last(b) == "membar.cta;");
    b.membar(Scope::gpu);
    CHECK(last(b) == "membar.gl;");  // PTX spells the GPU level .gl for membar
    b.membar(Scope::sys);
    CHECK(last(b) == "membar.sys;");
    b.fence(FenceSem::sc, Scope::cta);
    CHECK(last(b) == "fence.sc.cta;");
    b.fence(FenceSem::acq_rel, Scope::gpu);
    CHECK(last(b) == "fence.acq_rel.gpu;");
    b.fence(FenceSem::sc, Scope::sys);
    CHECK(last(b) == "fence.sc.sys;");
}

// ---------------------------------------------------------------------------------------------
// Atomics and reductions
// ---------------------------------------------------------------------------------------------

TEST_CASE("atom in global memory") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    b.atom<u32>(AtomOp::add, g[0], 1u);
    CHECK(last(b) == "atom.global.add.u32 %r0, [%rd0], 1;");
    b.atom<s32>(AtomOp::add, g[0], -1);
    CHECK(last(b) == "atom.global.add.s32 %s0, [%rd0], -1;");
    b.atom<f32>(AtomOp::add, g[4], 1.0f);
    CHECK(last(b) == "atom.global.add.f32 %f0, [%rd0+4], 0f3F800000;");
    b.atom<f64>(AtomOp::add, g[8], b.reg<f64>());
    CHECK(last(b) == "atom.global.add.f64 %fd1, [%rd0+8], %fd0;");
    b.atom<u64>(AtomOp::add, g[8], b.reg<u64>());
    CHECK(last(b) == "atom.global.add.u64 %rd2, [%rd0+8], %rd1;");
    b.atom<s32>(AtomOp::min, g[0], -1);
    CHECK(last(b) == "atom.global.min.s32 %s1, [%rd0], -1;");
    b.atom<u32>(AtomOp::max, g[0], 5u);
    CHECK(last(b) == "atom.global.max.u32 %r1, [%rd0], 5;");
    b.atom<s64>(AtomOp::max, g[0], b.reg<s64>());
    CHECK(last(b) == "atom.global.max.s64 %sd1, [%rd0], %sd0;");
    b.atom<u64>(AtomOp::min, g[0], 0u);
    CHECK(last(b) == "atom.global.min.u64 %rd3, [%rd0], 0;");
    b.atom<b32>(AtomOp::exch, g[0], b.reg<b32>());
    CHECK(last(b) == "atom.global.exch.b32 %b1, [%rd0], %b0;");
    b.atom<b64>(AtomOp::exch, g[0], 0u);
    CHECK(last(b) == "atom.global.exch.b64 %bd0, [%rd0], 0x0;");
    b.atom<b32>(AtomOp::and_, g[0], 0xfu);
    CHECK(last(b) == "atom.global.and.b32 %b2, [%rd0], 0xf;");
    b.atom<b32>(AtomOp::or_, g[0], 1u);
    CHECK(last(b) == "atom.global.or.b32 %b3, [%rd0], 0x1;");
    b.atom<b64>(AtomOp::xor_, g[0], b.reg<b64>());
    CHECK(last(b) == "atom.global.xor.b64 %bd2, [%rd0], %bd1;");
    // cas is a bit operation whatever the value type.
    b.atom_cas<u32>(g[0], 0u, 1u);
    CHECK(last(b) == "atom.global.cas.b32 %r2, [%rd0], 0, 1;");
    auto cmp = b.reg<u64>();
    b.atom_cas<u64>(g[0], cmp, cmp);
    CHECK(last(b) == "atom.global.cas.b64 %rd5, [%rd0], %rd4, %rd4;");
}

TEST_CASE("atom in shared and generic memory") {
    KernelBuilder b("k");
    SharedPtr s{b.reg<u32>()};
    b.atom<u32>(AtomOp::add, s[4], 1u);
    CHECK(last(b) == "atom.shared.add.u32 %r1, [%r0+4], 1;");
    b.atom<f32>(AtomOp::add, s[0], 1.0f);
    CHECK(last(b) == "atom.shared.add.f32 %f0, [%r0], 0f3F800000;");
    b.atom_cas<b32>(s[0], b.reg<b32>(), 3u);
    CHECK(last(b) == "atom.shared.cas.b32 %b1, [%r0], %b0, 0x3;");
    SharedArray sm = b.shared_array("smem", 256);
    b.atom<u32>(AtomOp::max, sm[4], 9u);
    CHECK(last(b) == "atom.shared.max.u32 %r2, [smem+4], 9;");
    GenericPtr p{b.reg<u64>()};
    b.atom<s32>(AtomOp::min, p[0], 0);
    CHECK(last(b) == "atom.min.s32 %s0, [%rd0], 0;");
    b.atom<b64>(AtomOp::exch, p[8], b.reg<b64>());
    CHECK(last(b) == "atom.exch.b64 %bd1, [%rd0+8], %bd0;");
}

TEST_CASE("red in global, shared and generic memory") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    SharedPtr s{b.reg<u32>()};
    GenericPtr p{b.reg<u64>()};
    b.red<u32>(AtomOp::add, g[0], 1u);
    CHECK(last(b) == "red.global.add.u32 [%rd0], 1;");
    b.red<f32>(AtomOp::add, g[4], b.reg<f32>());
    CHECK(last(b) == "red.global.add.f32 [%rd0+4], %f0;");
    b.red<s32>(AtomOp::min, s[0], -5);
    CHECK(last(b) == "red.shared.min.s32 [%r0], -5;");
    b.red<u64>(AtomOp::max, p[0], b.reg<u64>());
    CHECK(last(b) == "red.max.u64 [%rd1], %rd2;");
    b.red<b32>(AtomOp::xor_, g[0], 1u);
    CHECK(last(b) == "red.global.xor.b32 [%rd0], 0x1;");
    b.red<f64>(AtomOp::add, g[8], 0.5);
    CHECK(last(b) == "red.global.add.f64 [%rd0+8], 0d3FE0000000000000;");
}

// ---------------------------------------------------------------------------------------------
// Tensor cores
// ---------------------------------------------------------------------------------------------

TEST_CASE("mma.sync m16n8k16 with f16 and bf16 inputs") {
    KernelBuilder b("k", Target{80});
    auto a = regs<f16x2, 4>(b);
    auto bb = regs<f16x2, 2>(b);
    auto c = regs<f32, 4>(b);
    auto d = b.mma_m16n8k16<f16x2>(a, bb, c);
    CHECK(last(b) ==
          "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f4, %f5, %f6, %f7}, {%hh0, %hh1, %hh2, %hh3}, "
          "{%hh4, %hh5}, {%f0, %f1, %f2, %f3};");
    auto a2 = regs<bf16x2, 4>(b);
    auto b2 = regs<bf16x2, 2>(b);
    b.mma_m16n8k16<bf16x2>(a2, b2, d);  // accumulate into the previous result
    CHECK(last(b) ==
          "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f8, %f9, %f10, %f11}, {%bff0, %bff1, %bff2, %bff3}, "
          "{%bff4, %bff5}, {%f4, %f5, %f6, %f7};");
}

TEST_CASE("mma.sync m16n8k32 with s8 inputs, with and without .satfinite") {
    KernelBuilder b("k", Target{80});
    auto a = regs<b32, 4>(b);
    auto bb = regs<b32, 2>(b);
    auto c = regs<s32, 4>(b);
    b.mma_m16n8k32_s8(a, bb, c);
    CHECK(last(b) ==
          "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%s4, %s5, %s6, %s7}, {%b0, %b1, %b2, %b3}, {%b4, %b5}, "
          "{%s0, %s1, %s2, %s3};");
    b.mma_m16n8k32_s8(a, bb, c, true);
    CHECK(last(b) ==
          "mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32 {%s8, %s9, %s10, %s11}, {%b0, %b1, %b2, %b3}, "
          "{%b4, %b5}, {%s0, %s1, %s2, %s3};");
}

TEST_CASE("griddepcontrol: wait and launch_dependents (sm_90)") {
    KernelBuilder b("k", Target{90});
    b.griddep_launch_dependents();
    CHECK(last(b) == "griddepcontrol.launch_dependents;");
    b.griddep_wait();
    CHECK(last(b) == "griddepcontrol.wait;");
}

TEST_CASE("mma.sync m8n8k16 with s8 inputs (sm_75)") {
    KernelBuilder b("k", Target{75});
    Reg<b32> a = b.reg<b32>();
    Reg<b32> bb = b.reg<b32>();
    auto c = regs<s32, 2>(b);
    b.mma_m8n8k16_s8(a, bb, c);
    CHECK(last(b) == "mma.sync.aligned.m8n8k16.row.col.s32.s8.s8.s32 {%s2, %s3}, {%b0}, {%b1}, {%s0, %s1};");
}

TEST_CASE("ldmatrix x1, x2, x4, with and without .trans") {
    KernelBuilder b("k", Target{75});
    SharedPtr s{b.reg<u32>()};
    b.ldmatrix<1>(s[0]);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%b0}, [%r0];");
    b.ldmatrix<1>(s[0], true);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%b1}, [%r0];");
    b.ldmatrix<2>(s[0]);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%b2, %b3}, [%r0];");
    b.ldmatrix<2>(s[0], true);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%b4, %b5}, [%r0];");
    b.ldmatrix<4, f16x2>(s[16]);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%hh0, %hh1, %hh2, %hh3}, [%r0+16];");
    b.ldmatrix<4>(s[0], true);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%b6, %b7, %b8, %b9}, [%r0];");
    SharedArray tile = b.shared_array("tile", 512);
    b.ldmatrix<2, bf16x2>(tile[32]);
    CHECK(last(b) == "ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%bff0, %bff1}, [tile+32];");
    CHECK(module_requirement(b.peek()).str() == "sm_75 / PTX 6.5");
}

// ---------------------------------------------------------------------------------------------
// Asynchronous copies
// ---------------------------------------------------------------------------------------------

TEST_CASE("cp.async .ca and .cg, with and without a source size; commit and wait") {
    KernelBuilder b("k", Target{80});
    SharedPtr s{b.reg<u32>()};
    GlobalPtr g{b.reg<u64>()};
    b.cp_async(s[0], g[0], 4);
    CHECK(last(b) == "cp.async.ca.shared.global [%r0], [%rd0], 4;");
    b.cp_async(s[0], g[0], 8);
    CHECK(last(b) == "cp.async.ca.shared.global [%r0], [%rd0], 8;");
    b.cp_async(s[16], g[16], 16);
    CHECK(last(b) == "cp.async.ca.shared.global [%r0+16], [%rd0+16], 16;");
    b.cp_async(s[0], g[0], 16, CpAsyncCache::cg);
    CHECK(last(b) == "cp.async.cg.shared.global [%r0], [%rd0], 16;");
    auto n = b.reg<u32>();
    b.cp_async(s[0], g[0], 16, CpAsyncCache::cg, n);
    CHECK(last(b) == "cp.async.cg.shared.global [%r0], [%rd0], 16, %r1;");
    b.cp_async(s[8], g[8], 8, CpAsyncCache::ca, n);
    CHECK(last(b) == "cp.async.ca.shared.global [%r0+8], [%rd0+8], 8, %r1;");
    SharedArray stage = b.shared_array("stage", 256);
    b.cp_async(stage[16], g[0], 16, CpAsyncCache::cg);
    CHECK(last(b) == "cp.async.cg.shared.global [stage+16], [%rd0], 16;");
    b.cp_async_commit();
    CHECK(last(b) == "cp.async.commit_group;");
    b.cp_async_wait(1);
    CHECK(last(b) == "cp.async.wait_group 1;");
    b.cp_async_wait(0);
    CHECK(last(b) == "cp.async.wait_group 0;");
    b.cp_async_wait_all();
    CHECK(last(b) == "cp.async.wait_all;");
}

// ---------------------------------------------------------------------------------------------
// Control flow
// ---------------------------------------------------------------------------------------------

TEST_CASE("labels, bra, bra.uni, ret, exit") {
    KernelBuilder b("k");
    Label top = b.label("top");
    b.bind(top);
    CHECK(last(b) == "$L_top_0:");
    b.bra(top);
    CHECK(last(b) == "bra $L_top_0;");
    b.bra(top, true);
    CHECK(last(b) == "bra.uni $L_top_0;");
    // Characters PTX does not allow in a label become '_'; the counter keeps names unique.
    Label odd = b.label("a-b c");
    b.bind(odd);
    CHECK(last(b) == "$L_a_b_c_1:");
    Label plain = b.label("");
    b.bind(plain);
    CHECK(last(b) == "$L_L_2:");
    b.ret();
    CHECK(last(b) == "ret;");
    b.exit();
    CHECK(last(b) == "exit;");
}

TEST_CASE("predicated blocks guard each instruction with @p or @!p") {
    KernelBuilder b("k");
    Pred p = b.pred();
    auto r = b.reg<u32>();
    Label l = b.label("out");
    size_t at = b.size();
    b.predicated(p, [&] {
        b.add<u32>(r, 1);
        b.st<u32>(GlobalPtr{b.reg<u64>()}[0], r);
    });
    CHECK(since(b, at) == "@%p0 add.u32 %r1, %r0, 1;\n@%p0 st.global.u32 [%rd0], %r0;");
    b.predicated(!p, [&] { b.bra(l); });
    CHECK(last(b) == "@!%p0 bra $L_out_0;");
    b.predicated(p, [&] { b.exit(); });
    CHECK(last(b) == "@%p0 exit;");
    // The guard ends with the block.
    b.add<u32>(r, 2);
    CHECK(last(b) == "add.u32 %r2, %r0, 2;");
    b.bind(l);
    CHECK(last(b) == "$L_out_0:");
}

TEST_CASE("if_ and if_else branch around their bodies") {
    KernelBuilder b("k");
    Pred p = b.pred();
    auto r = b.reg<u32>();
    size_t at = b.size();
    b.if_(p, [&] { b.add<u32>(r, 1); });
    CHECK(since(b, at) ==
          "@!%p0 bra $L_endif_0;\n"
          "add.u32 %r1, %r0, 1;\n"
          "$L_endif_0:");
    at = b.size();
    b.if_else(!p, [&] { b.add<u32>(r, 1); }, [&] { b.sub<u32>(r, 1); });
    CHECK(since(b, at) ==
          "@%p0 bra $L_else_1;\n"  // the branch skips `then` when the condition is false: !(!p) is p
          "add.u32 %r2, %r0, 1;\n"
          "bra $L_endif_2;\n"
          "$L_else_1:\n"
          "sub.u32 %r3, %r0, 1;\n"
          "$L_endif_2:");
}

TEST_CASE("while_ evaluates its condition at the top of each iteration") {
    KernelBuilder b("k");
    auto n = b.mov<u32>(0);
    size_t at = b.size();
    b.while_([&] { return b.setp<u32>(Cmp::lt, n, 10); }, [&] { b.mov(n, b.add<u32>(n, 1)); });
    CHECK(since(b, at) ==
          "$L_while_0:\n"
          "setp.lt.u32 %p0, %r0, 10;\n"
          "@!%p0 bra $L_while_end_1;\n"
          "add.u32 %r1, %r0, 1;\n"
          "mov.u32 %r0, %r1;\n"
          "bra $L_while_0;\n"
          "$L_while_end_1:");
    CHECK_NOTHROW(b.finish());
}

TEST_CASE("for_range leaves unrolling to ptxas with Unroll{0}") {
    KernelBuilder b("k");
    auto n = b.param<u32>("n");
    size_t at = b.size();
    int bodies = 0;
    b.for_range(0, n, 1, [&](Reg<u32> i) { ++bodies; b.add<u32>(i, 1); });
    CHECK(bodies == 1);
    CHECK(since(b, at) ==
          "mov.u32 %r1, 0;\n"
          "mov.u32 %r2, %r0;\n"
          "setp.lt.u32 %p0, %r1, %r2;\n"
          "@!%p0 bra $L_for_end_0;\n"
          "$L_for_1:\n"
          "add.u32 %r3, %r1, 1;\n"
          "add.u32 %r1, %r1, 1;\n"
          "setp.lt.u32 %p1, %r1, %r2;\n"
          "@%p1 bra $L_for_1;\n"
          "$L_for_end_0:");
    CHECK_NOTHROW(b.finish());
}

TEST_CASE("for_range with Unroll{1} forbids unrolling with .pragma \"nounroll\"") {
    KernelBuilder b("k");
    auto n = b.param<u32>("n");
    size_t at = b.size();
    b.for_range(n, 100, 4, [&](Reg<u32> i) { b.add<u32>(i, 1); }, Unroll{1});
    CHECK(since(b, at) ==
          "mov.u32 %r1, %r0;\n"
          "mov.u32 %r2, 100;\n"
          "setp.lt.u32 %p0, %r1, %r2;\n"
          "@!%p0 bra $L_for_end_0;\n"
          "$L_for_1:\n"
          ".pragma \"nounroll\";\n"
          "add.u32 %r3, %r1, 1;\n"
          "add.u32 %r1, %r1, 4;\n"
          "setp.lt.u32 %p1, %r1, %r2;\n"
          "@%p1 bra $L_for_1;\n"
          "$L_for_end_0:");
    CHECK_NOTHROW(b.finish());
}

TEST_CASE("for_range with Unroll{4} emits four bodies per step plus a remainder loop") {
    KernelBuilder b("k");
    auto n = b.param<u32>("n");
    size_t at = b.size();
    int bodies = 0;
    b.for_range(0, n, 2, [&](Reg<u32> i) { ++bodies; b.add<u32>(i, 1); }, Unroll{4});
    CHECK(bodies == 5);  // four in the unrolled loop, one in the remainder
    CHECK(since(b, at) ==
          "mov.u32 %r1, 0;\n"
          "mov.u32 %r2, %r0;\n"
          // room for four more iterations: i < limit and limit - i > 3 * step (no wrap-around)
          "setp.lt.u32 %p0, %r1, %r2;\n"
          "sub.u32 %r3, %r2, %r1;\n"
          "setp.gt.and.u32 %p1, %r3, 6, %p0;\n"
          "@!%p1 bra $L_for_unrolled_end_2;\n"
          "$L_for_unrolled_1:\n"
          "add.u32 %r4, %r1, 1;\n"
          "add.u32 %r1, %r1, 2;\n"
          "add.u32 %r5, %r1, 1;\n"
          "add.u32 %r1, %r1, 2;\n"
          "add.u32 %r6, %r1, 1;\n"
          "add.u32 %r1, %r1, 2;\n"
          "add.u32 %r7, %r1, 1;\n"
          "add.u32 %r1, %r1, 2;\n"
          "setp.lt.u32 %p2, %r1, %r2;\n"
          "sub.u32 %r8, %r2, %r1;\n"
          "setp.gt.and.u32 %p3, %r8, 6, %p2;\n"
          "@%p3 bra $L_for_unrolled_1;\n"
          "$L_for_unrolled_end_2:\n"
          "setp.lt.u32 %p4, %r1, %r2;\n"
          "@!%p4 bra $L_for_end_0;\n"
          "$L_for_3:\n"
          "add.u32 %r9, %r1, 1;\n"
          "add.u32 %r1, %r1, 2;\n"
          "setp.lt.u32 %p5, %r1, %r2;\n"
          "@%p5 bra $L_for_3;\n"
          "$L_for_end_0:");
    CHECK_NOTHROW(b.finish());
}

// ---------------------------------------------------------------------------------------------
// Whole modules
// ---------------------------------------------------------------------------------------------

TEST_CASE(".minnctapersm follows the CTA size and needs it") {
    KernelBuilder b("occupancy", Target{80});
    b.reqntid(128);
    b.min_ctas_per_sm(4);
    const std::string text = print_ptx(b.finish());
    CHECK(text.find(")\n.reqntid 128, 1, 1\n.minnctapersm 4\n{") != std::string::npos);
    KernelBuilder unbounded("unbounded", Target{80});
    unbounded.min_ctas_per_sm(2);
    CHECK_THROWS_WITH(unbounded.finish(), doctest::Contains(".minnctapersm 2 needs .reqntid or .maxntid"));
}

TEST_CASE("a whole module: header, parameters, registers, variables and body") {
    KernelBuilder b("scale", Target{80});
    auto x = b.param_ptr("x", Type::f32);
    auto n = b.param<u32>("n");
    auto h = b.param<f16>("h");
    b.reqntid(128);
    SharedArray tile = b.shared_array("tile", 512);
    b.dynamic_shared();
    auto i = b.global_index_x();
    b.if_(b.setp<u32>(Cmp::lt, i, n), [&] {
        auto px = b.index(x, i, 4);
        auto v = b.ld<f32>(px[0]);
        b.st<f32>(tile[0], v);
        b.st<f32>(px[0], b.mul<f32>(v, b.cvt<f32>(h)));
    });
    Kernel k = b.finish();
    CHECK(print_ptx(k) ==
          "//\n"
          "// Generated by ptxsmith's ptxgen: kernel scale\n"
          "//\n"
          "\n"
          ".version 6.3\n"
          ".target sm_75\n"  // nothing in it needs more than sm_75, whatever the builder allowed
          ".address_size 64\n"
          "\n"
          ".extern .shared .align 16 .b8 dynamic_smem[];\n"
          "\n"
          ".visible .entry scale(\n"
          "\t.param .u64 param_x,\t// f32*\n"
          "\t.param .u32 param_n,\n"
          "\t.param .b16 param_h\n"
          ")\n"
          ".reqntid 128, 1, 1\n"
          "{\n"
          "\t.reg .pred %p<1>;\n"
          "\t.reg .u32 %r<5>;\n"
          "\t.reg .u64 %rd<3>;\n"
          "\t.reg .b16 %h<1>;\n"
          "\t.reg .f32 %f<3>;\n"
          "\t.shared .align 16 .b8 tile[512];\n"
          "\n"
          "\tld.param.u64 %rd0, [param_x];\n"
          "\tcvta.to.global.u64 %rd1, %rd0;\n"
          "\tld.param.u32 %r0, [param_n];\n"
          "\tld.param.b16 %h0, [param_h];\n"
          "\tmov.u32 %r1, %ctaid.x;\n"
          "\tmov.u32 %r2, %ntid.x;\n"
          "\tmov.u32 %r3, %tid.x;\n"
          "\tmad.lo.u32 %r4, %r1, %r2, %r3;\n"
          "\tsetp.lt.u32 %p0, %r4, %r0;\n"
          "\t@!%p0 bra $L_endif_0;\n"
          "\tmad.wide.u32 %rd2, %r4, 4, %rd1;\n"
          "\tld.global.f32 %f0, [%rd2];\n"
          "\tst.shared.f32 [tile], %f0;\n"
          "\tcvt.f32.f16 %f1, %h0;\n"
          "\tmul.f32 %f2, %f0, %f1;\n"
          "\tst.global.f32 [%rd2], %f2;\n"
          "$L_endif_0:\n"
          "\tret;\n"
          "}\n");
}

TEST_CASE("print_ptx picks the lowest .target and .version that cover the module") {
    // The ".version ...\n.target ...\n" lines of a module.
    auto version_of = [](const std::string& ptx) {
        const size_t from = ptx.find(".version");
        return ptx.substr(from, ptx.find(".address_size") - from);
    };
    KernelBuilder base("k");
    base.add<u32>(base.mov<u32>(1), 1);
    Kernel k = base.finish();
    CHECK(version_of(print_ptx(k)) == ".version 6.3\n.target sm_75\n");

    KernelBuilder mma("k", Target{80});
    mma.mma_m16n8k16<f16x2>(regs<f16x2, 4>(mma), regs<f16x2, 2>(mma), regs<f32, 4>(mma));
    CHECK(version_of(print_ptx(mma.peek())) == ".version 7.0\n.target sm_80\n");

    // An explicit target raises .version to what that target needs: sm_120 came with PTX 8.7.
    PrintOptions o;
    o.target = Target{120};
    CHECK(version_of(print_ptx(k, o)) == ".version 8.7\n.target sm_120\n");
    o.target = Target{90, true};
    CHECK(version_of(print_ptx(k, o)) == ".version 8.0\n.target sm_90a\n");
    o.target = Target{86};
    o.version = PtxVersion{8, 5};
    CHECK(version_of(print_ptx(k, o)) == ".version 8.5\n.target sm_86\n");
}

TEST_CASE("min_ptx_for matches the ISA version that introduced each target") {
    // Checked against ptxas of CUDA 13: each is accepted at this version and rejected one lower.
    CHECK(min_ptx_for(Target{75}) == PtxVersion{6, 3});
    CHECK(min_ptx_for(Target{80}) == PtxVersion{7, 0});
    CHECK(min_ptx_for(Target{86}) == PtxVersion{7, 1});
    CHECK(min_ptx_for(Target{87}) == PtxVersion{7, 4});
    CHECK(min_ptx_for(Target{89}) == PtxVersion{7, 8});
    CHECK(min_ptx_for(Target{90}) == PtxVersion{7, 8});
    CHECK(min_ptx_for(Target{90, true}) == PtxVersion{8, 0});
    CHECK(min_ptx_for(Target{100}) == PtxVersion{8, 6});
    CHECK(min_ptx_for(Target{103}) == PtxVersion{8, 8});
    CHECK(min_ptx_for(Target{110}) == PtxVersion{9, 0});
    // Numbering is not chronological: sm_120 and sm_121 predate sm_110.
    CHECK(min_ptx_for(Target{120}) == PtxVersion{8, 7});
    CHECK(min_ptx_for(Target{121}) == PtxVersion{8, 8});
}

TEST_CASE("debug locations annotate each instruction with the builder call's file and line") {
    KernelBuilder b("k");
    const int line = __LINE__ + 1;
    b.add<u32>(b.mov<u32>(1), 1);
    PrintOptions o;
    o.debug_locations = true;
    std::string ptx = print_ptx(b.finish(), o);
    CHECK(ptx.find("\tadd.u32 %r1, %r0, 1;\t// test_instructions.cpp:" + std::to_string(line) + "\n") != std::string::npos);
}
