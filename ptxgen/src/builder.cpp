#include "ptxgen/builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "ptxgen/error.hpp"
#include "ptxgen/forms.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/spelling.hpp"
#include "ptxgen/verifier.hpp"

namespace ptxgen {
namespace {

bool is_identifier(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

}  // namespace

KernelBuilder::KernelBuilder(std::string name, Target target, Loc loc) {
    if (!is_identifier(name)) {
        throw ptxsmith::Error(fmt::format("'{}' is not a valid kernel name: use letters, digits and '_' (at {}:{})", name,
                                          loc.file_name(), loc.line()));
    }
    k_.name = std::move(name);
    k_.target = target;
    k_.code.reserve(256);
    k_.locs.reserve(256);
}

void KernelBuilder::fail(const std::string& what, const Loc& loc) const {
    throw ptxsmith::Error(fmt::format("kernel {}, instruction {}: {} (at {}:{})", k_.name, k_.code.size(), what,
                                      loc.file_name(), loc.line()));
}

uint32_t KernelBuilder::new_reg(Type t, std::string_view hint) {
    k_.regs.push_back(t);
    k_.reg_hints.emplace_back(hint);
    return static_cast<uint32_t>(k_.regs.size() - 1);
}

uint32_t KernelBuilder::declare_param(std::string name, Type t, bool is_pointer, Type pointee, const Loc& loc) {
    if (!is_identifier(name)) fail(fmt::format("'{}' is not a valid parameter name", name), loc);
    for (const Param& p : k_.params) {
        if (p.name == name) fail(fmt::format("parameter '{}' is declared twice", name), loc);
    }
    k_.params.push_back(Param{std::move(name), t, is_pointer, pointee});
    return static_cast<uint32_t>(k_.params.size() - 1);
}

// `loc` is the caller's line (shared_array and friends take it), so errors point at the user's code.
uint32_t KernelBuilder::declare_var(std::string name, Space space, uint32_t bytes, uint32_t align, bool dynamic, const Loc& loc) {
    if (!is_identifier(name)) fail(fmt::format("'{}' is not a valid variable name", name), loc);
    // Parameters print as param_<name>, and the entry's own name is a module-level symbol.
    if (name.rfind("param_", 0) == 0 || name == k_.name)
        fail(fmt::format("variable name '{}' is reserved (names starting with param_, or the kernel's own name)", name), loc);
    if (align == 0 || (align & (align - 1)) != 0) fail(fmt::format("alignment {} of '{}' is not a power of two", align, name), loc);
    for (const VarDecl& v : k_.vars) {
        // The dynamic array check first: a second one would otherwise report its fixed name as a duplicate.
        if (dynamic && v.dynamic) fail("a kernel has one dynamic shared array", loc);
        if (v.name == name) fail(fmt::format("variable '{}' is declared twice", name), loc);
    }
    k_.vars.push_back(VarDecl{std::move(name), space, bytes, align, dynamic});
    return static_cast<uint32_t>(k_.vars.size() - 1);
}

Operand KernelBuilder::materialize(const Operand& imm, const Loc& loc) {
    // PTX half-precision instructions take no immediates: move the bits into a register first.
    uint32_t id = new_reg(imm.type, {});
    Instr mv = make(Op::mov, storage_type(imm.type));
    mv.push(Operand::reg(id, imm.type));
    mv.push(imm);  // typed as mov<T>(value) types it, so the same text means the same IR
    emit(mv, loc);
    return Operand::reg(id, imm.type);
}

void KernelBuilder::emit(Instr in, Loc loc) {
    if (in.op != Op::mov) {
        for (int i = 1; i < in.nops; ++i) {
            Operand& o = in.operand(i);
            if (o.kind == OpKind::imm && is_half(o.type)) o = materialize(o, loc);
        }
    }
    if (guard_) {
        if (in.op == Op::label || in.op == Op::nounroll) fail("labels cannot be placed inside a predicated block", loc);
        in.guard = guard_->id;
        in.guard_neg = guard_->negated;
    }
    if (std::string why = form_error(in); !why.empty()) fail(fmt::format("{}: {}", spelling_of(in), why), loc);
    if (Requirement need = requirement(in); !need.satisfied_by(k_.target)) {
        fail(fmt::format("{} needs {}, but the kernel is built for {}", spelling_of(in), need.str(), k_.target.str()), loc);
    }
    k_.code.push_back(in);
    k_.locs.push_back(loc);
}

std::string KernelBuilder::spelling_of(const Instr& in) const {
    // Print the instruction in a scratch kernel that shares our register table.
    Kernel scratch;
    scratch.name = k_.name;
    scratch.regs = k_.regs;
    scratch.params = k_.params;
    scratch.vars = k_.vars;
    scratch.labels = k_.labels;
    scratch.code.push_back(in);
    try {
        return print_instruction(scratch, 0);
    } catch (const ptxsmith::Error&) {
        return std::string(spelling(in.op));
    }
}

Kernel KernelBuilder::finish() {
    if (guard_) throw ptxsmith::Error(fmt::format("kernel {}: finish() inside a predicated block", k_.name));
    if (k_.code.empty() || (k_.code.back().op != Op::ret && k_.code.back().op != Op::exit)) {
        Instr r = make(Op::ret, Type::b8);  // as ret() makes it
        k_.code.push_back(r);
        k_.locs.push_back(Loc::current());
    }
    verify(k_, VerifyOptions{.check_forms = false});  // emit() checked every form and requirement
    Kernel out = std::move(k_);
    k_ = Kernel{};
    return out;
}

// ---- parameters and special registers ----

GlobalPtr KernelBuilder::param_ptr(std::string name, Type pointee, Loc loc) {
    uint32_t index = declare_param(std::move(name), Type::u64, true, pointee, loc);
    Reg<u64> raw = reg<u64>();
    Instr ld = make(Op::ld, Type::u64);
    ld.m.space = Space::param;
    ld.push(raw.operand());
    ld.push(Operand::address(AddrBase::param, index, 0));
    emit(ld, loc);
    return cvta_to_global(raw, loc);
}

Reg<u32> KernelBuilder::sreg32(SReg s, Loc loc) {
    if (sreg_type(s) != Type::u32) fail(fmt::format("{} is 64-bit: read it with sreg64", spelling(s)), loc);
    Reg<u32> d = reg<u32>();
    Instr in = make(Op::mov, Type::u32);
    in.push(d.operand());
    in.push(Operand::sreg(s));
    emit(in, loc);
    return d;
}

Reg<u64> KernelBuilder::sreg64(SReg s, Loc loc) {
    if (sreg_type(s) != Type::u64) fail(fmt::format("{} is 32-bit: read it with sreg32", spelling(s)), loc);
    Reg<u64> d = reg<u64>();
    Instr in = make(Op::mov, Type::u64);
    in.push(d.operand());
    in.push(Operand::sreg(s));
    emit(in, loc);
    return d;
}

Reg<u32> KernelBuilder::global_index_x(Loc loc) {
    auto ctaid = sreg32(SReg::ctaid_x, loc);
    auto ntid = sreg32(SReg::ntid_x, loc);
    auto tid = sreg32(SReg::tid_x, loc);
    return mad_lo(ctaid, ntid, tid, loc);
}

// ---- predicates ----

Pred KernelBuilder::mov(Pred a, Loc loc) {
    Pred d = pred();
    mov(d, a, loc);
    return d;
}

void KernelBuilder::mov(Pred d, Pred a, Loc loc) {
    if (a.negated) {
        Instr in = make(Op::not_, Type::pred);
        in.push(d.operand());
        in.push((!a).operand());
        emit(in, loc);
        return;
    }
    Instr in = make(Op::mov, Type::pred);
    in.push(d.operand());
    in.push(a.operand());
    emit(in, loc);
}

namespace {
Instr pred_op(Op op, Pred d, Pred a, const Pred* b) {
    Instr in;
    in.op = op;
    in.type = Type::pred;
    in.push(d.operand());
    in.push(a.operand());
    if (b) in.push(b->operand());
    return in;
}
}  // namespace

Pred KernelBuilder::and_(Pred a, Pred b, Loc loc) { Pred d = pred(); emit(pred_op(Op::and_, d, a, &b), loc); return d; }
Pred KernelBuilder::or_(Pred a, Pred b, Loc loc) { Pred d = pred(); emit(pred_op(Op::or_, d, a, &b), loc); return d; }
Pred KernelBuilder::xor_(Pred a, Pred b, Loc loc) { Pred d = pred(); emit(pred_op(Op::xor_, d, a, &b), loc); return d; }
Pred KernelBuilder::not_(Pred a, Loc loc) { Pred d = pred(); emit(pred_op(Op::not_, d, a, nullptr), loc); return d; }

Pred KernelBuilder::setp_impl(Cmp c, Type t, Operand a, Operand b, BoolOp bop, Pred with, bool combine, const Loc& loc) {
    if (combine && bop == BoolOp::none) fail("setp with a second predicate needs .and, .or or .xor", loc);
    if (is_integer(t) || is_bits(t)) {
        bool unordered = c >= Cmp::equ;
        bool unsigned_only = c == Cmp::lo || c == Cmp::ls || c == Cmp::hi || c == Cmp::hs;
        if (unordered) fail(fmt::format("setp.{} compares floats only", spelling(c)), loc);
        if (unsigned_only && !is_unsigned(t) && !is_bits(t)) fail(fmt::format("setp.{} compares unsigned integers", spelling(c)), loc);
        if (is_bits(t) && c != Cmp::eq && c != Cmp::ne) fail("bit types compare only with eq and ne", loc);
    } else if (c == Cmp::lo || c == Cmp::ls || c == Cmp::hi || c == Cmp::hs) {
        fail(fmt::format("setp.{} compares unsigned integers", spelling(c)), loc);
    }
    Pred d = pred();
    Instr in = make(Op::setp, t);
    in.m.cmp = c;
    in.m.bop = bop;
    in.push(d.operand());
    in.push(a);
    in.push(b);
    if (combine) in.push(with.operand());
    emit(in, loc);
    return d;
}

// ---- arithmetic helpers without templates ----

Reg<f32> KernelBuilder::div_approx(Reg<f32> a, Val<f32> b, bool ftz, Loc loc) {
    Instr in = make(Op::div, Type::f32, {.ftz = ftz});
    in.m.approx = true;
    return def<f32>(in, {a.operand(), b.op}, loc);
}

Reg<f32> KernelBuilder::div_full(Reg<f32> a, Val<f32> b, bool ftz, Loc loc) {
    Instr in = make(Op::div, Type::f32, {.ftz = ftz});
    in.m.full = true;
    return def<f32>(in, {a.operand(), b.op}, loc);
}

// ---- conversions and addresses ----

GenericPtr KernelBuilder::cvta_generic(GlobalPtr p, Loc loc) {
    Reg<u64> d = reg<u64>();
    Instr in = make(Op::cvta, Type::u64);
    in.m.space = Space::global;
    in.push(d.operand());
    in.push(p.reg.operand());
    emit(in, loc);
    return GenericPtr{d};
}

GlobalPtr KernelBuilder::cvta_to_global(Reg<u64> generic, Loc loc) {
    Reg<u64> d = reg<u64>();
    Instr in = make(Op::cvta, Type::u64);
    in.m.space = Space::global;
    in.m.to_space = true;
    in.push(d.operand());
    in.push(generic.operand());
    emit(in, loc);
    return GlobalPtr{d};
}

GlobalPtr KernelBuilder::index(GlobalPtr p, Reg<u32> i, uint32_t elem_bytes, Loc loc) {
    return GlobalPtr{mad_wide<u32>(i, elem_bytes, p.reg, loc)};
}

GlobalPtr KernelBuilder::offset(GlobalPtr p, Val<u64> bytes, Loc loc) { return GlobalPtr{add<u64>(p.reg, bytes, {}, loc)}; }

SharedPtr KernelBuilder::index(SharedPtr p, Reg<u32> i, uint32_t elem_bytes, Loc loc) {
    return SharedPtr{mad_lo<u32>(i, elem_bytes, p.reg, loc)};
}

SharedPtr KernelBuilder::offset(SharedPtr p, Val<u32> bytes, Loc loc) { return SharedPtr{add<u32>(p.reg, bytes, {}, loc)}; }

SharedArray KernelBuilder::shared_array(std::string name, uint32_t bytes, uint32_t align, Loc loc) {
    if (bytes == 0) fail(fmt::format("shared array '{}' has no bytes", name), loc);
    SharedArray a{declare_var(name, Space::shared, bytes, align, false, loc), bytes};
    // Checked here as well as in verify(), so the error names the array and the line that declared it.
    if (uint32_t total = k_.static_shared_bytes(); total > kMaxStaticSharedBytes) {
        k_.vars.pop_back();
        fail(fmt::format("shared array '{}' brings static shared memory to {} bytes, more than the {} a kernel may "
                         "declare; use dynamic shared memory", name, total, kMaxStaticSharedBytes), loc);
    }
    return a;
}

SharedArray KernelBuilder::dynamic_shared(uint32_t align, Loc loc) {
    return SharedArray{declare_var("dynamic_smem", Space::shared, 0, align, true, loc), 0};
}

LocalArray KernelBuilder::local_array(std::string name, uint32_t bytes, uint32_t align, Loc loc) {
    if (bytes == 0) fail(fmt::format("local array '{}' has no bytes", name), loc);
    return LocalArray{declare_var(std::move(name), Space::local, bytes, align, false, loc), bytes};
}

SharedPtr KernelBuilder::addr_of(SharedArray a, Loc loc) {
    Reg<u32> d = reg<u32>();
    Instr in = make(Op::mov, Type::u32);
    in.push(d.operand());
    in.push(Operand::symbol(a.var));
    emit(in, loc);
    return SharedPtr{d};
}

// ---- memory ----

// ld and st have no half types (ptxas rejects ld.f16): half values travel as .b16 / .b32 bits.
Instr KernelBuilder::load_instr(Type mem, Space s, const Operand& addr, const LdOpts& o) {
    Instr in = make(Op::ld, storage_type(mem));
    in.m.space = s;
    in.m.cache = o.cache;
    in.m.evict = o.evict;
    in.m.l2_prefetch = o.l2_prefetch;
    in.m.nc = o.nc;
    in.m.vol = o.vol;
    in.nops = 2;
    in.ops[1] = addr;
    return in;
}

Instr KernelBuilder::store_instr(Type mem, Space s, const Operand& addr, const StOpts& o) {
    Instr in = make(Op::st, storage_type(mem));
    in.m.space = s;
    in.m.cache = o.cache;
    in.m.evict = o.evict;
    in.m.vol = o.vol;
    in.push(addr);
    return in;
}

Instr KernelBuilder::atomic_instr(Op op, AtomOp aop, Type t, Space s, const Operand& addr) {
    Instr in = make(op, t);
    in.m.atom = aop;
    in.m.space = s;
    in.nops = 2;
    in.ops[1] = addr;
    return in;
}

// ---- warp-level ----

void KernelBuilder::shfl_impl(ShflMode mode, Operand d, Operand a, Operand b, Operand c, uint32_t mask, Pred* valid,
                              const Loc& loc) {
    Instr in = make(Op::shfl, Type::b32);
    in.m.shfl = mode;
    in.push(d);
    if (valid) {
        *valid = pred();
        in.push(valid->operand());
    } else {
        in.push(Operand{});
    }
    in.push(a);
    in.push(b);
    in.push(c);
    in.push(Operand::imm(mask, Type::b32));
    emit(in, loc);
}

Pred KernelBuilder::vote_pred(VoteMode mode, Pred p, uint32_t mask, const Loc& loc) {
    Pred d = pred();
    Instr in = make(Op::vote, Type::pred);
    in.m.vote = mode;
    in.push(d.operand());
    in.push(p.operand());
    in.push(Operand::imm(mask, Type::b32));
    emit(in, loc);
    return d;
}

Reg<u32> KernelBuilder::vote_ballot(Pred p, uint32_t mask, Loc loc) {
    Reg<u32> d = reg<u32>();
    Instr in = make(Op::vote, Type::b32);
    in.m.vote = VoteMode::ballot;
    in.push(d.operand());
    in.push(p.operand());
    in.push(Operand::imm(mask, Type::b32));
    emit(in, loc);
    return d;
}

Reg<u32> KernelBuilder::activemask(Loc loc) {
    Reg<u32> d = reg<u32>();
    Instr in = make(Op::activemask, Type::b32);
    in.push(d.operand());
    emit(in, loc);
    return d;
}

void KernelBuilder::dot_impl(Op op, DpHalf half, Operand d, Operand a, Operand b, Operand c, const Loc& loc) {
    Instr in = make(op, a.type);
    in.type2 = b.type;
    in.m.half = half;
    in.push(d);
    in.push(a);
    in.push(b);
    in.push(c);
    emit(in, loc);
}

// ---- synchronisation ----

void KernelBuilder::bar_sync(uint32_t id, uint32_t threads, Loc loc) {
    if (id > 15) fail(fmt::format("barrier {} does not exist: CTAs have barriers 0..15", id), loc);
    if (threads % 32 != 0) fail(fmt::format("bar.sync counts whole warps, not {} threads", threads), loc);
    Instr in = make(Op::bar, Type::u32);
    in.m.bar = BarKind::sync;
    in.push(Operand::imm(id, Type::u32));
    if (threads) in.push(Operand::imm(threads, Type::u32));
    emit(in, loc);
}

void KernelBuilder::bar_arrive(uint32_t id, uint32_t threads, Loc loc) {
    if (id > 15) fail(fmt::format("barrier {} does not exist: CTAs have barriers 0..15", id), loc);
    if (threads == 0 || threads % 32 != 0) fail(fmt::format("bar.arrive needs a thread count in whole warps, not {}", threads), loc);
    Instr in = make(Op::bar, Type::u32);
    in.m.bar = BarKind::arrive;
    in.push(Operand::imm(id, Type::u32));
    in.push(Operand::imm(threads, Type::u32));
    emit(in, loc);
}

void KernelBuilder::bar_warp_sync(uint32_t mask, Loc loc) {
    Instr in = make(Op::bar_warp_sync, Type::b32);
    in.push(Operand::imm(mask, Type::b32));
    emit(in, loc);
}

void KernelBuilder::membar(Scope s, Loc loc) {
    if (s == Scope::none) fail("membar needs a scope", loc);
    Instr in = make(Op::membar, Type::b32);
    in.m.scope = s;
    emit(in, loc);
}

void KernelBuilder::fence(FenceSem sem, Scope s, Loc loc) {
    Instr in = make(Op::fence, Type::b32);
    in.m.fence = sem;
    in.m.scope = s;
    emit(in, loc);
}

// ---- tensor cores and async copies ----

Regs<s32, 4> KernelBuilder::mma_m16n8k32_s8(const Regs<b32, 4>& a, const Regs<b32, 2>& b, const Regs<s32, 4>& c,
                                            bool satfinite, Loc loc) {
    Regs<s32, 4> d{reg<s32>(), reg<s32>(), reg<s32>(), reg<s32>()};
    Instr in = make(Op::mma, Type::s32);
    in.type2 = Type::s8;
    in.m.shape = MmaShape::m16n8k32;
    in.m.sat = satfinite;
    in.push(vec_operand<s32>(d));
    in.push(vec_operand<b32>(a));
    in.push(vec_operand<b32>(b));
    in.push(vec_operand<s32>(c));
    emit(in, loc);
    return d;
}

Regs<s32, 2> KernelBuilder::mma_m8n8k16_s8(Reg<b32> a, Reg<b32> b, const Regs<s32, 2>& c, Loc loc) {
    Regs<s32, 2> d{reg<s32>(), reg<s32>()};
    Instr in = make(Op::mma, Type::s32);
    in.type2 = Type::s8;
    in.m.shape = MmaShape::m8n8k16;
    in.push(vec_operand<s32>(d));
    in.push(vec_operand<b32>(Regs<b32, 1>{a}));
    in.push(vec_operand<b32>(Regs<b32, 1>{b}));
    in.push(vec_operand<s32>(c));
    emit(in, loc);
    return d;
}

void KernelBuilder::cp_async(Address<Space::shared> dst, Address<Space::global> src, uint32_t bytes, CpAsyncCache cache,
                             std::optional<Reg<u32>> src_bytes, Loc loc) {
    Instr in = make(Op::cp_async, Type::b8);
    in.m.cp_cache = cache;
    in.push(dst.op);
    in.push(src.op);
    in.push(Operand::imm(bytes, Type::u32));
    if (src_bytes) in.push(src_bytes->operand());
    emit(in, loc);
}

void KernelBuilder::cp_async_commit(Loc loc) { emit(make(Op::cp_async_commit, Type::b8), loc); }
void KernelBuilder::griddep_wait(Loc loc) { emit(make(Op::griddep_wait, Type::b8), loc); }
void KernelBuilder::griddep_launch_dependents(Loc loc) { emit(make(Op::griddep_launch, Type::b8), loc); }

void KernelBuilder::prefetch_l2(Address<Space::global> a, Loc loc) {
    Instr in = make(Op::prefetch, Type::b8);
    in.m.space = Space::global;
    in.push(a.op);
    emit(in, loc);
}

void KernelBuilder::cp_async_wait(uint32_t pending_groups, Loc loc) {
    Instr in = make(Op::cp_async_wait, Type::b8);
    in.push(Operand::imm(pending_groups, Type::u32));
    emit(in, loc);
}

void KernelBuilder::cp_async_wait_all(Loc loc) { emit(make(Op::cp_async_wait, Type::b8), loc); }

// ---- control flow ----

Label KernelBuilder::label(std::string_view hint) {
    std::string base(hint.empty() ? "L" : hint);
    for (char& c : base) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
    }
    k_.labels.push_back(LabelInfo{fmt::format("$L_{}_{}", base, label_counter_++)});
    return Label{static_cast<uint32_t>(k_.labels.size() - 1)};
}

void KernelBuilder::bind(Label l, Loc loc) {
    if (l.id >= k_.labels.size()) fail("bind() of a label from another builder", loc);
    Instr in = make(Op::label, Type::b8);
    in.push(Operand::label(l.id));
    emit(in, loc);
}

void KernelBuilder::emit_branch(Label target, std::optional<Pred> when, const Loc& loc) {
    Instr in = make(Op::bra, Type::b8);
    in.push(Operand::label(target.id));
    if (when) {
        in.guard = when->id;
        in.guard_neg = when->negated;
        if (guard_) fail("a conditional branch inside a predicated block", loc);
    }
    emit(in, loc);
}

void KernelBuilder::bra(Label l, bool uniform, Loc loc) {
    if (l.id >= k_.labels.size()) fail("bra to a label from another builder", loc);
    Instr in = make(Op::bra, Type::b8);
    in.m.uni = uniform;
    in.push(Operand::label(l.id));
    emit(in, loc);
}

void KernelBuilder::ret(Loc loc) { emit(make(Op::ret, Type::b8), loc); }
void KernelBuilder::exit(Loc loc) { emit(make(Op::exit, Type::b8), loc); }

void KernelBuilder::predicated(Pred p, const std::function<void()>& body) {
    if (guard_) throw ptxsmith::Error(fmt::format("kernel {}: predicated blocks do not nest; combine the predicates with and_", k_.name));
    guard_ = p;
    try {
        body();
    } catch (...) {
        guard_.reset();
        throw;
    }
    guard_.reset();
}

void KernelBuilder::if_(Pred p, const std::function<void()>& then, Loc loc) {
    Label skip = label("endif");
    emit_branch(skip, !p, loc);
    then();
    bind(skip, loc);
}

void KernelBuilder::if_else(Pred p, const std::function<void()>& then, const std::function<void()>& otherwise, Loc loc) {
    Label else_ = label("else");
    Label end = label("endif");
    emit_branch(else_, !p, loc);
    then();
    emit_branch(end, std::nullopt, loc);
    bind(else_, loc);
    otherwise();
    bind(end, loc);
}

void KernelBuilder::for_range(Val<u32> begin, Val<u32> end, uint32_t step, const std::function<void(Reg<u32>)>& body,
                              Unroll unroll, Loc loc) {
    if (step == 0) fail("for_range needs a positive step", loc);
    if (unroll.factor < 0) fail("an unroll factor cannot be negative", loc);
    Reg<u32> i = mov<u32>(begin, loc);
    Reg<u32> limit = mov<u32>(end, loc);  // read once, so the body may not change the bound
    Label done = label("for_end");
    if (unroll.factor > 1) {
        // Main loop: while more than (factor-1)*step iterations' worth remain, run `factor` bodies;
        // then the remainder loop. `limit - i` is only trusted when i < limit, so nothing wraps.
        const uint32_t span = (static_cast<uint32_t>(unroll.factor) - 1) * step;
        auto room_for_all = [&] {
            Pred inside = setp<u32>(Cmp::lt, i, limit, loc);
            return setp<u32>(Cmp::gt, sub<u32>(limit, i, {}, loc), span, BoolOp::and_, inside, loc);
        };
        Label main_top = label("for_unrolled");
        Label main_end = label("for_unrolled_end");
        emit_branch(main_end, !room_for_all(), loc);
        bind(main_top, loc);
        for (int u = 0; u < unroll.factor; ++u) {
            body(i);
            increment(i, step, loc);
        }
        emit_branch(main_top, room_for_all(), loc);
        bind(main_end, loc);
    }
    emit_branch(done, !setp<u32>(Cmp::lt, i, limit, loc), loc);
    Label top = label("for");
    bind(top, loc);
    if (unroll.factor == 1) emit(make(Op::nounroll, Type::b8), loc);
    body(i);
    increment(i, step, loc);
    emit_branch(top, setp<u32>(Cmp::lt, i, limit, loc), loc);
    bind(done, loc);
}

void KernelBuilder::increment(Reg<u32> i, uint32_t step, const Loc& loc) {
    Instr inc = make(Op::add, Type::u32);
    inc.push(i.operand());
    inc.push(i.operand());
    inc.push(Operand::imm(step, Type::u32));
    emit(inc, loc);
}

void KernelBuilder::while_(const std::function<Pred()>& cond, const std::function<void()>& body, Loc loc) {
    Label top = label("while");
    Label done = label("while_end");
    bind(top, loc);
    Pred p = cond();
    emit_branch(done, !p, loc);
    body();
    emit_branch(top, std::nullopt, loc);
    bind(done, loc);
}

}  // namespace ptxgen
