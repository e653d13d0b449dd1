// KernelBuilder: methods named after PTX mnemonics append instructions to a kernel's IR.
//
//   KernelBuilder b("saxpy", Target{90});
//   auto x = b.param_ptr("x", Type::f32);
//   auto i = b.global_index_x();
//   auto v = b.ld<f32>(b.index(x, i, 4)[0]);
//   ...
//   Kernel k = b.finish();          // verifies; print with print_ptx(k)
//
// Operand types are checked at compile time (an add of Reg<f32> and Reg<u32> does not compile);
// combinations the types cannot express (a rounding mode an instruction lacks, an instruction the
// target cannot have) throw ptxsmith::Error naming the kernel, the instruction index and the C++
// line of the call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ptxgen/handles.hpp"
#include "ptxgen/ir.hpp"

namespace ptxgen {

using Loc = SourceLoc;

// Rounding, flush-to-zero and saturation for float arithmetic and conversions.
struct FMode {
    Round round = Round::none;
    bool ftz = false;
    bool sat = false;
};

struct LdOpts {
    CacheOp cache = CacheOp::none;
    Evict evict = Evict::none;
    bool nc = false;   // read-only path (global loads only)
    bool vol = false;  // volatile
    // .L2::64B/128B/256B: on a miss, L2 fetches this many bytes around the line (0: the
    // default). Global loads, sm_75 and PTX 7.4 (256: sm_80).
    uint16_t l2_prefetch = 0;
};

struct StOpts {
    CacheOp cache = CacheOp::none;
    Evict evict = Evict::none;
    bool vol = false;
};

// Loop unrolling requested of for_range: 0 leaves it to ptxas, 1 forbids it (.pragma "nounroll"),
// n > 1 emits the body n times per iteration plus a remainder loop.
struct Unroll {
    int factor = 0;
};

// The register a narrow memory type is loaded into or stored from.
template <class M> struct RegOfT { using type = M; };
template <> struct RegOfT<u8> { using type = u32; };
template <> struct RegOfT<s8> { using type = s32; };
template <> struct RegOfT<b8> { using type = b32; };
template <class M> using RegOf = typename RegOfT<M>::type;

// The double-width type of mul.wide / mad.wide.
template <class T> struct WideT;
template <> struct WideT<u16> { using type = u32; };
template <> struct WideT<s16> { using type = s32; };
template <> struct WideT<u32> { using type = u64; };
template <> struct WideT<s32> { using type = s64; };
template <class T> using Wide = typename WideT<T>::type;

template <class T> concept WidenableTag = requires { typename WideT<T>::type; };
template <class T> concept FloatOrHalfTag = FloatTag<T> || HalfTag<T>;

class KernelBuilder {
public:
    explicit KernelBuilder(std::string name, Target target = {}, Loc loc = Loc::current());

    const std::string& name() const { return k_.name; }
    const Target& target() const { return k_.target; }
    const Kernel& peek() const { return k_; }   // the IR so far
    size_t size() const { return k_.code.size(); }

    // Verifies and hands over the kernel; the builder is empty afterwards.
    Kernel finish();

    // ---- parameters: declared in call order, each loaded where it is declared ----
    GlobalPtr param_ptr(std::string name, Type pointee, Loc loc = Loc::current());
    template <RegTag T> Reg<T> param(std::string name, Loc loc = Loc::current()) {
        uint32_t index = declare_param(std::move(name), T::type, false, T::type, loc);
        Reg<T> d = reg<T>();
        Instr in = make(Op::ld, storage_type(T::type));  // ld has no half types: halves load as bits
        in.m.space = Space::param;
        in.push(d.operand());
        in.push(Operand::address(AddrBase::param, index, 0));
        emit(in, loc);
        return d;
    }
    void reqntid(uint32_t x, uint32_t y = 1, uint32_t z = 1) { k_.reqntid = {x, y, z}; }
    void maxntid(uint32_t x, uint32_t y = 1, uint32_t z = 1) { k_.maxntid = {x, y, z}; }
    // Asks ptxas to fit at least `ctas` CTAs on an SM (it caps the registers per thread to do so);
    // ptxas honours it only beside reqntid or maxntid, which finish() checks.
    void min_ctas_per_sm(uint32_t ctas) { k_.minnctapersm = ctas; }

    // ---- registers ----
    template <RegTag T> Reg<T> reg(std::string_view hint = {}) { return Reg<T>{new_reg(T::type, hint)}; }
    Pred pred(std::string_view hint = {}) { return Pred{new_reg(Type::pred, hint), false}; }

    // ---- special registers ----
    Reg<u32> sreg32(SReg s, Loc loc = Loc::current());
    Reg<u64> sreg64(SReg s, Loc loc = Loc::current());
    Reg<u32> tid_x(Loc loc = Loc::current()) { return sreg32(SReg::tid_x, loc); }
    Reg<u32> tid_y(Loc loc = Loc::current()) { return sreg32(SReg::tid_y, loc); }
    Reg<u32> ntid_x(Loc loc = Loc::current()) { return sreg32(SReg::ntid_x, loc); }
    Reg<u32> ctaid_x(Loc loc = Loc::current()) { return sreg32(SReg::ctaid_x, loc); }
    Reg<u32> ctaid_y(Loc loc = Loc::current()) { return sreg32(SReg::ctaid_y, loc); }
    Reg<u32> nctaid_x(Loc loc = Loc::current()) { return sreg32(SReg::nctaid_x, loc); }
    Reg<u32> laneid(Loc loc = Loc::current()) { return sreg32(SReg::laneid, loc); }
    Reg<u32> warpid(Loc loc = Loc::current()) { return sreg32(SReg::warpid, loc); }
    Reg<u64> clock64(Loc loc = Loc::current()) { return sreg64(SReg::clock64, loc); }
    Reg<u64> globaltimer(Loc loc = Loc::current()) { return sreg64(SReg::globaltimer, loc); }
    // ctaid.x * ntid.x + tid.x, the usual flat index of a 1-D launch.
    Reg<u32> global_index_x(Loc loc = Loc::current());

    // ---- moves ----
    template <RegTag T> Reg<T> mov(Val<T> a, Loc loc = Loc::current()) {
        Reg<T> d = reg<T>();
        mov(d, a, loc);
        return d;
    }
    template <RegTag T> void mov(Reg<T> d, std::type_identity_t<Val<T>> a, Loc loc = Loc::current()) {
        Instr in = make(Op::mov, storage_type(T::type));  // mov has no half types: halves move as bits
        in.push(d.operand());
        in.push(a.op);
        emit(in, loc);
    }
    Pred mov(Pred a, Loc loc = Loc::current());
    void mov(Pred d, Pred a, Loc loc = Loc::current());
    // Reinterprets the bits of a register as another type of the same width (mov.bN).
    template <RegTag To, RegTag From>
        requires(bit_width(To::type) == bit_width(From::type))
    Reg<To> bitcast(Reg<From> a, Loc loc = Loc::current()) {
        Reg<To> d = reg<To>();
        Instr in = make(Op::mov, bits_of_width(bit_width(To::type)));
        in.push(d.operand());
        in.push(a.operand());
        emit(in, loc);
        return d;
    }
    // Packs two halves into one register, low half first: mov.b32 d, {lo, hi} (and b64 from two b32).
    template <RegTag To, RegTag From>
        requires(bit_width(To::type) == 2 * bit_width(From::type))
    Reg<To> pack(Reg<From> lo, Reg<From> hi, Loc loc = Loc::current()) {
        Reg<To> d = reg<To>();
        Instr in = make(Op::mov, bits_of_width(bit_width(To::type)));
        in.push(d.operand());
        in.push(vec_operand<From, 2>({lo, hi}));
        emit(in, loc);
        return d;
    }
    template <RegTag To, RegTag From>
        requires(2 * bit_width(To::type) == bit_width(From::type))
    Regs<To, 2> unpack(Reg<From> a, Loc loc = Loc::current()) {
        Regs<To, 2> d{reg<To>(), reg<To>()};
        Instr in = make(Op::mov, bits_of_width(bit_width(From::type)));
        in.push(vec_operand<To, 2>({d[0], d[1]}));
        in.push(a.operand());
        emit(in, loc);
        return d;
    }

    // ---- arithmetic ----
    template <NumericTag T> Reg<T> add(Reg<T> a, std::type_identity_t<Val<T>> b, FMode m = {}, Loc loc = Loc::current()) {
        return binary<T>(Op::add, a.operand(), b.op, m, loc);
    }
    template <NumericTag T> Reg<T> sub(Reg<T> a, std::type_identity_t<Val<T>> b, FMode m = {}, Loc loc = Loc::current()) {
        return binary<T>(Op::sub, a.operand(), b.op, m, loc);
    }
    // Float multiply; integers use mul_lo, mul_hi or mul_wide.
    template <FloatOrHalfTag T> Reg<T> mul(Reg<T> a, std::type_identity_t<Val<T>> b, FMode m = {}, Loc loc = Loc::current()) {
        return binary<T>(Op::mul, a.operand(), b.op, m, loc);
    }
    template <IntTag T> Reg<T> mul_lo(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return binary<T>(Op::mul, a.operand(), b.op, {}, loc, MulMode::lo);
    }
    template <IntTag T> Reg<T> mul_hi(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return binary<T>(Op::mul, a.operand(), b.op, {}, loc, MulMode::hi);
    }
    template <WidenableTag T> Reg<Wide<T>> mul_wide(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        Reg<Wide<T>> d = reg<Wide<T>>();
        Instr in = make(Op::mul, T::type);
        in.m.mul = MulMode::wide;
        in.push(d.operand());
        in.push(a.operand());
        in.push(b.op);
        emit(in, loc);
        return d;
    }
    template <IntTag T> Reg<T> mad_lo(Reg<T> a, std::type_identity_t<Val<T>> b, std::type_identity_t<Val<T>> c, Loc loc = Loc::current()) {
        return ternary<T>(Op::mad, a.operand(), b.op, c.op, {}, loc, MulMode::lo);
    }
    template <IntTag T> Reg<T> mad_hi(Reg<T> a, std::type_identity_t<Val<T>> b, std::type_identity_t<Val<T>> c, Loc loc = Loc::current()) {
        return ternary<T>(Op::mad, a.operand(), b.op, c.op, {}, loc, MulMode::hi);
    }
    template <WidenableTag T> Reg<Wide<T>> mad_wide(Reg<T> a, std::type_identity_t<Val<T>> b, std::type_identity_t<Val<Wide<T>>> c, Loc loc = Loc::current()) {
        Reg<Wide<T>> d = reg<Wide<T>>();
        Instr in = make(Op::mad, T::type);
        in.m.mul = MulMode::wide;
        in.push(d.operand());
        in.push(a.operand());
        in.push(b.op);
        in.push(c.op);
        emit(in, loc);
        return d;
    }
    // Fused multiply-add; rounds to nearest unless told otherwise.
    template <FloatOrHalfTag T> Reg<T> fma(Reg<T> a, std::type_identity_t<Val<T>> b, std::type_identity_t<Val<T>> c, FMode m = {}, Loc loc = Loc::current()) {
        if (m.round == Round::none) m.round = Round::rn;
        return ternary<T>(Op::fma, a.operand(), b.op, c.op, m, loc);
    }
    // Integer division, or float division with a rounding mode (div.rn.f32, div.rn.f64).
    template <NumericTag T> Reg<T> div(Reg<T> a, std::type_identity_t<Val<T>> b, FMode m = {}, Loc loc = Loc::current()) {
        return binary<T>(Op::div, a.operand(), b.op, m, loc);
    }
    Reg<f32> div_approx(Reg<f32> a, Val<f32> b, bool ftz = false, Loc loc = Loc::current());
    Reg<f32> div_full(Reg<f32> a, Val<f32> b, bool ftz = false, Loc loc = Loc::current());
    template <IntTag T> Reg<T> rem(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return binary<T>(Op::rem, a.operand(), b.op, {}, loc);
    }
    template <NumericTag T> Reg<T> min(Reg<T> a, std::type_identity_t<Val<T>> b, FMode m = {}, Loc loc = Loc::current()) {
        return binary<T>(Op::min, a.operand(), b.op, m, loc);
    }
    template <NumericTag T> Reg<T> max(Reg<T> a, std::type_identity_t<Val<T>> b, FMode m = {}, Loc loc = Loc::current()) {
        return binary<T>(Op::max, a.operand(), b.op, m, loc);
    }
    template <NumericTag T> Reg<T> abs(Reg<T> a, FMode m = {}, Loc loc = Loc::current()) {
        return unary<T>(Op::abs, T::type, a.operand(), m, loc);
    }
    template <NumericTag T> Reg<T> neg(Reg<T> a, FMode m = {}, Loc loc = Loc::current()) {
        return unary<T>(Op::neg, T::type, a.operand(), m, loc);
    }

    // ---- bit operations (printed with .bN spellings, as PTX requires) ----
    template <BitsTag T> Reg<T> and_(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return bitwise<T>(Op::and_, a.operand(), b.op, loc);
    }
    template <BitsTag T> Reg<T> or_(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return bitwise<T>(Op::or_, a.operand(), b.op, loc);
    }
    template <BitsTag T> Reg<T> xor_(Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return bitwise<T>(Op::xor_, a.operand(), b.op, loc);
    }
    template <BitsTag T> Reg<T> not_(Reg<T> a, Loc loc = Loc::current()) {
        return unary<T>(Op::not_, bits_of_width(bit_width(T::type)), a.operand(), {}, loc);
    }
    Pred and_(Pred a, Pred b, Loc loc = Loc::current());
    Pred or_(Pred a, Pred b, Loc loc = Loc::current());
    Pred xor_(Pred a, Pred b, Loc loc = Loc::current());
    Pred not_(Pred a, Loc loc = Loc::current());
    template <BitsTag T> Reg<T> shl(Reg<T> a, Val<u32> n, Loc loc = Loc::current()) {
        return shift<T>(Op::shl, bits_of_width(bit_width(T::type)), a, n, loc);
    }
    // Logical shift for unsigned and bit types, arithmetic for signed.
    template <BitsTag T> Reg<T> shr(Reg<T> a, Val<u32> n, Loc loc = Loc::current()) {
        return shift<T>(Op::shr, T::type, a, n, loc);
    }
    // Extracts `len` bits from `pos` (zero- or sign-extended by T's signedness).
    template <Int32Or64Tag T> Reg<T> bfe(Reg<T> a, Val<u32> pos, Val<u32> len, Loc loc = Loc::current()) {
        return def<T>(make(Op::bfe, T::type), {a.operand(), pos.op, len.op}, loc);
    }
    // Inserts the low `len` bits of `a` into `b` at `pos`.
    template <BitsTag T>
        requires(bit_width(T::type) >= 32)
    Reg<T> bfi(Reg<T> a, std::type_identity_t<Val<T>> b, Val<u32> pos, Val<u32> len, Loc loc = Loc::current()) {
        return def<T>(make(Op::bfi, bits_of_width(bit_width(T::type))), {a.operand(), b.op, pos.op, len.op}, loc);
    }
    // Byte permute: selects four bytes of {b, a} by the nibbles of `selector`.
    template <Word32Tag T> Reg<T> prmt(Reg<T> a, std::type_identity_t<Val<T>> b, Val<u32> selector, Loc loc = Loc::current()) {
        return def<T>(make(Op::prmt, Type::b32), {a.operand(), b.op, selector.op}, loc);
    }
    template <BitsTag T> requires(bit_width(T::type) >= 32) Reg<u32> popc(Reg<T> a, Loc loc = Loc::current()) {
        return count_bits<T>(Op::popc, a, loc);
    }
    template <BitsTag T> requires(bit_width(T::type) >= 32) Reg<u32> clz(Reg<T> a, Loc loc = Loc::current()) {
        return count_bits<T>(Op::clz, a, loc);
    }
    template <BitsTag T> requires(bit_width(T::type) >= 32) Reg<T> brev(Reg<T> a, Loc loc = Loc::current()) {
        return unary<T>(Op::brev, bits_of_width(bit_width(T::type)), a.operand(), {}, loc);
    }

    // ---- comparison and selection ----
    template <NumericTag T> Pred setp(Cmp c, Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return setp_impl(c, T::type, a.operand(), b.op, BoolOp::none, Pred{}, false, loc);
    }
    template <BitsTag T> Pred setp_bits(Cmp c, Reg<T> a, std::type_identity_t<Val<T>> b, Loc loc = Loc::current()) {
        return setp_impl(c, bits_of_width(bit_width(T::type)), a.operand(), b.op, BoolOp::none, Pred{}, false, loc);
    }
    // setp.CMP.BOP: p = (a CMP b) BOP c.
    template <NumericTag T> Pred setp(Cmp c, Reg<T> a, std::type_identity_t<Val<T>> b, BoolOp bop, Pred with, Loc loc = Loc::current()) {
        return setp_impl(c, T::type, a.operand(), b.op, bop, with, true, loc);
    }
    template <RegTag T> Reg<T> selp(Val<T> if_true, std::type_identity_t<Val<T>> if_false, Pred p, Loc loc = Loc::current()) {
        Reg<T> d = reg<T>();
        Instr in = make(Op::selp, is_half(T::type) ? storage_type(T::type) : T::type);
        in.push(d.operand());
        in.push(if_true.op);
        in.push(if_false.op);
        in.push(p.operand());
        emit(in, loc);
        return d;
    }

    // ---- conversions ----
    // cvt.<rounding>.<sat>.<ftz>.To.From; the rounding modes PTX requires are checked.
    template <MemTag To, RegTag From> Reg<RegOf<To>> cvt(Reg<From> a, FMode m = {}, Loc loc = Loc::current()) {
        Reg<RegOf<To>> d = reg<RegOf<To>>();
        Instr in = make(Op::cvt, To::type);
        in.type2 = From::type;
        apply(in.m, m);
        in.push(d.operand());
        in.push(a.operand());
        emit(in, loc);
        return d;
    }
    // cvt.rn.f16x2.f32 / .bf16x2.f32: packs two floats, `hi` into the upper half.
    template <HalfTag To>
        requires(is_packed(To::type))
    Reg<To> cvt_pair(Reg<f32> hi, Reg<f32> lo, FMode m = {.round = Round::rn}, Loc loc = Loc::current()) {
        Reg<To> d = reg<To>();
        Instr in = make(Op::cvt, To::type);
        in.type2 = Type::f32;
        apply(in.m, m);
        in.push(d.operand());
        in.push(hi.operand());
        in.push(lo.operand());
        emit(in, loc);
        return d;
    }
    // A generic address of a global pointer (cvta.global) and back (cvta.to.global).
    GenericPtr cvta_generic(GlobalPtr p, Loc loc = Loc::current());
    GlobalPtr cvta_to_global(Reg<u64> generic, Loc loc = Loc::current());

    // ---- math ----
    template <FloatOrHalfTag T> Reg<T> ex2(Reg<T> a, FMode m = {}, Loc loc = Loc::current()) { return math<T>(Op::ex2, a, m, true, loc); }
    Reg<f32> lg2(Reg<f32> a, FMode m = {}, Loc loc = Loc::current()) { return math<f32>(Op::lg2, a, m, true, loc); }
    // rcp/sqrt: approximate by default, or correctly rounded with m.round.
    template <FloatTag T> Reg<T> rcp(Reg<T> a, FMode m = {}, Loc loc = Loc::current()) { return math<T>(Op::rcp, a, m, m.round == Round::none, loc); }
    template <FloatTag T> Reg<T> rsqrt(Reg<T> a, FMode m = {}, Loc loc = Loc::current()) { return math<T>(Op::rsqrt, a, m, true, loc); }
    template <FloatTag T> Reg<T> sqrt(Reg<T> a, FMode m = {}, Loc loc = Loc::current()) { return math<T>(Op::sqrt, a, m, m.round == Round::none, loc); }
    template <FloatOrHalfTag T> Reg<T> tanh(Reg<T> a, Loc loc = Loc::current()) { return math<T>(Op::tanh, a, {}, true, loc); }
    Reg<f32> sin(Reg<f32> a, FMode m = {}, Loc loc = Loc::current()) { return math<f32>(Op::sin, a, m, true, loc); }
    Reg<f32> cos(Reg<f32> a, FMode m = {}, Loc loc = Loc::current()) { return math<f32>(Op::cos, a, m, true, loc); }

    // ---- addresses ----
    // p + i * elem_bytes in one mad.wide.u32.
    GlobalPtr index(GlobalPtr p, Reg<u32> i, uint32_t elem_bytes, Loc loc = Loc::current());
    GlobalPtr offset(GlobalPtr p, Val<u64> bytes, Loc loc = Loc::current());
    SharedPtr index(SharedPtr p, Reg<u32> i, uint32_t elem_bytes, Loc loc = Loc::current());
    SharedPtr offset(SharedPtr p, Val<u32> bytes, Loc loc = Loc::current());

    // ---- memory variables ----
    // Static shared arrays may total at most 48 KB (kMaxStaticSharedBytes); more must be dynamic.
    SharedArray shared_array(std::string name, uint32_t bytes, uint32_t align = 16, Loc loc = Loc::current());
    // The dynamic shared array, sized at launch (one per kernel).
    SharedArray dynamic_shared(uint32_t align = 16, Loc loc = Loc::current());
    LocalArray local_array(std::string name, uint32_t bytes, uint32_t align = 16, Loc loc = Loc::current());
    // The address of a shared array as a register (mov.u32 d, name).
    SharedPtr addr_of(SharedArray a, Loc loc = Loc::current());

    // ---- loads and stores: scalar and v2/v4, 8 to 128 bits ----
    template <MemTag M, Space S> Reg<RegOf<M>> ld(Address<S> a, LdOpts o = {}, Loc loc = Loc::current()) {
        Reg<RegOf<M>> d = reg<RegOf<M>>();
        Instr in = load_instr(M::type, S, a.op, o);
        in.ops[0] = d.operand();
        emit(in, loc);
        return d;
    }
    template <MemTag M, int N, Space S>
        requires(N == 2 || N == 4)
    Regs<RegOf<M>, N> ld_v(Address<S> a, LdOpts o = {}, Loc loc = Loc::current()) {
        Regs<RegOf<M>, N> d;
        for (auto& r : d) r = reg<RegOf<M>>();
        Instr in = load_instr(M::type, S, a.op, o);
        in.m.vec = N;
        in.ops[0] = vec_operand<RegOf<M>>(d);
        emit(in, loc);
        return d;
    }
    template <MemTag M, Space S> void st(Address<S> a, Val<RegOf<M>> v, StOpts o = {}, Loc loc = Loc::current()) {
        Instr in = store_instr(M::type, S, a.op, o);
        in.push(v.op);
        emit(in, loc);
    }
    // Stores a register of its own type: b.st(addr, reg).
    template <RegTag T, Space S> void st(Address<S> a, Reg<T> v, StOpts o = {}, Loc loc = Loc::current()) {
        st<T, S>(a, Val<T>(v), o, loc);
    }
    template <MemTag M, int N, Space S>
        requires(N == 2 || N == 4)
    void st_v(Address<S> a, const Regs<RegOf<M>, N>& v, StOpts o = {}, Loc loc = Loc::current()) {
        Instr in = store_instr(M::type, S, a.op, o);
        in.m.vec = N;
        in.push(vec_operand<RegOf<M>>(v));
        emit(in, loc);
    }

    // ---- warp-level ----
    // shfl.sync.MODE.b32 d[|valid], a, b, c, membermask. `c` packs clamp and segment mask as PTX defines.
    template <Word32Tag T> Reg<T> shfl(ShflMode mode, Reg<T> a, Val<u32> b, Val<u32> c, uint32_t membermask = 0xffffffffu,
                                       Pred* valid = nullptr, Loc loc = Loc::current()) {
        Reg<T> d = reg<T>();
        shfl_impl(mode, d.operand(), a.operand(), b.op, c.op, membermask, valid, loc);
        return d;
    }
    template <Word32Tag T> Reg<T> shfl_down(Reg<T> a, Val<u32> delta, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) {
        return shfl<T>(ShflMode::down, a, delta, 0x1f, mask, nullptr, loc);
    }
    template <Word32Tag T> Reg<T> shfl_up(Reg<T> a, Val<u32> delta, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) {
        return shfl<T>(ShflMode::up, a, delta, 0, mask, nullptr, loc);
    }
    template <Word32Tag T> Reg<T> shfl_bfly(Reg<T> a, Val<u32> lane_mask, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) {
        return shfl<T>(ShflMode::bfly, a, lane_mask, 0x1f, mask, nullptr, loc);
    }
    template <Word32Tag T> Reg<T> shfl_idx(Reg<T> a, Val<u32> src_lane, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) {
        return shfl<T>(ShflMode::idx, a, src_lane, 0x1f, mask, nullptr, loc);
    }
    Pred vote_all(Pred p, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) { return vote_pred(VoteMode::all, p, mask, loc); }
    Pred vote_any(Pred p, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) { return vote_pred(VoteMode::any, p, mask, loc); }
    Pred vote_uni(Pred p, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) { return vote_pred(VoteMode::uni, p, mask, loc); }
    Reg<u32> vote_ballot(Pred p, uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
    Reg<u32> activemask(Loc loc = Loc::current());
    // redux.sync: add/min/max on u32 and s32, and/or/xor on 32-bit values.
    template <Word32Tag T>
        requires(is_integer(T::type) || is_bits(T::type))
    Reg<T> redux(AtomOp op, Reg<T> a, uint32_t mask = 0xffffffffu, Loc loc = Loc::current()) {
        Reg<T> d = reg<T>();
        bool logical = op == AtomOp::and_ || op == AtomOp::or_ || op == AtomOp::xor_;
        Instr in = make(Op::redux, logical ? Type::b32 : T::type);
        in.m.atom = op;
        in.push(d.operand());
        in.push(a.operand());
        in.push(Operand::imm(mask, Type::b32));
        emit(in, loc);
        return d;
    }

    // ---- integer dot products: d = c + sum of products of the 8-bit (dp4a) or 16x8-bit (dp2a) parts ----
    template <class TA, class TB>
        requires((TA::type == Type::u32 || TA::type == Type::s32) && (TB::type == Type::u32 || TB::type == Type::s32))
    auto dp4a(Reg<TA> a, Reg<TB> b, Val<std::conditional_t<TA::type == Type::u32 && TB::type == Type::u32, u32, s32>> c,
              Loc loc = Loc::current()) {
        using Acc = std::conditional_t<TA::type == Type::u32 && TB::type == Type::u32, u32, s32>;
        Reg<Acc> d = reg<Acc>();
        dot_impl(Op::dp4a, DpHalf::lo, d.operand(), a.operand(), b.operand(), c.op, loc);
        return d;
    }
    template <class TA, class TB>
        requires((TA::type == Type::u32 || TA::type == Type::s32) && (TB::type == Type::u32 || TB::type == Type::s32))
    auto dp2a(DpHalf half, Reg<TA> a, Reg<TB> b, Val<std::conditional_t<TA::type == Type::u32 && TB::type == Type::u32, u32, s32>> c,
              Loc loc = Loc::current()) {
        using Acc = std::conditional_t<TA::type == Type::u32 && TB::type == Type::u32, u32, s32>;
        Reg<Acc> d = reg<Acc>();
        dot_impl(Op::dp2a, half, d.operand(), a.operand(), b.operand(), c.op, loc);
        return d;
    }

    // ---- synchronisation ----
    // bar.sync id[, threads]: `threads` 0 means the whole CTA.
    void bar_sync(uint32_t id = 0, uint32_t threads = 0, Loc loc = Loc::current());
    void bar_arrive(uint32_t id, uint32_t threads, Loc loc = Loc::current());
    void bar_warp_sync(uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
    void membar(Scope s, Loc loc = Loc::current());
    void fence(FenceSem sem, Scope s, Loc loc = Loc::current());

    // ---- atomics (value returned) and reductions (no value) in global, shared or generic memory ----
    template <RegTag T, Space S> Reg<T> atom(AtomOp op, Address<S> a, std::type_identity_t<Val<T>> v, Loc loc = Loc::current()) {
        Reg<T> d = reg<T>();
        Instr in = atomic_instr(Op::atom, op, T::type, S, a.op);
        in.ops[0] = d.operand();
        in.push(v.op);
        emit(in, loc);
        return d;
    }
    template <RegTag T, Space S> Reg<T> atom_cas(Address<S> a, std::type_identity_t<Val<T>> compare, std::type_identity_t<Val<T>> value, Loc loc = Loc::current()) {
        Reg<T> d = reg<T>();
        Instr in = atomic_instr(Op::atom, AtomOp::cas, bits_of_width(bit_width(T::type)), S, a.op);
        in.ops[0] = d.operand();
        in.push(compare.op);
        in.push(value.op);
        emit(in, loc);
        return d;
    }
    template <RegTag T, Space S> void red(AtomOp op, Address<S> a, std::type_identity_t<Val<T>> v, Loc loc = Loc::current()) {
        Instr in = atomic_instr(Op::red, op, T::type, S, a.op);
        in.nops = 0;
        in.push(a.op);
        in.push(v.op);
        emit(in, loc);
    }

    // ---- tensor cores ----
    // D = A * B + C, m16n8k16, A/B f16 or bf16 pairs, C/D f32; A and B fragments as the PTX ISA lays them out.
    template <HalfTag T>
        requires(is_packed(T::type))
    Regs<f32, 4> mma_m16n8k16(const Regs<T, 4>& a, const Regs<T, 2>& b, const Regs<f32, 4>& c, Loc loc = Loc::current()) {
        Regs<f32, 4> d{reg<f32>(), reg<f32>(), reg<f32>(), reg<f32>()};
        Instr in = make(Op::mma, Type::f32);
        in.type2 = T::type == Type::f16x2 ? Type::f16 : Type::bf16;
        in.m.shape = MmaShape::m16n8k16;
        in.push(vec_operand<f32>(d));
        in.push(vec_operand<T>(a));
        in.push(vec_operand<T>(b));
        in.push(vec_operand<f32>(c));
        emit(in, loc);
        return d;
    }
    // D = A * B + C, m16n8k32, A/B packed signed bytes, C/D s32.
    Regs<s32, 4> mma_m16n8k32_s8(const Regs<b32, 4>& a, const Regs<b32, 2>& b, const Regs<s32, 4>& c,
                                 bool satfinite = false, Loc loc = Loc::current());
    // D = A * B + C, m8n8k16 (sm_75), A/B packed signed bytes (one register each), C/D s32.
    Regs<s32, 2> mma_m8n8k16_s8(Reg<b32> a, Reg<b32> b, const Regs<s32, 2>& c, Loc loc = Loc::current());
    // ldmatrix.sync.aligned.m8n8.xN[.trans].shared.b16: N 8x8 matrices, each lane gets one b32 per matrix.
    template <int N, class T = b32>
        requires((N == 1 || N == 2 || N == 4) && bit_width(T::type) == 32)
    Regs<T, N> ldmatrix(Address<Space::shared> a, bool trans = false, Loc loc = Loc::current()) {
        Regs<T, N> d;
        for (auto& r : d) r = reg<T>();
        Instr in = make(Op::ldmatrix, Type::b16);
        in.m.vec = static_cast<uint8_t>(N);
        in.m.trans = trans;
        in.m.space = Space::shared;
        in.push(vec_operand<T>(d));
        in.push(a.op);
        emit(in, loc);
        return d;
    }

    // ---- asynchronous copies global -> shared ----
    // `bytes` is 4, 8 or 16 (16 only for .cg); `src_bytes` < bytes zero-fills the rest.
    void cp_async(Address<Space::shared> dst, Address<Space::global> src, uint32_t bytes,
                  CpAsyncCache cache = CpAsyncCache::ca, std::optional<Reg<u32>> src_bytes = std::nullopt,
                  Loc loc = Loc::current());
    void cp_async_commit(Loc loc = Loc::current());

    // ---- programmatic dependent launch (sm_90, PTX 7.8) ----
    // griddepcontrol.wait: blocks until the grids this one depends on have completed and their
    // memory is visible. A kernel that executes it may be launched to overlap its predecessor
    // (Dims::overlap_previous): everything before the wait must touch no memory that earlier
    // kernels write, nor write memory they read. A no-op for a kernel launched the usual way.
    void griddep_wait(Loc loc = Loc::current());
    // griddepcontrol.launch_dependents: lets a dependent grid launched to overlap this one start
    // once every CTA of this grid has executed it (or exited).
    void griddep_launch_dependents(Loc loc = Loc::current());
    // prefetch.global.L2: starts bringing the line holding `a` into L2 without waiting for it or
    // taking a register, so that a later load of it hits L2 instead of waiting on DRAM.
    void prefetch_l2(Address<Space::global> a, Loc loc = Loc::current());
    void cp_async_wait(uint32_t pending_groups, Loc loc = Loc::current());
    void cp_async_wait_all(Loc loc = Loc::current());

    // ---- control flow ----
    Label label(std::string_view hint = "L");
    void bind(Label l, Loc loc = Loc::current());
    void bra(Label l, bool uniform = false, Loc loc = Loc::current());
    void ret(Loc loc = Loc::current());
    void exit(Loc loc = Loc::current());

    // Instructions emitted inside `body` carry the guard @p (or @!p for !p); no branches.
    void predicated(Pred p, const std::function<void()>& body);
    void if_(Pred p, const std::function<void()>& then, Loc loc = Loc::current());
    void if_else(Pred p, const std::function<void()>& then, const std::function<void()>& otherwise,
                 Loc loc = Loc::current());
    // for (i = begin; i < end; i += step) body(i), with run-time bounds; step > 0.
    void for_range(Val<u32> begin, Val<u32> end, uint32_t step, const std::function<void(Reg<u32>)>& body,
                   Unroll unroll = {}, Loc loc = Loc::current());
    // while (cond()) body(); `cond` emits the instructions that compute the condition.
    void while_(const std::function<Pred()>& cond, const std::function<void()>& body, Loc loc = Loc::current());

    // Appends a prepared instruction (the typed methods above build them). Checks the form and target.
    void emit(Instr in, Loc loc);

private:
    Kernel k_;
    std::optional<Pred> guard_;
    uint32_t label_counter_ = 0;

    static Instr make(Op op, Type t) {
        Instr in;
        in.op = op;
        in.type = t;
        return in;
    }
    static void apply(Mods& m, const FMode& f) {
        m.round = f.round;
        m.ftz = f.ftz;
        m.sat = f.sat;
    }
    template <class T, size_t N> static Operand vec_operand(const std::array<Reg<T>, N>& regs) {
        Operand o;
        o.kind = OpKind::vec;
        o.type = T::type;
        o.count = static_cast<uint8_t>(N);
        for (size_t i = 0; i < N; ++i) o.elems[i] = regs[i].id;
        return o;
    }
    uint32_t new_reg(Type t, std::string_view hint);
    uint32_t declare_param(std::string name, Type t, bool is_pointer, Type pointee, const Loc& loc);
    uint32_t declare_var(std::string name, Space space, uint32_t bytes, uint32_t align, bool dynamic, const Loc& loc);
    [[noreturn]] void fail(const std::string& what, const Loc& loc) const;
    std::string spelling_of(const Instr& in) const;
    void increment(Reg<u32> i, uint32_t step, const Loc& loc);

    // Emits `in` with a new register of type T as its destination, followed by `sources`.
    template <class T> Reg<T> def(Instr in, std::initializer_list<Operand> sources, const Loc& loc) {
        Reg<T> d = reg<T>();
        in.push(d.operand());
        for (const Operand& o : sources) in.push(o);
        emit(in, loc);
        return d;
    }
    static Instr make(Op op, Type t, FMode f, MulMode mul = MulMode::none) {
        Instr in = make(op, t);
        apply(in.m, f);
        in.m.mul = mul;
        return in;
    }
    template <class T> Reg<T> binary(Op op, Operand a, Operand b, FMode f, const Loc& loc, MulMode mul = MulMode::none) {
        return def<T>(make(op, T::type, f, mul), {a, b}, loc);
    }
    template <class T> Reg<T> ternary(Op op, Operand a, Operand b, Operand c, FMode f, const Loc& loc, MulMode mul = MulMode::none) {
        return def<T>(make(op, T::type, f, mul), {a, b, c}, loc);
    }
    template <class T> Reg<T> unary(Op op, Type t, Operand a, FMode f, const Loc& loc) {
        return def<T>(make(op, t, f), {a}, loc);
    }
    template <class T> Reg<T> bitwise(Op op, Operand a, Operand b, const Loc& loc) {
        return def<T>(make(op, bits_of_width(bit_width(T::type))), {a, b}, loc);
    }
    template <class T> Reg<T> shift(Op op, Type t, Reg<T> a, Val<u32> n, const Loc& loc) {
        return def<T>(make(op, t), {a.operand(), n.op}, loc);
    }
    template <class T> Reg<u32> count_bits(Op op, Reg<T> a, const Loc& loc) {
        return def<u32>(make(op, bits_of_width(bit_width(T::type))), {a.operand()}, loc);
    }
    template <class T> Reg<T> math(Op op, Reg<T> a, FMode f, bool approx, const Loc& loc) {
        Instr in = make(op, T::type, f);
        in.m.approx = approx;
        return def<T>(in, {a.operand()}, loc);
    }
    Pred setp_impl(Cmp c, Type t, Operand a, Operand b, BoolOp bop, Pred with, bool combine, const Loc& loc);
    Pred vote_pred(VoteMode mode, Pred p, uint32_t mask, const Loc& loc);
    void shfl_impl(ShflMode mode, Operand d, Operand a, Operand b, Operand c, uint32_t mask, Pred* valid, const Loc& loc);
    void dot_impl(Op op, DpHalf half, Operand d, Operand a, Operand b, Operand c, const Loc& loc);
    static Instr load_instr(Type mem, Space s, const Operand& addr, const LdOpts& o);
    static Instr store_instr(Type mem, Space s, const Operand& addr, const StOpts& o);
    static Instr atomic_instr(Op op, AtomOp aop, Type t, Space s, const Operand& addr);
    Operand materialize(const Operand& imm, const Loc& loc);
    void emit_branch(Label target, std::optional<Pred> when, const Loc& loc);
};

}  // namespace ptxgen
