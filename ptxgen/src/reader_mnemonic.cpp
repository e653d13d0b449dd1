#include "reader_mnemonic.hpp"

#include "ptxgen/forms.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ptxgen/spelling.hpp"

namespace ptxgen::ptx_reader {
namespace {

// One dot-separated part of a mnemonic and its column, so errors can point inside the token.
struct Part {
    std::string_view text;
    uint32_t col = 0;
};

std::vector<Part> split(std::string_view text, uint32_t col) {
    std::vector<Part> parts;
    size_t from = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            parts.push_back(Part{text.substr(from, i - from), col + static_cast<uint32_t>(from)});
            from = i + 1;
        }
    }
    return parts;
}

struct Base {
    std::vector<Part> parts;  // "cp", "async", "commit_group"
    Op op;
    bool wait_all = false;
};

// Every base mnemonic (spelling(Op)), longest first so that cp.async.commit_group wins over cp.async.
const std::vector<Base>& bases() {
    static const std::vector<Base> table = [] {
        std::vector<Base> t;
        for (int i = 0; i < kOpCount; ++i) {
            const Op op = static_cast<Op>(i);
            if (op == Op::label || op == Op::nounroll) continue;  // not mnemonics
            t.push_back(Base{split(spelling(op), 0), op});
        }
        t.push_back(Base{split("cp.async.wait_all", 0), Op::cp_async_wait, true});  // a wait without a count
        std::stable_sort(t.begin(), t.end(), [](const Base& a, const Base& b) { return a.parts.size() > b.parts.size(); });
        return t;
    }();
    return table;
}

template <class E> std::string_view spelled(E e) { return spelling(e); }
std::string_view spelled(Type t) { return type_name(t); }

// The modifiers after the base, consumed left to right in the order the printer writes them.
class Modifiers {
public:
    Modifiers(std::string_view source, const Token& t, std::vector<Part> parts, size_t first, std::string_view base)
        : source_(source), t_(t), parts_(std::move(parts)), i_(first), base_(base) {}

    bool take(std::string_view s) {
        if (i_ < parts_.size() && parts_[i_].text == s) {
            ++i_;
            return true;
        }
        return false;
    }
    // Any value of E up to `last` whose spelling is the next part.
    template <class E> bool take(E& out, E last) {
        if (i_ >= parts_.size()) return false;
        for (int v = 0; v <= static_cast<int>(last); ++v) {
            std::string_view s = spelled(static_cast<E>(v));
            if (!s.empty() && s == parts_[i_].text) {
                out = static_cast<E>(v);
                ++i_;
                return true;
            }
        }
        return false;
    }
    Type type() {
        Type t = Type::b32;
        if (!take(t, Type::f64)) fail(fmt::format("{} needs a type here, such as .u32", base_));
        return t;
    }
    void require(std::string_view s) {
        if (!take(s)) fail(fmt::format("{} needs .{} here", base_, s));
    }
    template <class E> void require(E& out, E last, std::string_view what) {
        if (!take(out, last)) fail(fmt::format("{} needs {} here", base_, what));
    }
    void finish() {
        if (i_ < parts_.size()) fail(fmt::format("unexpected .{} in {}", parts_[i_].text, t_.text));
    }
    // At the part where parsing stopped, or just after the token when all parts were read.
    [[noreturn]] void fail(const std::string& message) const {
        const uint32_t col = i_ < parts_.size() ? parts_[i_].col : t_.col + static_cast<uint32_t>(t_.text.size());
        fail_at(source_, t_.line, col, message);
    }

private:
    std::string_view source_;
    const Token& t_;
    std::vector<Part> parts_;
    size_t i_;
    std::string_view base_;  // the base mnemonic, for messages
};

void arithmetic(Modifiers& m, Instr& in) {
    if (m.take("lo")) in.m.mul = MulMode::lo;
    else if (m.take("hi")) in.m.mul = MulMode::hi;
    else if (m.take("wide")) in.m.mul = MulMode::wide;
    m.take(in.m.round, Round::rpi);
    in.m.ftz = m.take("ftz");
    in.m.sat = m.take("sat");
    in.type = m.type();
}

void memory(Modifiers& m, Instr& in) {
    in.m.vol = m.take("volatile");
    m.take(in.m.space, Space::const_);
    m.take(in.m.cache, CacheOp::wt);
    in.m.nc = m.take("nc");
    m.take(in.m.evict, Evict::L1_no_allocate);
    for (uint16_t size : {uint16_t{64}, uint16_t{128}, uint16_t{256}}) {
        if (m.take(fmt::format("L2::{}B", size))) in.m.l2_prefetch = size;
    }
    if (m.take("v2")) in.m.vec = 2;
    else if (m.take("v4")) in.m.vec = 4;
    in.type = m.type();
}

void mma(Modifiers& m, Instr& in) {
    m.require(in.m.shape, MmaShape::m8n8k16, "a shape such as .m16n8k16");
    m.require("row");
    m.require("col");
    in.m.sat = m.take("satfinite");
    // .D.A.B.C: the printer writes the accumulator type for D and C, the input type for A and B.
    const Type d = m.type(), a = m.type(), b = m.type(), c = m.type();
    if (a != b || c != d) m.fail("mma's types are .D.A.B.C with A = B and C = D");
    in.type = d;
    in.type2 = a;
}

// Mirrors Printer::mnemonic in printer.cpp; types the printer does not write are the builder's.
void modifiers(Modifiers& m, Instr& in) {
    Mods& mods = in.m;
    switch (in.op) {
    case Op::add: case Op::sub: case Op::mul: case Op::mad: case Op::fma:
        arithmetic(m, in);
        break;
    case Op::div:
        mods.approx = m.take("approx");
        mods.full = m.take("full");
        m.take(mods.round, Round::rpi);
        mods.ftz = m.take("ftz");
        in.type = m.type();
        break;
    case Op::rem: case Op::min: case Op::max: case Op::abs: case Op::neg:
        mods.ftz = m.take("ftz");
        in.type = m.type();
        break;
    case Op::setp:
        m.require(mods.cmp, Cmp::nan, "a comparison such as .lt");
        m.take(mods.bop, BoolOp::xor_);
        mods.ftz = m.take("ftz");
        in.type = m.type();
        break;
    case Op::cvt:
        m.take(mods.round, Round::rpi);
        mods.ftz = m.take("ftz");
        mods.sat = m.take("sat");
        in.type = m.type();
        in.type2 = m.type();
        break;
    case Op::cvta:
        mods.to_space = m.take("to");
        m.require(mods.space, Space::const_, "a state space such as .global");
        in.type = m.type();
        break;
    case Op::ex2: case Op::lg2: case Op::rcp: case Op::rsqrt: case Op::sqrt: case Op::tanh: case Op::sin: case Op::cos:
        mods.approx = m.take("approx");
        m.take(mods.round, Round::rpi);
        mods.ftz = m.take("ftz");
        in.type = m.type();
        break;
    case Op::ld: case Op::st:
        memory(m, in);
        break;
    case Op::shfl:
        m.require(mods.shfl, ShflMode::idx, "a mode such as .bfly");
        m.require("b32");
        in.type = Type::b32;
        break;
    case Op::vote:
        m.require(mods.vote, VoteMode::ballot, "a mode such as .any");
        in.type = mods.vote == VoteMode::ballot ? Type::b32 : Type::pred;
        m.require(spelled(in.type));
        break;
    case Op::activemask:
        m.require("b32");
        in.type = Type::b32;
        break;
    case Op::redux:
        m.require(mods.atom, AtomOp::xor_, "an operation such as .add");
        in.type = m.type();
        break;
    case Op::dp2a:
        if (m.take("hi")) mods.half = DpHalf::hi;
        else m.require("lo");
        in.type = m.type();
        in.type2 = m.type();
        break;
    case Op::dp4a:
        in.type = m.type();
        in.type2 = m.type();
        break;
    case Op::bar:
        if (m.take("arrive")) mods.bar = BarKind::arrive;
        else m.require("sync");
        in.type = Type::u32;
        break;
    case Op::membar:  // PTX spells the GPU level .gl here
        if (m.take("cta")) mods.scope = Scope::cta;
        else if (m.take("gl")) mods.scope = Scope::gpu;
        else if (m.take("sys")) mods.scope = Scope::sys;
        else m.fail("membar needs .cta, .gl or .sys");
        in.type = Type::b32;
        break;
    case Op::fence:
        m.require(mods.fence, FenceSem::acq_rel, "a semantics such as .sc");
        m.require(mods.scope, Scope::sys, "a scope such as .gpu");
        in.type = Type::b32;
        break;
    case Op::atom: case Op::red:
        m.take(mods.space, Space::const_);
        m.require(mods.atom, AtomOp::xor_, "an operation such as .add");
        in.type = m.type();
        break;
    case Op::mma:
        mma(m, in);
        break;
    case Op::ldmatrix:
        m.require("m8n8");
        if (m.take("x1")) mods.vec = 1;
        else if (m.take("x2")) mods.vec = 2;
        else if (m.take("x4")) mods.vec = 4;
        else m.fail("ldmatrix needs .x1, .x2 or .x4");
        mods.trans = m.take("trans");
        m.require("shared");
        m.require("b16");
        mods.space = Space::shared;
        in.type = Type::b16;
        break;
    case Op::cp_async:
        if (m.take("cg")) mods.cp_cache = CpAsyncCache::cg;
        else m.require("ca");
        m.require("shared");
        m.require("global");
        in.type = Type::b8;
        break;
    case Op::prefetch:
        m.require(mods.space, Space::const_, "a state space such as .global");
        m.require("L2");
        in.type = Type::b8;
        break;
    case Op::bra:
        mods.uni = m.take("uni");
        in.type = Type::b8;
        break;
    case Op::bar_warp_sync:
        in.type = Type::b32;
        break;
    case Op::cp_async_commit: case Op::cp_async_wait: case Op::ret: case Op::exit: case Op::griddep_wait:
    case Op::griddep_launch:
        in.type = Type::b8;
        break;
    default:  // the bit operations, selp and mov: just the type
        in.type = m.type();
        break;
    }
    m.finish();
}

}  // namespace

void read_mnemonic(std::string_view source, const Token& t, Instr& in, bool& wait_all) {
    std::vector<Part> parts = split(t.text, t.col);
    for (const Base& b : bases()) {
        if (b.parts.size() > parts.size()) continue;
        bool match = true;
        for (size_t i = 0; i < b.parts.size() && match; ++i) match = b.parts[i].text == parts[i].text;
        if (!match) continue;
        in.op = b.op;
        wait_all = b.wait_all;
        Modifiers m(source, t, std::move(parts), b.parts.size(), spelling(b.op));
        modifiers(m, in);
        return;
    }
    fail_at(source, t, fmt::format("unknown instruction '{}'", t.text));
}

std::string_view operand_signature(const Instr& in, bool wait_all) {
    switch (in.op) {
    case Op::add: case Op::sub: case Op::mul: case Op::div: case Op::rem: case Op::min: case Op::max:
    case Op::and_: case Op::or_: case Op::xor_: case Op::shl: case Op::shr:
        return "drs";
    case Op::mad: case Op::fma: case Op::bfe: case Op::prmt:
        return "drss";
    case Op::bfi: return "drsss";
    case Op::abs: case Op::neg: case Op::not_: case Op::popc: case Op::clz: case Op::brev: case Op::cvta:
    case Op::ex2: case Op::lg2: case Op::rcp: case Op::rsqrt: case Op::sqrt: case Op::tanh: case Op::sin: case Op::cos:
        return "dr";
    case Op::setp: return in.m.bop == BoolOp::none ? "drs" : "drsr";
    case Op::selp: return "dssr";
    case Op::mov: return "Dm";
    case Op::cvt: return is_packed(in.type) ? "drr" : "dr";  // cvt.rn.f16x2.f32 d, hi, lo
    case Op::ld: return "Da";
    case Op::st: return "aS";
    case Op::shfl: return "qrssi";
    case Op::vote: case Op::redux: return "dri";
    case Op::activemask: return "d";
    case Op::dp4a: case Op::dp2a: return "drrs";
    case Op::bar: return in.m.bar == BarKind::sync ? "i?i" : "ii";
    case Op::bar_warp_sync: return "i";
    case Op::atom: return in.m.atom == AtomOp::cas ? "dass" : "das";
    case Op::red: return "as";
    case Op::mma: return "vvvv";
    case Op::ldmatrix: return "va";
    case Op::cp_async: return "aai?r";
    case Op::prefetch: return "a";
    case Op::cp_async_wait: return wait_all ? "" : "i";
    case Op::bra: return "l";
    default: return "";  // membar, fence, cp.async.commit_group, ret, exit
    }
}

int vector_count(const Instr& in, int slot) {
    switch (in.op) {
    case Op::mma:
        // m16n8k16/k32: D, A and C have four registers, B two; m8n8k16: D and C two, A and B one.
        if (in.m.shape == MmaShape::m8n8k16) return slot == 1 || slot == 2 ? 1 : 2;
        return slot == 2 ? 2 : 4;
    case Op::ld: case Op::st: case Op::ldmatrix: return in.m.vec;
    default: return 2;  // mov: pack and unpack
    }
}

Type immediate_type(const Instr& in, int slot) {
    const Operand& d = in.operand(0);
    const Type dest = (d.kind == OpKind::reg || d.kind == OpKind::vec) ? d.type : in.type;
    switch (in.op) {
    case Op::mul: case Op::mad:
        return in.m.mul == MulMode::wide && slot == 3 ? wide_type(in.type) : in.type;  // mad.wide's addend
    case Op::shl: case Op::shr: case Op::bfe:
        return Type::u32;  // shift counts, bit positions and lengths
    case Op::bfi:
        return slot >= 3 ? Type::u32 : dest;
    case Op::prmt:
        return slot == 3 ? Type::u32 : dest;  // the selector
    case Op::and_: case Op::or_: case Op::xor_: case Op::selp: case Op::mov: case Op::atom: case Op::dp4a: case Op::dp2a:
        return dest;  // the method's T, printed as .bN (bits, cas) or as the storage type (halves)
    case Op::setp: {
        const Operand& a = in.operand(1);
        return a.kind == OpKind::reg ? a.type : in.type;  // setp_bits<T> compares a T register as .bN
    }
    case Op::st:  // 8-bit values are stored from 32-bit registers
        return in.type == Type::u8 ? Type::u32 : in.type == Type::s8 ? Type::s32 : in.type == Type::b8 ? Type::b32 : in.type;
    case Op::shfl:
        return slot == 5 ? Type::b32 : Type::u32;
    case Op::vote: case Op::redux: case Op::bar_warp_sync:
        return Type::b32;  // member masks
    case Op::bar: case Op::cp_async: case Op::cp_async_wait:
        return Type::u32;
    default:
        return in.type;
    }
}

}  // namespace ptxgen::ptx_reader
