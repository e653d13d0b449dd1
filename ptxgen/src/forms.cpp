#include "ptxgen/forms.hpp"

#include <fmt/format.h>

namespace ptxgen {
namespace {

constexpr Requirement kBase{};                  // anything sm_75 / PTX 6.3 accepts
constexpr Requirement need(int sm, int major, int minor) { return Requirement{sm, {major, minor}, false}; }

bool is_bf16(Type t) { return is_bf16_family(t); }
bool is_f16(Type t) { return t == Type::f16 || t == Type::f16x2; }
bool is_float_rounding(Round r) { return r == Round::rn || r == Round::rz || r == Round::rm || r == Round::rp; }
bool is_int_rounding(Round r) { return r == Round::rni || r == Round::rzi || r == Round::rmi || r == Round::rpi; }

}  // namespace

Type wide_type(Type t) {
    switch (t) {
    case Type::u16: return Type::u32;
    case Type::s16: return Type::s32;
    case Type::u32: return Type::u64;
    case Type::s32: return Type::s64;
    default: return t;
    }
}

namespace {

Requirement cvt_requirement(const Instr& in) {
    Type to = in.type, from = in.type2;
    bool bf_to = is_bf16(to), bf_from = is_bf16(from);
    // cvt.{rn,rz,rm,rp}.bf16.f32 and the packed forms came with sm_80 (ptxas accepts all four roundings
    // there); cvt.f32.bf16 with PTX 7.1; every other conversion to or from bf16 with sm_90 / PTX 7.8.
    if (to == Type::f16x2 || (bf_to && from == Type::f32 && is_float_rounding(in.m.round))) return need(80, 7, 0);
    if (from == Type::bf16 && to == Type::f32 && !in.m.ftz) return need(80, 7, 1);  // cvt.ftz.f32.bf16: sm_90
    if (bf_to || bf_from) return need(90, 7, 8);
    return kBase;
}

Requirement load_store_requirement(const Instr& in) {
    Requirement r = kBase;
    if (in.m.evict != Evict::none || in.m.l2_prefetch) r = r.merged(need(75, 7, 4));
    if (in.m.l2_prefetch == 256) r = r.merged(need(80, 7, 4));  // ptxas: .L2::256B needs sm_80
    if (in.type == Type::b128) r = r.merged(need(75, 8, 3));
    return r;
}

}  // namespace

Requirement requirement(const Instr& in) {
    const Type t = in.type;
    switch (in.op) {
    case Op::add: case Op::sub: case Op::mul:
        return is_bf16(t) ? need(90, 7, 8) : kBase;
    case Op::fma:
        return is_bf16(t) ? need(80, 7, 0) : kBase;
    case Op::min: case Op::max:
        return is_half(t) ? need(80, 7, 0) : kBase;
    case Op::abs:
        return is_bf16(t) ? need(80, 7, 0) : is_f16(t) ? need(75, 6, 5) : kBase;
    case Op::neg:
        return is_bf16(t) ? need(80, 7, 0) : kBase;
    case Op::setp:
        return is_bf16(t) ? need(90, 7, 8) : kBase;
    case Op::cvt:
        return cvt_requirement(in);
    case Op::ex2:
        return is_bf16(t) ? need(90, 7, 8) : is_f16(t) ? need(75, 7, 0) : kBase;
    case Op::tanh:
        return is_bf16(t) ? need(90, 7, 8) : need(75, 7, 0);
    case Op::ld: case Op::st:
        return load_store_requirement(in);
    case Op::mov:
        return t == Type::b128 ? need(75, 8, 3) : kBase;  // .b128 registers and mov.b128 came with PTX 8.3
    case Op::redux:
        return need(80, 7, 0);
    case Op::mma:
        return in.m.shape == MmaShape::m8n8k16 ? need(75, 6, 5) : need(80, 7, 0);
    case Op::ldmatrix:
        return need(75, 6, 5);
    case Op::griddep_wait: case Op::griddep_launch:
        return need(90, 7, 8);
    case Op::cp_async: case Op::cp_async_commit: case Op::cp_async_wait:
        return need(80, 7, 0);
    default:
        return kBase;
    }
}

namespace {

std::string arith_error(const Instr& in) {
    const Type t = in.type;
    const Mods& m = in.m;
    const bool is_int = is_integer(t);
    if (is_int) {
        if (m.round != Round::none || m.ftz || m.approx) return "integer arithmetic takes no rounding, .ftz or .approx";
        if (m.sat && !(t == Type::s32 && (in.op == Op::add || in.op == Op::sub)))
            return ".sat on integers exists only for add.s32 and sub.s32";
        if (in.op == Op::mul || in.op == Op::mad) {
            if (m.mul == MulMode::none) return "integer mul/mad needs .lo, .hi or .wide";
            if (m.mul == MulMode::wide && bit_width(t) > 32) return ".wide exists only for 16- and 32-bit sources";
        } else if (m.mul != MulMode::none) {
            return ".lo/.hi/.wide belong to mul and mad";
        }
        if ((in.op == Op::abs || in.op == Op::neg) && !is_signed(t)) return "abs and neg need a signed type";
        if (in.op == Op::fma) return "fma is for floats; integers use mad";
        return {};
    }
    if (m.mul != MulMode::none) return ".lo/.hi/.wide are for integers";
    if (in.op == Op::rem) return "rem is for integers";
    if (in.op == Op::mad) return "the builder writes float multiply-add as fma";
    if (is_half(t)) {
        if (m.round != Round::none && m.round != Round::rn) return "half-precision arithmetic rounds only with .rn";
        if (is_bf16(t) && (m.ftz || m.sat)) return "bf16 arithmetic takes no .ftz or .sat";
        if ((in.op == Op::min || in.op == Op::max || in.op == Op::abs || in.op == Op::neg) && (m.sat || m.round != Round::none))
            return "min, max, abs and neg take no rounding or .sat";
        if (in.op == Op::div) return "div has no half-precision form";
        return {};
    }
    // f32 and f64
    if (m.round != Round::none && !is_float_rounding(m.round)) return "float arithmetic rounds with .rn, .rz, .rm or .rp";
    if (t == Type::f64 && (m.ftz || m.sat)) return ".ftz and .sat exist only for f32";
    if (in.op == Op::fma && m.round == Round::none) return "fma needs a rounding mode";
    if (in.op == Op::min || in.op == Op::max || in.op == Op::abs || in.op == Op::neg) {
        if (m.round != Round::none || m.sat) return "min, max, abs and neg take no rounding or .sat";
    }
    if (in.op == Op::div) {
        int modes = (m.approx ? 1 : 0) + (m.full ? 1 : 0) + (m.round != Round::none ? 1 : 0);
        if (t == Type::f64 && (m.approx || m.full || m.round == Round::none)) return "div.f64 needs a rounding mode";
        if (modes != 1) return "div.f32 needs exactly one of .approx, .full or a rounding mode";
        if (m.sat) return "div takes no .sat";
    }
    return {};
}

std::string cvt_error(const Instr& in) {
    const Type to = in.type, from = in.type2;
    const Round r = in.m.round;
    const bool fto = is_float(to), ffrom = is_float(from);
    auto form_name = [&] { return fmt::format("cvt.{}.{}", type_name(to), type_name(from)); };
    if (in.m.approx || in.m.mul != MulMode::none) return form_name() + " takes no .approx or .lo/.hi";
    if (is_packed(to)) {
        if (from != Type::f32 || in.nops != 3) return "cvt to a packed type converts two f32 values";
        if (r != Round::rn && r != Round::rz) return form_name() + " needs .rn or .rz";
        if (in.m.ftz || in.m.sat) return form_name() + " takes no .ftz or .sat";
        return {};
    }
    if (is_packed(from)) return form_name() + ": packed sources are unpacked with mov";
    // ptxas rejects .ftz unless one side is f32, and .sat on any conversion to or from bf16.
    if (in.m.ftz && to != Type::f32 && from != Type::f32) return form_name() + ": .ftz applies only to conversions to or from f32";
    if (in.m.sat && (is_bf16(to) || is_bf16(from))) return form_name() + " takes no .sat";
    if (fto && ffrom) {
        // f16 and bf16 have the same width but neither holds the other's values: converting rounds.
        if (bit_width(to) < bit_width(from) || (to != from && bit_width(to) == bit_width(from))) {
            if (!is_float_rounding(r))
                return form_name() + (bit_width(to) < bit_width(from) ? " narrows" : " changes format")
                       + " and needs a rounding mode (.rn, .rz, .rm or .rp)";
        } else if (to == from) {
            if (r != Round::none && !is_int_rounding(r)) return form_name() + " rounds only to an integral value (.rni, .rzi, .rmi, .rpi)";
        } else if (r != Round::none) {
            return form_name() + " widens exactly and takes no rounding mode";
        }
        return {};
    }
    if (fto && !ffrom) {
        if (!is_float_rounding(r)) return form_name() + " needs a rounding mode (.rn, .rz, .rm or .rp)";
        return {};
    }
    if (!fto && ffrom) {
        if (!is_int_rounding(r)) return form_name() + " needs an integer rounding mode (.rni, .rzi, .rmi or .rpi)";
        return {};
    }
    if (r != Round::none) return form_name() + ": integer conversions take no rounding";
    return {};
}

std::string math_error(const Instr& in) {
    const Type t = in.type;
    const Mods& m = in.m;
    const char* name = in.op == Op::ex2 ? "ex2" : in.op == Op::lg2 ? "lg2" : in.op == Op::rcp ? "rcp"
                       : in.op == Op::rsqrt ? "rsqrt" : in.op == Op::sqrt ? "sqrt" : in.op == Op::tanh ? "tanh"
                       : in.op == Op::sin ? "sin" : "cos";
    if (m.sat) return fmt::format("{} takes no .sat", name);
    switch (in.op) {
    case Op::rcp: case Op::sqrt:
        if (m.approx == (m.round != Round::none)) return fmt::format("{} is either .approx or correctly rounded", name);
        if (m.round != Round::none && !is_float_rounding(m.round)) return fmt::format("{} rounds with .rn, .rz, .rm or .rp", name);
        if (t == Type::f64 && m.approx && (in.op == Op::sqrt || !m.ftz)) return fmt::format("{}.approx.f64 exists only as rcp.approx.ftz.f64", name);
        if (t == Type::f64 && in.op == Op::sqrt && m.ftz) return "sqrt.f64 takes no .ftz";  // ptxas: illegal modifier
        return {};
    case Op::rsqrt:
        if (!m.approx) return "rsqrt is approximate only";
        return {};
    case Op::ex2:
        if (!m.approx) return "ex2 is approximate only";
        if (t == Type::f64) return "ex2 has no f64 form";
        if (is_f16(t) && m.ftz) return "ex2.approx.f16 takes no .ftz";
        if (is_bf16(t) && !m.ftz) return "ex2.approx.bf16 exists only with .ftz";
        return {};
    case Op::tanh:
        if (!m.approx || m.ftz) return "tanh is written tanh.approx with no .ftz";
        if (t == Type::f64) return "tanh has no f64 form";
        return {};
    default:
        if (!m.approx) return fmt::format("{} is approximate only", name);
        if (t != Type::f32) return fmt::format("{} exists only for f32", name);
        return {};
    }
}

std::string memory_error(const Instr& in) {
    const Mods& m = in.m;
    const bool load = in.op == Op::ld;
    if (m.vec != 1 && m.vec != 2 && m.vec != 4) return "vector accesses are .v2 or .v4";
    if (m.vec > 1 && bit_width(in.type) * m.vec > 128) return "a vector access moves at most 128 bits";
    if (m.vec > 1 && in.type == Type::b128) return ".b128 cannot be a vector element";
    if (m.nc && (!load || m.space != Space::global)) return ".nc is for global loads";
    if (m.nc && (m.cache == CacheOp::lu || m.cache == CacheOp::cv)) return "ld.global.nc takes only the .ca, .cg or .cs cache operators";
    if (m.vol && (m.cache != CacheOp::none || m.nc || m.evict != Evict::none)) return ".volatile takes no cache hints";
    if (m.vol && (m.space == Space::local || m.space == Space::param)) return ".volatile applies to global, shared and generic memory";
    if (m.space == Space::param && (m.cache != CacheOp::none || m.evict != Evict::none || m.vec != 1 || !load))
        return "parameters are read with a plain scalar ld.param";
    if (m.cache != CacheOp::none) {
        bool ok = load ? (m.cache == CacheOp::ca || m.cache == CacheOp::cg || m.cache == CacheOp::cs
                          || m.cache == CacheOp::lu || m.cache == CacheOp::cv)
                       : (m.cache == CacheOp::wb || m.cache == CacheOp::cg || m.cache == CacheOp::cs
                          || m.cache == CacheOp::wt);
        if (!ok) return load ? "loads take .ca, .cg, .cs, .lu or .cv" : "stores take .wb, .cg, .cs or .wt";
    }
    if (m.evict != Evict::none && m.space != Space::global && m.space != Space::generic)
        return "eviction priorities apply to global memory";
    if (m.evict == Evict::L1_no_allocate && !load) return ".L1::no_allocate is for loads";
    if (m.evict != Evict::none && m.cache != CacheOp::none) return "a cache operator and an eviction priority cannot be combined";
    if (m.l2_prefetch && (!load || (m.space != Space::global && m.space != Space::generic)))
        return "an L2 prefetch size applies to global loads";
    if (m.l2_prefetch && m.l2_prefetch != 64 && m.l2_prefetch != 128 && m.l2_prefetch != 256)
        return "the L2 prefetch size is 64, 128 or 256 bytes";
    if (in.type == Type::pred) return "predicates cannot be loaded or stored";
    return {};
}

std::string atomic_error(const Instr& in) {
    const Type t = in.type;
    const Space s = in.m.space;
    if (s != Space::global && s != Space::shared && s != Space::generic) return "atomics work on global, shared or generic addresses";
    switch (in.m.atom) {
    case AtomOp::add:
        if (t == Type::u32 || t == Type::s32 || t == Type::u64 || t == Type::f32 || t == Type::f64) return {};
        return "atomic add takes u32, s32, u64, f32 or f64";
    case AtomOp::min: case AtomOp::max:
        if (is_integer(t) && bit_width(t) >= 32) return {};
        return "atomic min/max take u32, s32, u64 or s64";
    case AtomOp::exch: case AtomOp::cas: case AtomOp::and_: case AtomOp::or_: case AtomOp::xor_:
        if (t == Type::b32 || t == Type::b64) return {};
        return "atomic exch, cas and bit operations take b32 or b64";
    }
    return {};
}

}  // namespace

std::string form_error(const Instr& in) {
    switch (in.op) {
    case Op::add: case Op::sub: case Op::mul: case Op::mad: case Op::fma: case Op::div: case Op::rem:
    case Op::min: case Op::max: case Op::abs: case Op::neg:
        return arith_error(in);
    case Op::cvt:
        return cvt_error(in);
    case Op::setp:
        if (is_packed(in.type)) return "setp on packed halves writes two predicates; compare unpacked halves";
        return {};
    case Op::ex2: case Op::lg2: case Op::rcp: case Op::rsqrt: case Op::sqrt: case Op::tanh: case Op::sin: case Op::cos:
        return math_error(in);
    case Op::ld: case Op::st:
        return memory_error(in);
    case Op::atom: case Op::red:
        if (in.op == Op::red && (in.m.atom == AtomOp::exch || in.m.atom == AtomOp::cas)) return "red has no exch or cas";
        return atomic_error(in);
    case Op::redux: {
        bool logical = in.m.atom == AtomOp::and_ || in.m.atom == AtomOp::or_ || in.m.atom == AtomOp::xor_;
        bool arith = in.m.atom == AtomOp::add || in.m.atom == AtomOp::min || in.m.atom == AtomOp::max;
        if (logical ? in.type != Type::b32 : !(arith && (in.type == Type::u32 || in.type == Type::s32)))
            return "redux.sync takes add/min/max on u32 or s32 and and/or/xor on b32";
        return {};
    }
    case Op::cp_async: {
        const Operand& size = in.operand(2);
        uint64_t bytes = size.bits;
        if (bytes != 4 && bytes != 8 && bytes != 16) return "cp.async copies 4, 8 or 16 bytes";
        if (in.m.cp_cache == CpAsyncCache::cg && bytes != 16) return "cp.async.cg copies 16 bytes";
        return {};
    }
    case Op::prefetch:
        if (in.m.space != Space::global) return "prefetch.L2 is built for global addresses";
        return {};
    case Op::bar:
        if (in.m.bar == BarKind::arrive && in.nops < 2) return "bar.arrive needs a thread count";
        return {};
    case Op::ldmatrix:
        if (in.m.vec != 1 && in.m.vec != 2 && in.m.vec != 4) return "ldmatrix loads 1, 2 or 4 matrices";
        return {};
    case Op::fence:
        if (in.m.scope == Scope::none) return "fence needs a scope (.cta, .gpu or .sys)";
        return {};
    default:
        return {};
    }
}

Type expected_operand_type(const Instr& in, int index) {
    const Type t = in.type;
    const Operand& o = in.operand(index);
    if (o.kind == OpKind::addr || o.kind == OpKind::label || o.kind == OpKind::sreg || o.kind == OpKind::symbol)
        return Type::b8;
    switch (in.op) {
    case Op::mul: case Op::mad:
        if (in.m.mul == MulMode::wide) return (index == 0 || index == 3) ? wide_type(t) : t;
        return t;
    case Op::shl: case Op::shr:
        return index == 2 ? Type::u32 : t;
    case Op::bfe:
        return index >= 2 ? Type::u32 : t;
    case Op::bfi:
        return index >= 3 ? Type::u32 : t;
    case Op::popc: case Op::clz:
        return index == 0 ? Type::u32 : t;
    case Op::setp:
        return (index == 0 || index == 3) ? Type::pred : t;
    case Op::selp:
        return index == 3 ? Type::pred : t;
    case Op::mov:
        return o.kind == OpKind::vec ? o.type : t;
    case Op::cvt:
        return index == 0 ? t : in.type2;
    case Op::cvta:
        return Type::u64;
    case Op::shfl:
        return index == 1 ? Type::pred : (index == 3 || index == 4) ? Type::u32 : Type::b32;
    case Op::vote:
        return (index == 0 && in.m.vote == VoteMode::ballot) ? Type::b32 : (index == 2 ? Type::b32 : Type::pred);
    case Op::activemask:
        return Type::b32;
    case Op::dp4a: case Op::dp2a: {
        Type acc = (in.type == Type::u32 && in.type2 == Type::u32) ? Type::u32 : Type::s32;
        return index == 1 ? in.type : index == 2 ? in.type2 : acc;
    }
    case Op::mma:
        if (index == 0 || index == 3) return t;
        return in.type2 == Type::f16 ? Type::f16x2 : in.type2 == Type::bf16 ? Type::bf16x2 : Type::b32;
    case Op::ldmatrix:
        return Type::b32;
    case Op::cp_async:
        return Type::u32;
    case Op::bar: case Op::cp_async_wait: case Op::bar_warp_sync:
        return Type::u32;
    default:
        return t;
    }
}

bool compatible(Type inst, Type reg) {
    if (inst == reg) return true;
    if (inst == Type::pred || reg == Type::pred) return false;
    const Type rs = storage_type(reg);
    if (bit_width(inst) == 8) return (is_integer(rs) || is_bits(rs)) && bit_width(rs) >= 16;
    if (bit_width(inst) != bit_width(rs)) return false;
    if (is_bits(inst) || is_bits(rs)) return true;
    return is_integer(inst) && is_integer(rs);
}

}  // namespace ptxgen
