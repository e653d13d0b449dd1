// Errors: what the builder and the verifier refuse, and that each message says which kernel, which
// instruction, what is wrong and which C++ line made the instruction.
#include <doctest/doctest.h>

#include <string>

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/verifier.hpp"

using namespace ptxgen;

namespace {

// The message of the ptxsmith::Error that `f` throws; fails the check when it throws none.
template <class F> std::string error_of(F&& f) {
    try {
        f();
    } catch (const ptxsmith::Error& e) {
        return e.what();
    }
    FAIL_CHECK("expected a ptxsmith::Error");
    return {};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// "test_errors.cpp:<line>": how messages cite the builder call (after the directory part of the path).
std::string here(int line) { return "test_errors.cpp:" + std::to_string(line); }

template <class T, int N> Regs<T, N> regs(KernelBuilder& b) {
    Regs<T, N> r;
    for (auto& x : r) x = b.reg<T>();
    return r;
}

Instr make(Op op, Type t) {
    Instr in;
    in.op = op;
    in.type = t;
    return in;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Instructions the target cannot have
// ---------------------------------------------------------------------------------------------

TEST_CASE("an instruction above the target names the kernel, the instruction, the required target and the line") {
    KernelBuilder b("tiny_mma", Target{75});
    auto a = regs<f16x2, 4>(b);
    auto bb = regs<f16x2, 2>(b);
    auto c = regs<f32, 4>(b);
    const int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.mma_m16n8k16<f16x2>(a, bb, c); });
    INFO(msg);
    CHECK(msg.find("kernel tiny_mma, instruction 0: ") == 0);
    CHECK(has(msg, "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f4, %f5, %f6, %f7}, {%hh0, %hh1, %hh2, %hh3}, "
                   "{%hh4, %hh5}, {%f0, %f1, %f2, %f3};"));
    CHECK(has(msg, "needs sm_80 / PTX 7.0, but the kernel is built for sm_75"));
    CHECK(has(msg, here(line) + ")"));
    CHECK(b.size() == 0);  // nothing was emitted
}

TEST_CASE("requirements of other instructions above their target") {
    struct Case {
        const char* what;
        int sm;
        std::function<void(KernelBuilder&)> emit;
        const char* spelled;
        const char* needs;
    };
    const Case cases[] = {
        {"cp.async", 75, [](KernelBuilder& b) { b.cp_async(SharedPtr{b.reg<u32>()}[0], GlobalPtr{b.reg<u64>()}[0], 16); },
         "cp.async.ca.shared.global [%r0], [%rd0], 16;", "sm_80 / PTX 7.0"},
        {"cp.async.wait_all", 75, [](KernelBuilder& b) { b.cp_async_wait_all(); }, "cp.async.wait_all;", "sm_80 / PTX 7.0"},
        {"redux", 75, [](KernelBuilder& b) { b.redux<u32>(AtomOp::add, b.reg<u32>()); },
         "redux.sync.add.u32 %r1, %r0, 0xffffffff;", "sm_80 / PTX 7.0"},
        {"mma s8", 75, [](KernelBuilder& b) { b.mma_m16n8k32_s8(regs<b32, 4>(b), regs<b32, 2>(b), regs<s32, 4>(b)); },
         "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32", "sm_80 / PTX 7.0"},
        {"griddepcontrol", 89, [](KernelBuilder& b) { b.griddep_wait(); }, "griddepcontrol.wait;", "sm_90 / PTX 7.8"},
        {"add.bf16", 80, [](KernelBuilder& b) { auto x = b.reg<bf16>(); auto y = b.reg<bf16>(); b.add<bf16>(x, y); },
         "add.bf16 %bf2, %bf0, %bf1;", "sm_90 / PTX 7.8"},
        {"setp.bf16", 89, [](KernelBuilder& b) { auto x = b.reg<bf16>(); auto y = b.reg<bf16>(); b.setp<bf16>(Cmp::lt, x, y); },
         "setp.lt.bf16 %p0, %bf0, %bf1;", "sm_90 / PTX 7.8"},
        {"fma.bf16", 75, [](KernelBuilder& b) { auto x = regs<bf16, 3>(b); b.fma<bf16>(x[0], x[1], x[2]); },
         "fma.rn.bf16 %bf3, %bf0, %bf1, %bf2;", "sm_80 / PTX 7.0"},
        {"min.f16", 75, [](KernelBuilder& b) { auto x = b.reg<f16>(); auto y = b.reg<f16>(); b.min<f16>(x, y); },
         "min.f16 %h2, %h0, %h1;", "sm_80 / PTX 7.0"},
        {"ex2.bf16", 89, [](KernelBuilder& b) { b.ex2<bf16>(b.reg<bf16>(), {.ftz = true}); },
         "ex2.approx.ftz.bf16 %bf1, %bf0;", "sm_90 / PTX 7.8"},
        {"tanh.bf16", 86, [](KernelBuilder& b) { b.tanh<bf16>(b.reg<bf16>()); }, "tanh.approx.bf16 %bf1, %bf0;",
         "sm_90 / PTX 7.8"},
        {"cvt.f32.bf16", 75, [](KernelBuilder& b) { b.cvt<f32>(b.reg<bf16>()); }, "cvt.f32.bf16 %f0, %bf0;",
         "sm_80 / PTX 7.1"},
        {"cvt.ftz.f32.bf16", 80, [](KernelBuilder& b) { b.cvt<f32>(b.reg<bf16>(), {.ftz = true}); },
         "cvt.ftz.f32.bf16 %f0, %bf0;", "sm_90 / PTX 7.8"},
        {"cvt.rn.bf16.s32", 89, [](KernelBuilder& b) { b.cvt<bf16>(b.reg<s32>(), {.round = Round::rn}); },
         "cvt.rn.bf16.s32 %bf0, %s0;", "sm_90 / PTX 7.8"},
        {"cvt.rn.f16x2.f32", 75,
         [](KernelBuilder& b) { auto hi = b.reg<f32>(); auto lo = b.reg<f32>(); b.cvt_pair<f16x2>(hi, lo); },
         "cvt.rn.f16x2.f32 %hh0, %f0, %f1;", "sm_80 / PTX 7.0"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.what);
        KernelBuilder b("k", Target{c.sm});
        std::string msg = error_of([&] { c.emit(b); });
        INFO(msg);
        CHECK(has(msg, c.spelled));
        CHECK(has(msg, std::string("needs ") + c.needs + ", but the kernel is built for sm_" + std::to_string(c.sm)));
        CHECK(has(msg, "test_errors.cpp:"));
    }
}

TEST_CASE("the same instructions are accepted at their minimum target") {
    KernelBuilder b80("k", Target{80});
    CHECK_NOTHROW(b80.mma_m16n8k16<f16x2>(regs<f16x2, 4>(b80), regs<f16x2, 2>(b80), regs<f32, 4>(b80)));
    CHECK_NOTHROW(b80.cvt<f32>(b80.reg<bf16>()));
    KernelBuilder b90("k", Target{90});
    CHECK_NOTHROW(b90.add<bf16>(b90.reg<bf16>(), b90.reg<bf16>()));
    CHECK_NOTHROW(b90.cvt<f32>(b90.reg<bf16>(), {.ftz = true}));
}

TEST_CASE("verify() checks requirements of IR built without the builder") {
    Kernel k;
    k.name = "hand_made";
    k.target = Target{75};
    k.regs = {Type::u32, Type::u32};
    Instr mv = make(Op::mov, Type::u32);
    mv.push(Operand::reg(0, Type::u32));
    mv.push(Operand::imm(1, Type::u32));
    Instr rx = make(Op::redux, Type::u32);
    rx.m.atom = AtomOp::add;
    rx.push(Operand::reg(1, Type::u32));
    rx.push(Operand::reg(0, Type::u32));
    rx.push(Operand::imm(0xffffffff, Type::b32));
    k.code = {mv, rx, make(Op::ret, Type::b8)};
    std::string msg = error_of([&] { verify(k); });
    INFO(msg);
    CHECK(msg == "kernel hand_made, instruction 1 `redux.sync.add.u32 %r1, %r0, 0xffffffff;`: needs sm_80 / PTX 7.0, "
                 "but the kernel is built for sm_75");
    k.target = Target{80};
    CHECK_NOTHROW(verify(k));
}

// ---------------------------------------------------------------------------------------------
// Registers read before anything writes them
// ---------------------------------------------------------------------------------------------

TEST_CASE("finish() refuses a read of a register nothing wrote, naming the register and the line") {
    KernelBuilder b("reads_garbage");
    auto r = b.reg<u32>();
    const int line = __LINE__ + 1;
    b.add<u32>(r, 1);
    std::string msg = error_of([&] { b.finish(); });
    INFO(msg);
    CHECK(msg.find("kernel reads_garbage, instruction 0 `add.u32 %r1, %r0, 1;`: ") == 0);
    CHECK(has(msg, "reads register %r0 before anything writes it"));
    CHECK(has(msg, here(line) + ")"));
}

TEST_CASE("an instruction appended with emit() that reads a register never written") {
    KernelBuilder b("by_emit");
    auto written = b.mov<u32>(1);
    auto never = b.reg<u32>();
    auto d = b.reg<u32>();
    Instr in = make(Op::add, Type::u32);
    in.push(d.operand());
    in.push(written.operand());
    in.push(never.operand());
    const int line = __LINE__ + 1;
    b.emit(in, Loc::current());  // emit checks the form; the data flow waits for finish()
    std::string msg = error_of([&] { b.finish(); });
    INFO(msg);
    CHECK(has(msg, "kernel by_emit, instruction 1 `add.u32 %r2, %r0, %r1;`"));
    CHECK(has(msg, "reads register %r1 before anything writes it"));
    CHECK(has(msg, here(line)));
}

TEST_CASE("verify() of IR built by hand names the register") {
    Kernel k;
    k.name = "by_hand";
    k.regs = {Type::f32, Type::f32};
    Instr add = make(Op::add, Type::f32);
    add.push(Operand::reg(1, Type::f32));
    add.push(Operand::reg(0, Type::f32));
    add.push(Operand::imm(0x3f800000, Type::f32));
    k.code = {add, make(Op::ret, Type::b8)};
    std::string msg = error_of([&] { verify(k); });
    // No source locations in hand-made IR, so no "(at file:line)".
    CHECK(msg == "kernel by_hand, instruction 0 `add.f32 %f1, %f0, 0f3F800000;`: reads register %f0 before anything writes it");
}

TEST_CASE("reads are checked in program order, guards included, along every path") {
    SUBCASE("a write after the read does not count") {
        KernelBuilder b("k");
        auto r = b.reg<u32>();
        b.add<u32>(r, 1);
        b.mov(r, 0);
        CHECK(has(error_of([&] { b.finish(); }), "instruction 0 `add.u32 %r1, %r0, 1;`: reads register %r0"));
    }
    SUBCASE("a guard predicate nothing set") {
        KernelBuilder b("k");
        Pred p = b.pred();
        b.predicated(p, [&] { b.mov<u32>(1); });
        CHECK(has(error_of([&] { b.finish(); }), "`@%p0 mov.u32 %r0, 1;`: reads register %p0 before anything writes it"));
    }
    SUBCASE("vector and address operands") {
        KernelBuilder b("k");
        GlobalPtr g{b.reg<u64>()};
        b.ld<u32>(g[0]);
        CHECK(has(error_of([&] { b.finish(); }), "reads register %rd0"));
    }
    SUBCASE("a register written on some path is accepted") {
        KernelBuilder b("k");
        auto r = b.reg<u32>();
        Pred p = b.setp<u32>(Cmp::eq, b.tid_x(), 0);
        b.if_(p, [&] { b.mov(r, 7); });
        b.add<u32>(r, 1);
        CHECK_NOTHROW(b.finish());
    }
    SUBCASE("a loop may read what its previous iteration wrote") {
        KernelBuilder b("k");
        auto acc = b.mov<u32>(0);
        b.for_range(0, 8u, 1, [&](Reg<u32> i) { b.mov(acc, b.add<u32>(acc, i)); });
        CHECK_NOTHROW(b.finish());
    }
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

TEST_CASE("a branch to a label that is never bound") {
    KernelBuilder b("dangling");
    Label l = b.label("nowhere");
    const int line = __LINE__ + 1;
    b.bra(l);
    std::string msg = error_of([&] { b.finish(); });
    INFO(msg);
    CHECK(has(msg, "kernel dangling, instruction 0 `bra $L_nowhere_0;`: branch to label $L_nowhere_0, which is never bound"));
    CHECK(has(msg, here(line)));
}

TEST_CASE("a label bound twice") {
    KernelBuilder b("twice");
    Label l = b.label("again");
    b.bind(l);
    b.mov<u32>(1);
    const int line = __LINE__ + 1;
    b.bind(l);
    std::string msg = error_of([&] { b.finish(); });
    INFO(msg);
    CHECK(has(msg, "kernel twice, instruction 2 `$L_again_0:`: label $L_again_0 is bound twice"));
    CHECK(has(msg, here(line)));
}

TEST_CASE("labels of another builder, and labels inside predicated blocks") {
    KernelBuilder other("other");
    other.label("a");
    other.label("b");
    Label foreign = other.label("c");
    KernelBuilder b("k");
    CHECK(has(error_of([&] { b.bind(foreign); }), "bind() of a label from another builder"));
    CHECK(has(error_of([&] { b.bra(foreign); }), "bra to a label from another builder"));
    Pred p = b.mov(b.setp<u32>(Cmp::eq, b.tid_x(), 0));
    Label l = b.label("x");
    const int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.predicated(p, [&] { b.bind(l); }); });
    CHECK(has(msg, "labels cannot be placed inside a predicated block (at "));
    CHECK(has(msg, here(line)));
    CHECK(has(error_of([&] { b.predicated(p, [&] { b.if_(p, [] {}); }); }), "a conditional branch inside a predicated block"));
    CHECK(has(error_of([&] { b.predicated(p, [&] { b.predicated(!p, [] {}); }); }), "predicated blocks do not nest"));
    CHECK(has(error_of([&] { b.predicated(p, [&] { b.finish(); }); }), "finish() inside a predicated block"));
    // After each failure the guard is gone: the next instruction is unguarded.
    b.mov<u32>(3);
    CHECK(print_instruction(b.peek(), b.size() - 1) == "mov.u32 %r1, 3;");
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

TEST_CASE("cvt f32 -> f16 without a rounding mode") {
    KernelBuilder b("narrow");
    auto f = b.mov<f32>(1.0f);
    const int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.cvt<f16>(f); });
    INFO(msg);
    CHECK(has(msg, "kernel narrow, instruction 1: cvt.f16.f32 %h0, %f0;: "
                   "cvt.f16.f32 narrows and needs a rounding mode (.rn, .rz, .rm or .rp)"));
    CHECK(has(msg, here(line)));
    CHECK(b.size() == 1);
}

TEST_CASE("other conversions PTX does not have") {
    KernelBuilder b("k", Target{90});
    auto f = b.reg<f32>();
    auto h = b.reg<f16>();
    auto s = b.reg<s32>();
    CHECK(has(error_of([&] { b.cvt<f32>(h, {.round = Round::rn}); }), "cvt.f32.f16 widens exactly and takes no rounding mode"));
    CHECK(has(error_of([&] { b.cvt<f16>(b.reg<f64>()); }), "cvt.f16.f64 narrows and needs a rounding mode"));
    CHECK(has(error_of([&] { b.cvt<s32>(f); }), "cvt.s32.f32 needs an integer rounding mode (.rni, .rzi, .rmi or .rpi)"));
    CHECK(has(error_of([&] { b.cvt<s32>(f, {.round = Round::rn}); }), "cvt.s32.f32 needs an integer rounding mode"));
    CHECK(has(error_of([&] { b.cvt<f32>(s); }), "cvt.f32.s32 needs a rounding mode (.rn, .rz, .rm or .rp)"));
    CHECK(has(error_of([&] { b.cvt<f32>(s, {.round = Round::rni}); }), "cvt.f32.s32 needs a rounding mode"));
    CHECK(has(error_of([&] { b.cvt<s64>(s, {.round = Round::rn}); }), "cvt.s64.s32: integer conversions take no rounding"));
    CHECK(has(error_of([&] { b.cvt<f32>(f, {.round = Round::rn}); }), "cvt.f32.f32 rounds only to an integral value"));
    // f16 and bf16 have the same width, but each holds values the other cannot: conversions round.
    CHECK(has(error_of([&] { b.cvt<bf16>(h); }), "cvt.bf16.f16 changes format and needs a rounding mode"));
    CHECK(has(error_of([&] { b.cvt<f16>(b.reg<bf16>()); }), "cvt.f16.bf16 changes format and needs a rounding mode"));
    // ptxas refuses .sat on conversions to or from bf16, and .ftz unless one side is f32.
    CHECK(has(error_of([&] { b.cvt<bf16>(f, {.round = Round::rn, .sat = true}); }), "cvt.bf16.f32 takes no .sat"));
    CHECK(has(error_of([&] { b.cvt<s32>(b.reg<bf16>(), {.round = Round::rzi, .sat = true}); }), "cvt.s32.bf16 takes no .sat"));
    CHECK(has(error_of([&] { b.cvt<f16>(s, {.round = Round::rn, .ftz = true}); }),
              "cvt.f16.s32: .ftz applies only to conversions to or from f32"));
    CHECK(has(error_of([&] { b.cvt<s32>(b.reg<f64>(), {.round = Round::rni, .ftz = true}); }), ".ftz applies only"));
    // Packed conversions round with .rn or .rz and take no .ftz or .sat.
    CHECK(has(error_of([&] { b.cvt_pair<f16x2>(f, f, {.round = Round::rm}); }), "cvt.f16x2.f32 needs .rn or .rz"));
    CHECK(has(error_of([&] { b.cvt_pair<bf16x2>(f, f, {.round = Round::rn, .sat = true}); }),
              "cvt.bf16x2.f32 takes no .ftz or .sat"));
    CHECK(has(error_of([&] { b.cvt_pair<f16x2>(f, f, {.round = Round::rn, .ftz = true}); }), "takes no .ftz or .sat"));
}

// ---------------------------------------------------------------------------------------------
// Arithmetic and math forms
// ---------------------------------------------------------------------------------------------

TEST_CASE("arithmetic modifiers PTX does not have") {
    KernelBuilder b("k", Target{90});
    auto u = b.reg<u32>();
    auto s = b.reg<s32>();
    auto f = b.reg<f32>();
    auto d = b.reg<f64>();
    auto h = b.reg<f16>();
    CHECK(has(error_of([&] { b.add<u32>(u, u, {.sat = true}); }), ".sat on integers exists only for add.s32 and sub.s32"));
    CHECK(has(error_of([&] { b.add<s32>(s, s, {.round = Round::rn}); }), "integer arithmetic takes no rounding, .ftz or .approx"));
    CHECK(has(error_of([&] { b.add<f64>(d, d, {.ftz = true}); }), ".ftz and .sat exist only for f32"));
    CHECK(has(error_of([&] { b.add<f32>(f, f, {.round = Round::rni}); }), "float arithmetic rounds with .rn, .rz, .rm or .rp"));
    CHECK(has(error_of([&] { b.add<f16>(h, h, {.round = Round::rz}); }), "half-precision arithmetic rounds only with .rn"));
    auto bf = b.reg<bf16>();
    CHECK(has(error_of([&] { b.add<bf16>(bf, bf, {.ftz = true}); }), "bf16 arithmetic takes no .ftz or .sat"));
    CHECK(has(error_of([&] { b.fma<bf16>(bf, bf, bf, {.sat = true}); }), "bf16 arithmetic takes no .ftz or .sat"));
    CHECK(has(error_of([&] { b.min<f32>(f, f, {.round = Round::rn}); }), "min, max, abs and neg take no rounding or .sat"));
    CHECK(has(error_of([&] { b.abs<f16>(h, {.sat = true}); }), "min, max, abs and neg take no rounding or .sat"));
    CHECK(has(error_of([&] { b.abs<u32>(u); }), "abs and neg need a signed type"));
    CHECK(has(error_of([&] { b.div<f32>(f, f); }), "div.f32 needs exactly one of .approx, .full or a rounding mode"));
    CHECK(has(error_of([&] { b.div<f64>(d, d); }), "div.f64 needs a rounding mode"));
    CHECK(has(error_of([&] { b.div<f16>(h, h); }), "div has no half-precision form"));
    CHECK(has(error_of([&] { b.div<f32>(f, f, {.round = Round::rn, .sat = true}); }), "div takes no .sat"));
}

TEST_CASE("math forms PTX does not have") {
    KernelBuilder b("k", Target{90});
    auto f = b.reg<f32>();
    auto d = b.reg<f64>();
    CHECK(has(error_of([&] { b.rcp<f64>(d); }), "rcp.approx.f64 exists only as rcp.approx.ftz.f64"));
    CHECK(has(error_of([&] { b.sqrt<f64>(d); }), "sqrt.approx.f64 exists only as rcp.approx.ftz.f64"));
    CHECK(has(error_of([&] { b.sqrt<f64>(d, {.round = Round::rn, .ftz = true}); }), "sqrt.f64 takes no .ftz"));
    CHECK(has(error_of([&] { b.rcp<f32>(f, {.round = Round::rzi}); }), "rcp rounds with .rn, .rz, .rm or .rp"));
    CHECK(has(error_of([&] { b.ex2<f32>(f, {.sat = true}); }), "ex2 takes no .sat"));
    CHECK(has(error_of([&] { b.ex2<f16>(b.reg<f16>(), {.ftz = true}); }), "ex2.approx.f16 takes no .ftz"));
    CHECK(has(error_of([&] { b.ex2<bf16>(b.reg<bf16>()); }), "ex2.approx.bf16 exists only with .ftz"));
    CHECK(has(error_of([&] { b.ex2<f64>(d); }), "ex2 has no f64 form"));
    CHECK(has(error_of([&] { b.tanh<f64>(d); }), "tanh has no f64 form"));
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

TEST_CASE("load and store modifiers PTX does not have") {
    KernelBuilder b("k");
    GlobalPtr g{b.reg<u64>()};
    SharedPtr s{b.reg<u32>()};
    LocalArray lm = b.local_array("lmem", 64);
    CHECK(has(error_of([&] { b.ld<u32>(s[0], {.nc = true}); }), ".nc is for global loads"));
    CHECK(has(error_of([&] { b.ld<u32>(g[0], {.cache = CacheOp::lu, .nc = true}); }),
              "ld.global.nc takes only the .ca, .cg or .cs cache operators"));
    CHECK(has(error_of([&] { b.ld<u32>(g[0], {.cache = CacheOp::cv, .nc = true}); }), "ld.global.nc takes only"));
    CHECK(has(error_of([&] { b.ld<u32>(g[0], {.cache = CacheOp::cg, .vol = true}); }), ".volatile takes no cache hints"));
    CHECK(has(error_of([&] { b.ld<u32>(lm[0], {.vol = true}); }), ".volatile applies to global, shared and generic memory"));
    CHECK(has(error_of([&] { b.st<u32>(lm[0], 1u, {.vol = true}); }), ".volatile applies to global, shared and generic memory"));
    CHECK(has(error_of([&] { b.ld<u32>(g[0], {.cache = CacheOp::wb}); }), "loads take .ca, .cg, .cs, .lu or .cv"));
    CHECK(has(error_of([&] { b.st<u32>(g[0], 1u, {.cache = CacheOp::ca}); }), "stores take .wb, .cg, .cs or .wt"));
    CHECK(has(error_of([&] { b.ld<u32>(s[0], {.evict = Evict::L1_evict_last}); }), "eviction priorities apply to global memory"));
    CHECK(has(error_of([&] { b.st<u32>(g[0], 1u, {.evict = Evict::L1_no_allocate}); }), ".L1::no_allocate is for loads"));
    CHECK(has(error_of([&] { b.ld<u32>(g[0], {.cache = CacheOp::cs, .evict = Evict::L1_evict_first}); }),
              "a cache operator and an eviction priority cannot be combined"));
    CHECK(has(error_of([&] { b.ld_v<f64, 4>(g[0]); }), "a vector access moves at most 128 bits"));
    CHECK(has(error_of([&] { b.ld<u32>(g[0], {.l2_prefetch = 32}); }), "the L2 prefetch size is 64, 128 or 256 bytes"));
    CHECK(has(error_of([&] { b.ld<u32>(s[0], {.l2_prefetch = 128}); }), "an L2 prefetch size applies to global loads"));
    CHECK(b.size() == 0);
}

TEST_CASE("atomics and reductions PTX does not have") {
    KernelBuilder b("k", Target{80});
    GlobalPtr g{b.reg<u64>()};
    LocalArray lm = b.local_array("lmem", 64);
    CHECK(has(error_of([&] { b.atom<s64>(AtomOp::add, g[0], 1); }), "atomic add takes u32, s32, u64, f32 or f64"));
    CHECK(has(error_of([&] { b.atom<f32>(AtomOp::max, g[0], 1.0f); }), "atomic min/max take u32, s32, u64 or s64"));
    CHECK(has(error_of([&] { b.atom<u32>(AtomOp::exch, g[0], 1u); }), "atomic exch, cas and bit operations take b32 or b64"));
    CHECK(has(error_of([&] { b.red<b32>(AtomOp::exch, g[0], 1u); }), "red has no exch or cas"));
    CHECK(has(error_of([&] { b.atom<u32>(AtomOp::add, lm[0], 1u); }), "atomics work on global, shared or generic addresses"));
    CHECK(has(error_of([&] { b.redux<u32>(AtomOp::exch, b.reg<u32>()); }),
              "redux.sync takes add/min/max on u32 or s32 and and/or/xor on b32"));
}

TEST_CASE("static shared memory over 48 KB") {
    KernelBuilder b("big_smem");
    b.shared_array("a", 40 * 1024);
    const int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.shared_array("b", 9 * 1024); });
    INFO(msg);
    CHECK(has(msg, "kernel big_smem"));
    CHECK(has(msg, "shared array 'b' brings static shared memory to 50176 bytes, more than the 49152 a kernel may declare; "
                   "use dynamic shared memory"));
    CHECK(has(msg, here(line)));
    // Exactly 48 KB is allowed, and the dynamic array does not count.
    KernelBuilder ok("fits");
    ok.shared_array("a", 40 * 1024);
    ok.shared_array("b", 8 * 1024);
    ok.dynamic_shared();
    CHECK_NOTHROW(ok.finish());
}

TEST_CASE("verify() checks static shared memory of IR built by hand") {
    Kernel k;
    k.name = "hand_smem";
    k.vars = {VarDecl{"a", Space::shared, 40 * 1024, 16, false}, VarDecl{"b", Space::shared, 9 * 1024, 16, false}};
    k.code = {make(Op::ret, Type::b8)};
    CHECK(error_of([&] { verify(k); }) ==
          "kernel hand_smem: 50176 bytes of static shared memory, more than the 49152 a kernel may declare; use dynamic "
          "shared memory");
}

TEST_CASE("shared and local arrays: names, alignment, sizes") {
    KernelBuilder b("k");
    b.shared_array("smem", 64);
    int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.shared_array("my array", 64); });
    CHECK(has(msg, "'my array' is not a valid variable name"));
    CHECK(has(msg, here(line)));
    line = __LINE__ + 1;
    msg = error_of([&] { b.local_array("smem", 16); });
    CHECK(has(msg, "variable 'smem' is declared twice"));
    CHECK(has(msg, here(line)));
    CHECK(has(error_of([&] { b.shared_array("odd", 64, 3); }), "alignment 3 of 'odd' is not a power of two"));
    CHECK(has(error_of([&] { b.shared_array("empty", 0); }), "shared array 'empty' has no bytes"));
    CHECK(has(error_of([&] { b.local_array("empty", 0); }), "local array 'empty' has no bytes"));
    b.dynamic_shared();
    CHECK(has(error_of([&] { b.dynamic_shared(); }), "a kernel has one dynamic shared array"));
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

TEST_CASE("bad kernel names") {
    for (const char* name : {"", "1kernel", "my kernel", "dash-ed", "k$"}) {
        CAPTURE(name);
        const int line = __LINE__ + 1;
        std::string msg = error_of([&] { KernelBuilder b(name); });
        CHECK(has(msg, "'" + std::string(name) + "' is not a valid kernel name: use letters, digits and '_'"));
        CHECK(has(msg, here(line)));
    }
    CHECK_NOTHROW(KernelBuilder("_under_score9"));
}

TEST_CASE("bad and repeated parameter names") {
    KernelBuilder b("params");
    b.param<u32>("n");
    int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.param<u32>("n-1"); });
    INFO(msg);
    CHECK(has(msg, "kernel params, instruction 1: 'n-1' is not a valid parameter name"));
    CHECK(has(msg, here(line)));
    line = __LINE__ + 1;
    msg = error_of([&] { b.param_ptr("n", Type::f32); });
    CHECK(has(msg, "parameter 'n' is declared twice"));
    CHECK(has(msg, here(line)));
    CHECK(has(error_of([&] { b.param_ptr("", Type::f32); }), "'' is not a valid parameter name"));
    CHECK(b.peek().params.size() == 1);
}

// ---------------------------------------------------------------------------------------------
// Other builder arguments
// ---------------------------------------------------------------------------------------------

TEST_CASE("comparisons that do not exist for the operand type") {
    KernelBuilder b("k");
    auto s = b.reg<s32>();
    auto u = b.reg<u32>();
    auto f = b.reg<f32>();
    CHECK(has(error_of([&] { b.setp<s32>(Cmp::lo, s, 0); }), "setp.lo compares unsigned integers"));
    CHECK(has(error_of([&] { b.setp<f32>(Cmp::hi, f, f); }), "setp.hi compares unsigned integers"));
    CHECK(has(error_of([&] { b.setp<u32>(Cmp::ltu, u, 0); }), "setp.ltu compares floats only"));
    CHECK(has(error_of([&] { b.setp_bits<b32>(Cmp::lt, b.reg<b32>(), 0u); }), "bit types compare only with eq and ne"));
    CHECK(has(error_of([&] { b.setp<u32>(Cmp::lt, u, u, BoolOp::none, b.pred()); }),
              "setp with a second predicate needs .and, .or or .xor"));
}

TEST_CASE("barriers, fences, special registers, copies and loops with bad arguments") {
    KernelBuilder b("k", Target{80});
    CHECK(has(error_of([&] { b.bar_sync(16); }), "barrier 16 does not exist: CTAs have barriers 0..15"));
    CHECK(has(error_of([&] { b.bar_sync(0, 33); }), "bar.sync counts whole warps, not 33 threads"));
    CHECK(has(error_of([&] { b.bar_arrive(1, 0); }), "bar.arrive needs a thread count in whole warps, not 0"));
    CHECK(has(error_of([&] { b.membar(Scope::none); }), "membar needs a scope"));
    CHECK(has(error_of([&] { b.fence(FenceSem::sc, Scope::none); }), "fence needs a scope (.cta, .gpu or .sys)"));
    CHECK(has(error_of([&] { b.sreg32(SReg::clock64); }), "%clock64 is 64-bit: read it with sreg64"));
    CHECK(has(error_of([&] { b.sreg64(SReg::tid_x); }), "%tid.x is 32-bit: read it with sreg32"));
    SharedPtr s{b.reg<u32>()};
    GlobalPtr g{b.reg<u64>()};
    CHECK(has(error_of([&] { b.cp_async(s[0], g[0], 12); }), "cp.async copies 4, 8 or 16 bytes"));
    CHECK(has(error_of([&] { b.cp_async(s[0], g[0], 8, CpAsyncCache::cg); }), "cp.async.cg copies 16 bytes"));
    const int line = __LINE__ + 1;
    std::string msg = error_of([&] { b.for_range(0, 8u, 0, [](Reg<u32>) {}); });
    CHECK(has(msg, "for_range needs a positive step"));
    CHECK(has(msg, here(line)));
    CHECK(has(error_of([&] { b.for_range(0, 8u, 1, [](Reg<u32>) {}, Unroll{-2}); }), "an unroll factor cannot be negative"));
    CHECK(b.size() == 0);
}

TEST_CASE("the instruction index counts what was emitted before") {
    KernelBuilder b("k");
    auto x = b.mov<f32>(1.0f);
    b.add<f32>(x, x);
    b.mul<f32>(x, x);
    std::string msg = error_of([&] { b.div<f32>(x, x); });
    CHECK(msg.find("kernel k, instruction 3: div.f32 %f3, %f0, %f0;: ") == 0);
}

// ---------------------------------------------------------------------------------------------
// IR from elsewhere, and printing
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify() refuses registers of the wrong type or width") {
    Kernel k;
    k.name = "typed";
    k.regs = {Type::f32, Type::u32, Type::u32};
    Instr mv = make(Op::mov, Type::f32);
    mv.push(Operand::reg(0, Type::f32));
    mv.push(Operand::imm(0, Type::f32));
    Instr add = make(Op::add, Type::u32);  // add.u32 reading an f32 register
    add.push(Operand::reg(1, Type::u32));
    add.push(Operand::reg(0, Type::f32));
    add.push(Operand::imm(1, Type::u32));
    k.code = {mv, add, make(Op::ret, Type::b8)};
    CHECK(has(error_of([&] { verify(k); }), "instruction 1 `add.u32 %r0, %f0, 1;`: a f32 register where the instruction needs u32"));

    // A 32-bit register cannot address global memory.
    Instr mv2 = make(Op::mov, Type::u32);
    mv2.push(Operand::reg(1, Type::u32));
    mv2.push(Operand::imm(0, Type::u32));
    Instr ld = make(Op::ld, Type::u32);
    ld.m.space = Space::global;
    ld.push(Operand::reg(2, Type::u32));
    ld.push(Operand::address(AddrBase::reg, 1, 0, Type::u32));
    k.code = {mv2, ld, make(Op::ret, Type::b8)};
    CHECK(has(error_of([&] { verify(k); }),
              "instruction 1 `ld.global.u32 %r1, [%r0];`: an address register must be 64-bit (32-bit allowed for shared "
              "memory), not u32"));
}

TEST_CASE("print_ptx refuses a module newer than the consumer accepts") {
    KernelBuilder b("new_isa");
    GlobalPtr g = b.param_ptr("x", Type::b8);
    b.st(g[16], b.ld<b128>(g[0]));
    Kernel k = b.finish();
    PrintOptions o;
    o.max_version = PtxVersion{8, 0};
    CHECK(error_of([&] { print_ptx(k, o); }) == "kernel new_isa needs PTX ISA 8.3, but the consumer accepts at most 8.0");
    o.max_version = PtxVersion{8, 3};
    CHECK_NOTHROW(print_ptx(k, o));
}

TEST_CASE("target names") {
    CHECK(Target::parse("sm_90a") == Target{90, true});
    CHECK(Target::parse("8.6") == Target{86, false});
    CHECK(has(error_of([] { Target::parse("sm_9x"); }), "'sm_9x' is not a target: write it as sm_90, sm_90a, 90 or 9.0"));
    CHECK(has(error_of([] { Target::parse("sm_70"); }), "target sm_70 is older than sm_75"));
}

TEST_CASE("names that would collide in the printed module are refused") {
    KernelBuilder b("collide");
    CHECK_THROWS_WITH_AS(b.shared_array("param_x", 16), doctest::Contains("is reserved"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(b.shared_array("collide", 16), doctest::Contains("is reserved"), ptxsmith::Error);
}

TEST_CASE("setp on packed halves is refused: PTX gives it two predicate results") {
    KernelBuilder b("packed_setp", Target{90});
    Reg<f16x2> h = b.mov<f16x2>(1.0f);
    CHECK_THROWS_WITH_AS(b.setp(Cmp::lt, h, h), doctest::Contains("compare unpacked halves"), ptxsmith::Error);
}
