#include "ptxgen/printer.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <charconv>
#include <algorithm>
#include <cstring>

#include "ptxgen/error.hpp"
#include "ptxgen/forms.hpp"
#include "ptxgen/spelling.hpp"

namespace ptxgen {

std::string_view register_prefix(Type t) {
    switch (t) {
    case Type::pred: return "p";
    case Type::b16: return "bh";
    case Type::u16: return "rh";
    case Type::s16: return "sh";
    case Type::b32: return "b";
    case Type::u32: return "r";
    case Type::s32: return "s";
    case Type::b64: return "bd";
    case Type::u64: return "rd";
    case Type::s64: return "sd";
    case Type::b128: return "q";
    case Type::f16: return "h";
    case Type::f16x2: return "hh";
    case Type::bf16: return "bf";
    case Type::bf16x2: return "bff";
    case Type::f32: return "f";
    case Type::f64: return "fd";
    default: return "x";
    }
}

namespace {

// An append-only text buffer tuned for the many short pieces of an instruction: it grows a
// string geometrically and writes through memcpy, without std::string's per-append bookkeeping.
class Buf {
public:
    void reserve(size_t n) { s_.resize(std::max(s_.size(), n)); }
    void push_back(char c) {
        grow(1);
        s_[n_++] = c;
    }
    void append(std::string_view v) {
        grow(v.size());
        std::memcpy(s_.data() + n_, v.data(), v.size());
        n_ += v.size();
    }
    void append(const char* p, size_t len) { append(std::string_view(p, len)); }
    void resize(size_t n) { n_ = n; }  // only ever shrinks
    size_t size() const { return n_; }
    std::string take() {
        s_.resize(n_);
        return std::move(s_);
    }

private:
    void grow(size_t more) {
        if (n_ + more > s_.size()) s_.resize(std::max(2 * s_.size(), n_ + more + 256));
    }
    std::string s_;
    size_t n_ = 0;
};

// Register id -> number within its type, computed once per print; `counts` gets the number of
// registers of each type.
std::vector<uint32_t> ordinals(const Kernel& k, std::array<uint32_t, kTypeCount>& counts) {
    counts.fill(0);
    std::vector<uint32_t> ord(k.regs.size());
    for (size_t i = 0; i < k.regs.size(); ++i) ord[i] = counts[static_cast<size_t>(k.regs[i])]++;
    return ord;
}

// Hot-path appends without format-string parsing: printing is most of a kernel's build time.
void append(Buf& out, std::string_view s) { out.append(s); }
template <class I> void append_int(Buf& out, I v) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    out.append(digits, static_cast<size_t>(end - digits));
}

// Hex digits of `bits`: exactly `digits` upper-case digits, or as few lower-case ones as needed when 0.
void hex(Buf& out, std::string_view prefix, uint64_t bits, int digits) {
    out.append(prefix);
    char text[16];
    int n = 0;
    const char* alphabet = digits ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        text[n++] = alphabet[bits & 15];
        bits >>= 4;
    } while ((digits && n < digits) || (!digits && bits));
    while (n > 0) out.push_back(text[--n]);
}

struct Printer {
    const Kernel& k;
    const std::vector<uint32_t>& ord;  // register id -> number within its type
    Buf& out;

    void reg(uint32_t id) {
        if (id >= k.regs.size()) throw ptxsmith::Error(fmt::format("kernel {}: register id {} was never created", k.name, id));
        out.push_back('%');
        out.append(register_prefix(k.regs[id]));
        append_int(out, ord[id]);
    }

    void imm(const Operand& o) {
        const Type t = o.type;
        if (t == Type::f32) {
            hex(out, "0f", o.bits, 8);
        } else if (t == Type::f64) {
            hex(out, "0d", o.bits, 16);
        } else if (is_signed(t)) {
            const int w = bit_width(t);
            append_int(out, static_cast<int64_t>(o.bits << (64 - w)) >> (64 - w));
        } else if (is_unsigned(t)) {
            append_int(out, o.bits);
        } else {
            hex(out, "0x", o.bits, 0);
        }
    }

    void address(const Operand& o) {
        out.push_back('[');
        switch (o.base) {
        case AddrBase::reg: reg(o.id); break;
        case AddrBase::var: append(out, k.vars.at(o.id).name); break;
        case AddrBase::param:
            append(out, "param_");
            append(out, k.params.at(o.id).name);
            break;
        case AddrBase::none: append_int(out, o.offset); break;
        }
        if (o.base != AddrBase::none && o.offset != 0) {
            out.push_back('+');
            append_int(out, o.offset);
        }
        out.push_back(']');
    }

    void operand(const Operand& o) {
        switch (o.kind) {
        case OpKind::reg:
            if (o.negated) out.push_back('!');
            reg(o.id);
            break;
        case OpKind::imm: imm(o); break;
        case OpKind::addr: address(o); break;
        case OpKind::label: append(out, k.labels.at(o.id).name); break;
        case OpKind::sreg: append(out, spelling(static_cast<SReg>(o.id))); break;
        case OpKind::symbol: append(out, k.vars.at(o.id).name); break;
        case OpKind::vec:
            out.push_back('{');
            for (int i = 0; i < o.count; ++i) {
                if (i) out.append(", ");
                reg(o.elems[static_cast<size_t>(i)]);
            }
            out.push_back('}');
            break;
        case OpKind::none: break;
        }
    }

    void part(std::string_view s) {
        if (s.empty()) return;
        out.push_back('.');
        out.append(s);
    }
    void part(Type t) { part(type_name(t)); }
    void flag(bool on, std::string_view s) {
        if (on) part(s);
    }

    void mnemonic(const Instr& in) {
        const Mods& m = in.m;
        out.append(spelling(in.op));
        switch (in.op) {
        case Op::add: case Op::sub: case Op::mul: case Op::mad: case Op::fma:
            if (m.mul != MulMode::none) part(m.mul == MulMode::lo ? "lo" : m.mul == MulMode::hi ? "hi" : "wide");
            part(spelling(m.round));
            flag(m.ftz, "ftz");
            flag(m.sat, "sat");
            part(in.type);
            break;
        case Op::div:
            flag(m.approx, "approx");
            flag(m.full, "full");
            part(spelling(m.round));
            flag(m.ftz, "ftz");
            part(in.type);
            break;
        case Op::rem: case Op::min: case Op::max: case Op::abs: case Op::neg:
            flag(m.ftz, "ftz");
            part(in.type);
            break;
        case Op::setp:
            part(spelling(m.cmp));
            part(spelling(m.bop));
            flag(m.ftz, "ftz");
            part(in.type);
            break;
        case Op::cvt:
            part(spelling(m.round));
            flag(m.ftz, "ftz");
            flag(m.sat, "sat");
            part(in.type);
            part(in.type2);
            break;
        case Op::cvta:
            flag(m.to_space, "to");
            part(spelling(m.space));
            part(in.type);
            break;
        case Op::ex2: case Op::lg2: case Op::rcp: case Op::rsqrt: case Op::sqrt: case Op::tanh: case Op::sin: case Op::cos:
            flag(m.approx, "approx");
            part(spelling(m.round));
            flag(m.ftz, "ftz");
            part(in.type);
            break;
        case Op::ld: case Op::st:
            flag(m.vol, "volatile");
            part(spelling(m.space));
            part(spelling(m.cache));
            flag(m.nc, "nc");
            part(spelling(m.evict));
            if (m.l2_prefetch) part(fmt::format("L2::{}B", m.l2_prefetch));
            if (m.vec > 1) part(m.vec == 2 ? "v2" : "v4");
            part(in.type);
            break;
        case Op::shfl:
            part(spelling(m.shfl));
            part(Type::b32);
            break;
        case Op::vote:
            part(spelling(m.vote));
            part(m.vote == VoteMode::ballot ? Type::b32 : Type::pred);
            break;
        case Op::activemask:
            part(Type::b32);
            break;
        case Op::redux:
            part(spelling(m.atom));
            part(in.type);
            break;
        case Op::dp2a:
            part(m.half == DpHalf::lo ? "lo" : "hi");
            part(in.type);
            part(in.type2);
            break;
        case Op::dp4a:
            part(in.type);
            part(in.type2);
            break;
        case Op::bar:
            part(m.bar == BarKind::sync ? "sync" : "arrive");
            break;
        case Op::membar:
            part(m.scope == Scope::gpu ? "gl" : spelling(m.scope));
            break;
        case Op::fence:
            part(spelling(m.fence));
            part(spelling(m.scope));
            break;
        case Op::atom: case Op::red:
            part(spelling(m.space));
            part(spelling(m.atom));
            part(in.type);
            break;
        case Op::mma:
            part(spelling(m.shape));
            part("row");
            part("col");
            flag(m.sat, "satfinite");
            part(in.type);
            part(in.type2);
            part(in.type2);
            part(in.type);
            break;
        case Op::ldmatrix:
            part("m8n8");
            part(m.vec == 1 ? "x1" : m.vec == 2 ? "x2" : "x4");
            flag(m.trans, "trans");
            part("shared");
            part(in.type);
            break;
        case Op::prefetch:
            part(spelling(m.space));
            part("L2");
            break;
        case Op::cp_async:
            part(m.cp_cache == CpAsyncCache::ca ? "ca" : "cg");
            part("shared");
            part("global");
            break;
        case Op::cp_async_wait:
            if (in.nops == 0) {  // no count: wait for every group
                out.resize(out.size() - std::strlen("wait_group"));
                out.append("wait_all");
            }
            break;
        case Op::bra:
            flag(m.uni, "uni");
            break;
        case Op::and_: case Op::or_: case Op::xor_: case Op::not_: case Op::shl: case Op::shr: case Op::bfe:
        case Op::bfi: case Op::prmt: case Op::popc: case Op::clz: case Op::brev: case Op::selp: case Op::mov:
            part(in.type);
            break;
        default:
            break;
        }
    }

    void instruction(const Instr& in) {
        if (in.op == Op::label) {
            out.append(k.labels.at(in.operand(0).id).name);
            out.push_back(':');
            return;
        }
        if (in.op == Op::nounroll) {
            out.append(spelling(in.op));
            out.push_back(';');
            return;
        }
        if (in.guard != kNoReg) {
            out.push_back('@');
            if (in.guard_neg) out.push_back('!');
            reg(in.guard);
            out.push_back(' ');
        }
        mnemonic(in);
        for (int i = 0; i < in.nops; ++i) {
            const Operand& o = in.operand(i);
            // shfl writes "d|p" when the valid-lane predicate is asked for; an absent one is skipped.
            if (in.op == Op::shfl && i == 1) {
                if (o.kind != OpKind::none) {
                    out.push_back('|');
                    operand(o);
                }
                continue;
            }
            out.append(i == 0 ? " " : ", ");
            operand(o);
        }
        out.push_back(';');
    }
};

template <class... A> void put(Buf& out, fmt::format_string<A...> f, A&&... args) {
    fmt::memory_buffer tmp;
    fmt::format_to(std::back_inserter(tmp), f, std::forward<A>(args)...);
    out.append(std::string_view(tmp.data(), tmp.size()));
}

std::string_view basename(const char* path) {
    std::string_view p(path);
    auto slash = p.find_last_of('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace

Requirement module_requirement(const Kernel& k) {
    Requirement r;
    for (const Instr& in : k.code) r = r.merged(requirement(in));
    return r;
}

std::string register_name(const Kernel& k, uint32_t id) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < id && i < k.regs.size(); ++i) n += k.regs[i] == k.regs.at(id) ? 1 : 0;
    return fmt::format("%{}{}", register_prefix(k.regs.at(id)), n);
}

std::string print_instruction(const Kernel& k, size_t index) {
    std::array<uint32_t, kTypeCount> counts{};
    auto ord = ordinals(k, counts);
    Buf out;
    Printer{k, ord, out}.instruction(k.code.at(index));
    return out.take();
}

std::string print_ptx(const Kernel& k, const PrintOptions& options) {
    Requirement need = module_requirement(k);
    Target target = options.target.value_or(Target{need.sm, need.arch_specific});
    if (!options.target && need.arch_specific) target.arch_specific = true;
    if (options.target && !need.satisfied_by(*options.target)) {
        throw ptxsmith::Error(fmt::format("kernel {} needs {}; it cannot be printed with .target {}", k.name, need.str(),
                                          options.target->str()));
    }
    const PtxVersion least = std::max(need.ptx, min_ptx_for(target));
    if (options.version && *options.version < least) {
        throw ptxsmith::Error(fmt::format("kernel {} with .target {} needs PTX ISA {} or newer, not {}", k.name, target.str(),
                                          least.str(), options.version->str()));
    }
    PtxVersion version = options.version.value_or(least);
    if (options.max_version && version > *options.max_version) {
        throw ptxsmith::Error(fmt::format("kernel {} needs PTX ISA {}, but the consumer accepts at most {}",
                                          k.name, version.str(), options.max_version->str()));
    }

    std::array<uint32_t, kTypeCount> counts{};
    auto ord = ordinals(k, counts);
    Buf out;
    out.reserve(64 + k.code.size() * 40);

    put(out, "//\n// Generated by ptxsmith's ptxgen: kernel {}\n//\n\n", k.name);
    put(out, ".version {}\n.target {}\n.address_size 64\n\n", version.str(), target.str());
    for (const VarDecl& v : k.vars) {
        if (v.dynamic) put(out, ".extern .shared .align {} .b8 {}[];\n\n", v.align, v.name);
    }
    put(out, ".visible .entry {}(", k.name);
    for (size_t i = 0; i < k.params.size(); ++i) {
        const Param& p = k.params[i];
        put(out, "\n\t.param .{} param_{}{}", type_name(storage_type(p.type)), p.name, i + 1 < k.params.size() ? "," : "");
        // PTX has no pointer types: the comment keeps what the pointer points to for the reader.
        if (p.is_pointer) put(out, "\t// {}*", type_name(p.pointee));
    }
    put(out, "\n)\n");
    if (k.reqntid[0]) put(out, ".reqntid {}, {}, {}\n", k.reqntid[0], k.reqntid[1], k.reqntid[2]);
    if (k.maxntid[0]) put(out, ".maxntid {}, {}, {}\n", k.maxntid[0], k.maxntid[1], k.maxntid[2]);
    if (k.minnctapersm) put(out, ".minnctapersm {}\n", k.minnctapersm);
    put(out, "{{\n");
    for (int t = 0; t < kTypeCount; ++t) {
        if (counts[static_cast<size_t>(t)] == 0) continue;
        Type ty = static_cast<Type>(t);
        put(out, "\t.reg .{} %{}<{}>;\n", type_name(storage_type(ty)), register_prefix(ty), counts[static_cast<size_t>(t)]);
    }
    for (const VarDecl& v : k.vars) {
        if (!v.dynamic) put(out, "\t.{} .align {} .b8 {}[{}];\n", spelling(v.space), v.align, v.name, v.bytes);
    }
    out.push_back('\n');

    Printer p{k, ord, out};
    for (size_t i = 0; i < k.code.size(); ++i) {
        const Instr& in = k.code[i];
        if (in.op != Op::label) out.push_back('\t');
        p.instruction(in);
        if (options.debug_locations && i < k.locs.size() && in.op != Op::label) {
            put(out, "\t// {}:{}", basename(k.locs[i].file_name()), k.locs[i].line());
        }
        out.push_back('\n');
    }
    put(out, "}}\n");
    return out.take();
}

}  // namespace ptxgen
