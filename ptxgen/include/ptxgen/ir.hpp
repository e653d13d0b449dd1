// The builder's intermediate representation: a kernel is a list of instructions over typed virtual
// registers. The printer, the verifier, the CLI's inspector and the interpreter all read this form;
// nothing in it depends on addresses or hash order, so equal builds give equal IR.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptxgen/target.hpp"
#include "ptxgen/types.hpp"

namespace ptxgen {

enum class Op : uint8_t {
    // arithmetic
    add, sub, mul, mad, fma, div, rem, min, max, abs, neg,
    // bits
    and_, or_, xor_, not_, shl, shr, bfe, bfi, prmt, popc, clz, brev,
    // comparison and selection
    setp, selp,
    // data movement and conversion
    mov, cvt, cvta,
    // approximate and correctly rounded math
    ex2, lg2, rcp, rsqrt, sqrt, tanh, sin, cos,
    // memory
    ld, st,
    // warp-level
    shfl, vote, activemask, redux,
    // integer dot products
    dp4a, dp2a,
    // synchronisation
    bar, bar_warp_sync, membar, fence,
    // atomics and reductions
    atom, red,
    // tensor cores
    mma, ldmatrix,
    // asynchronous copies
    cp_async, cp_async_commit, cp_async_wait,
    // programmatic dependent launch (sm_90): wait for the grids this one depends on; let the
    // grids that depend on this one start
    griddep_wait, griddep_launch,
    // prefetch.global.L2: bring a line into L2 ahead of its loads (no register, no fault)
    prefetch,
    // control flow
    bra, ret, exit, label, nounroll,
};
inline constexpr int kOpCount = static_cast<int>(Op::nounroll) + 1;

// Instruction classes shown by `ptxgen inspect`.
enum class OpClass : uint8_t { arith, bits, compare, move, convert, math, memory, warp, dot, sync,
                               atomic, tensor, async_copy, control };
OpClass op_class(Op op);
std::string_view op_class_name(OpClass c);

enum class Round : uint8_t { none, rn, rz, rm, rp, rni, rzi, rmi, rpi };
enum class Cmp : uint8_t { eq, ne, lt, le, gt, ge, lo, ls, hi, hs,
                           equ, neu, ltu, leu, gtu, geu, num, nan };
enum class BoolOp : uint8_t { none, and_, or_, xor_ };
enum class MulMode : uint8_t { none, lo, hi, wide };
enum class Space : uint8_t { generic, global, shared, local, param, const_ };
enum class CacheOp : uint8_t { none, ca, cg, cs, lu, cv, wb, wt };
enum class Evict : uint8_t { none, L1_evict_normal, L1_evict_unchanged, L1_evict_first,
                             L1_evict_last, L1_no_allocate };
enum class ShflMode : uint8_t { up, down, bfly, idx };
enum class VoteMode : uint8_t { all, any, uni, ballot };
// Atomic, reduction and redux operations; inc/dec exist in PTX but the builder has no use for them.
enum class AtomOp : uint8_t { add, min, max, exch, cas, and_, or_, xor_ };
enum class BarKind : uint8_t { sync, arrive };
enum class Scope : uint8_t { none, cta, gpu, sys };
enum class FenceSem : uint8_t { sc, acq_rel };
enum class DpHalf : uint8_t { lo, hi };
enum class MmaShape : uint8_t { m16n8k16, m16n8k32, m8n8k16 };  // m8n8k16: s8 only (sm_75)
enum class CpAsyncCache : uint8_t { ca, cg };

// Special registers readable with mov.
enum class SReg : uint8_t {
    tid_x, tid_y, tid_z, ntid_x, ntid_y, ntid_z,
    ctaid_x, ctaid_y, ctaid_z, nctaid_x, nctaid_y, nctaid_z,
    laneid, warpid, clock64, globaltimer,
};
Type sreg_type(SReg s);

enum class OpKind : uint8_t { none, reg, imm, addr, label, sreg, vec, symbol };
// An address is [base+offset]: a register, a variable (shared or local array), a kernel parameter,
// or nothing (an absolute offset).
enum class AddrBase : uint8_t { none, reg, var, param };

inline constexpr uint32_t kNoReg = 0xffffffffu;

// Where in the C++ source a builder call was made. std::source_location would do, but clang 14
// with libstdc++ 12 lacks it; the builtins below exist in both compilers and, as default
// arguments, are evaluated at the caller.
struct SourceLoc {
    const char* file = "";
    unsigned line_number = 0;

    static constexpr SourceLoc current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
        return SourceLoc{file, line};
    }
    const char* file_name() const { return file; }
    unsigned line() const { return line_number; }
};

// One operand. Plain data with defaulted equality, so two IRs compare member by member.
struct Operand {
    OpKind kind = OpKind::none;
    Type type = Type::b32;          // reg / imm / vec element type
    uint8_t count = 0;              // vec: number of elements
    bool negated = false;           // predicate operands read as !p
    AddrBase base = AddrBase::none;  // addr
    uint32_t id = 0;                // reg id, label id, var id, param index, SReg value
    int64_t offset = 0;             // addr: byte offset added to the base
    uint64_t bits = 0;              // imm: the value's bits in `type`
    std::array<uint32_t, 4> elems{kNoReg, kNoReg, kNoReg, kNoReg};  // vec register ids

    bool operator==(const Operand&) const = default;

    static Operand reg(uint32_t id, Type t) { Operand o; o.kind = OpKind::reg; o.id = id; o.type = t; return o; }
    static Operand imm(uint64_t bits, Type t) { Operand o; o.kind = OpKind::imm; o.bits = bits; o.type = t; return o; }
    static Operand label(uint32_t id) { Operand o; o.kind = OpKind::label; o.id = id; return o; }
    static Operand sreg(SReg s) { Operand o; o.kind = OpKind::sreg; o.id = static_cast<uint32_t>(s); o.type = sreg_type(s); return o; }
    static Operand symbol(uint32_t var) { Operand o; o.kind = OpKind::symbol; o.id = var; return o; }
    static Operand address(AddrBase base, uint32_t id, int64_t offset, Type base_type = Type::u64) {
        Operand o; o.kind = OpKind::addr; o.base = base; o.id = id; o.offset = offset; o.type = base_type; return o;
    }
};

// Every modifier an instruction can carry; each opcode reads the fields that apply to it.
struct Mods {
    Round round = Round::none;
    bool ftz = false;
    bool sat = false;        // .sat on arithmetic and cvt, .satfinite on mma
    bool approx = false;
    bool full = false;       // div.full.f32
    bool nc = false;         // ld.global.nc
    bool vol = false;        // ld/st.volatile
    bool trans = false;      // ldmatrix .trans
    bool uni = false;        // bra.uni
    MulMode mul = MulMode::none;
    Cmp cmp = Cmp::eq;
    BoolOp bop = BoolOp::none;
    Space space = Space::generic;
    CacheOp cache = CacheOp::none;
    Evict evict = Evict::none;
    uint16_t l2_prefetch = 0;  // ld's .L2::64B / 128B / 256B: bytes L2 fetches around a miss (0: none)
    uint8_t vec = 1;         // ld/st vector width; ldmatrix matrix count (1, 2, 4)
    ShflMode shfl = ShflMode::up;
    VoteMode vote = VoteMode::all;
    AtomOp atom = AtomOp::add;
    BarKind bar = BarKind::sync;
    Scope scope = Scope::none;
    FenceSem fence = FenceSem::sc;
    DpHalf half = DpHalf::lo;
    MmaShape shape = MmaShape::m16n8k16;
    CpAsyncCache cp_cache = CpAsyncCache::ca;
    bool to_space = false;   // cvta.to.<space> (true) or cvta.<space> (false)

    bool operator==(const Mods&) const = default;
};

inline constexpr int kMaxOperands = 6;

struct Instr {
    Op op = Op::mov;
    Type type = Type::b32;    // the main type suffix
    Type type2 = Type::b32;   // a second type: cvt source, dp4a/dp2a b operand, mma A/B element type
    Mods m;
    uint32_t guard = kNoReg;  // predicate register guarding the instruction, or kNoReg
    bool guard_neg = false;
    uint8_t nops = 0;
    std::array<Operand, kMaxOperands> ops{};

    bool operator==(const Instr&) const = default;

    Operand& operand(int i) { return ops[static_cast<size_t>(i)]; }
    const Operand& operand(int i) const { return ops[static_cast<size_t>(i)]; }
    void push(const Operand& o) { ops[nops++] = o; }
};

// A kernel parameter as the launch sees it: pointers to global memory and scalars.
struct Param {
    std::string name;
    Type type = Type::u64;   // scalar type; pointers are u64
    bool is_pointer = false;
    Type pointee = Type::b8;  // element type a pointer refers to (documentation and launch checks)

    bool operator==(const Param&) const = default;
};

// A variable declared in the kernel: a static shared array, the dynamic (extern) shared array, or a
// per-thread local array.
struct VarDecl {
    std::string name;
    Space space = Space::shared;  // shared or local
    uint32_t bytes = 0;           // 0 for the dynamic shared array
    uint32_t align = 4;
    bool dynamic = false;

    bool operator==(const VarDecl&) const = default;
};

struct LabelInfo {
    std::string name;         // as printed, unique within the kernel

    bool operator==(const LabelInfo&) const = default;
};

// A finished kernel: what the printer prints and the interpreter runs.
struct Kernel {
    std::string name;
    std::vector<Param> params;
    std::vector<Type> regs;               // register id -> type
    std::vector<std::string> reg_hints;   // register id -> name hint ("" when none); debug output only
    std::vector<LabelInfo> labels;
    std::vector<VarDecl> vars;
    std::vector<Instr> code;
    std::vector<SourceLoc> locs;  // per instruction: the builder call that made it
    std::array<uint32_t, 3> reqntid{0, 0, 0};   // .reqntid when nonzero
    std::array<uint32_t, 3> maxntid{0, 0, 0};   // .maxntid when nonzero
    uint32_t minnctapersm = 0;            // .minnctapersm when nonzero (needs .reqntid or .maxntid)
    Target target;                        // what the generator was allowed to use

    // IR equality, ignoring source locations and name hints (which do not change the program).
    bool same_program(const Kernel& o) const {
        return name == o.name && params == o.params && regs == o.regs && labels == o.labels
               && vars == o.vars && code == o.code && reqntid == o.reqntid && maxntid == o.maxntid
               && minnctapersm == o.minnctapersm;
    }
    uint32_t static_shared_bytes() const;
};

}  // namespace ptxgen
