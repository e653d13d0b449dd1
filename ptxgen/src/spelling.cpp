#include "ptxgen/spelling.hpp"

#include <array>

#include "ptxgen/types.hpp"

namespace ptxgen {
namespace {
template <class E, size_t N> std::string_view pick(const std::array<std::string_view, N>& names, E e) {
    auto i = static_cast<size_t>(e);
    return i < N ? names[i] : std::string_view{"?"};
}
}  // namespace

std::string_view type_name(Type t) {
    static constexpr std::array<std::string_view, kTypeCount> names{
        "pred", "b8", "b16", "b32", "b64", "b128", "u8", "u16", "u32", "u64",
        "s8", "s16", "s32", "s64", "f16", "f16x2", "bf16", "bf16x2", "f32", "f64"};
    return pick(names, t);
}

std::string_view spelling(Op op) {
    static constexpr std::array<std::string_view, kOpCount> names{
        "add", "sub", "mul", "mad", "fma", "div", "rem", "min", "max", "abs", "neg",
        "and", "or", "xor", "not", "shl", "shr", "bfe", "bfi", "prmt", "popc", "clz", "brev",
        "setp", "selp", "mov", "cvt", "cvta",
        "ex2", "lg2", "rcp", "rsqrt", "sqrt", "tanh", "sin", "cos",
        "ld", "st", "shfl.sync", "vote.sync", "activemask", "redux.sync", "dp4a", "dp2a",
        "bar", "bar.warp.sync", "membar", "fence", "atom", "red", "mma.sync.aligned", "ldmatrix.sync.aligned",
        "cp.async", "cp.async.commit_group", "cp.async.wait_group", "griddepcontrol.wait",
        "griddepcontrol.launch_dependents", "prefetch", "bra", "ret", "exit", "label",
        ".pragma \"nounroll\""};
    return pick(names, op);
}

std::string_view spelling(Round r) {
    static constexpr std::array<std::string_view, 9> names{"", "rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi"};
    return pick(names, r);
}

std::string_view spelling(Cmp c) {
    static constexpr std::array<std::string_view, 18> names{"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs",
                                                            "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan"};
    return pick(names, c);
}

std::string_view spelling(BoolOp b) {
    static constexpr std::array<std::string_view, 4> names{"", "and", "or", "xor"};
    return pick(names, b);
}

std::string_view spelling(Space s) {
    static constexpr std::array<std::string_view, 6> names{"", "global", "shared", "local", "param", "const"};
    return pick(names, s);
}

std::string_view spelling(CacheOp c) {
    static constexpr std::array<std::string_view, 8> names{"", "ca", "cg", "cs", "lu", "cv", "wb", "wt"};
    return pick(names, c);
}

std::string_view spelling(Evict e) {
    static constexpr std::array<std::string_view, 6> names{"", "L1::evict_normal", "L1::evict_unchanged",
                                                           "L1::evict_first", "L1::evict_last", "L1::no_allocate"};
    return pick(names, e);
}

std::string_view spelling(ShflMode m) {
    static constexpr std::array<std::string_view, 4> names{"up", "down", "bfly", "idx"};
    return pick(names, m);
}

std::string_view spelling(VoteMode m) {
    static constexpr std::array<std::string_view, 4> names{"all", "any", "uni", "ballot"};
    return pick(names, m);
}

std::string_view spelling(AtomOp a) {
    static constexpr std::array<std::string_view, 8> names{"add", "min", "max", "exch", "cas", "and", "or", "xor"};
    return pick(names, a);
}

std::string_view spelling(Scope s) {
    static constexpr std::array<std::string_view, 4> names{"", "cta", "gpu", "sys"};
    return pick(names, s);
}

std::string_view spelling(FenceSem f) {
    static constexpr std::array<std::string_view, 2> names{"sc", "acq_rel"};
    return pick(names, f);
}

std::string_view spelling(SReg s) {
    static constexpr std::array<std::string_view, 16> names{
        "%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z",
        "%ctaid.x", "%ctaid.y", "%ctaid.z", "%nctaid.x", "%nctaid.y", "%nctaid.z",
        "%laneid", "%warpid", "%clock64", "%globaltimer"};
    return pick(names, s);
}

std::string_view spelling(MmaShape s) {
    static constexpr std::array<std::string_view, 3> names{"m16n8k16", "m16n8k32", "m8n8k16"};
    return pick(names, s);
}

Type sreg_type(SReg s) { return (s == SReg::clock64 || s == SReg::globaltimer) ? Type::u64 : Type::u32; }

OpClass op_class(Op op) {
    switch (op) {
    case Op::add: case Op::sub: case Op::mul: case Op::mad: case Op::fma: case Op::div: case Op::rem:
    case Op::min: case Op::max: case Op::abs: case Op::neg:
        return OpClass::arith;
    case Op::and_: case Op::or_: case Op::xor_: case Op::not_: case Op::shl: case Op::shr: case Op::bfe:
    case Op::bfi: case Op::prmt: case Op::popc: case Op::clz: case Op::brev:
        return OpClass::bits;
    case Op::setp: case Op::selp: return OpClass::compare;
    case Op::mov: return OpClass::move;
    case Op::cvt: case Op::cvta: return OpClass::convert;
    case Op::ex2: case Op::lg2: case Op::rcp: case Op::rsqrt: case Op::sqrt: case Op::tanh: case Op::sin: case Op::cos:
        return OpClass::math;
    case Op::ld: case Op::st: case Op::prefetch: return OpClass::memory;
    case Op::shfl: case Op::vote: case Op::activemask: case Op::redux: return OpClass::warp;
    case Op::dp4a: case Op::dp2a: return OpClass::dot;
    case Op::bar: case Op::bar_warp_sync: case Op::membar: case Op::fence: case Op::griddep_wait: case Op::griddep_launch:
        return OpClass::sync;
    case Op::atom: case Op::red: return OpClass::atomic;
    case Op::mma: case Op::ldmatrix: return OpClass::tensor;
    case Op::cp_async: case Op::cp_async_commit: case Op::cp_async_wait: return OpClass::async_copy;
    default: return OpClass::control;
    }
}

std::string_view op_class_name(OpClass c) {
    static constexpr std::array<std::string_view, 14> names{"arith", "bits", "compare", "move", "convert", "math",
                                                            "memory", "warp", "dot", "sync", "atomic", "tensor",
                                                            "async-copy", "control"};
    return pick(names, c);
}

}  // namespace ptxgen
