// The PTX reader's instructions: guard, mnemonic (reader_mnemonic.cpp) and operands. Operands are
// first read as written (RawOperand), then converted to what their slot takes, so a message can
// say both what was found and what the instruction needed there.
#include <fmt/format.h>

#include <optional>

#include "ptxgen/forms.hpp"
#include "ptxgen/spelling.hpp"
#include "reader_mnemonic.hpp"
#include "reader_parser.hpp"

namespace ptxgen::ptx_reader {
namespace {

std::optional<SReg> special_register(std::string_view text) {
    for (int s = 0; s <= static_cast<int>(SReg::globaltimer); ++s) {
        if (spelling(static_cast<SReg>(s)) == text) return static_cast<SReg>(s);
    }
    return std::nullopt;
}

std::string operand_count(std::string_view signature) {
    int required = 0, optional = 0;
    for (size_t i = 0; i < signature.size(); ++i) {
        if (signature[i] == '?') {
            ++optional;
            ++i;
        } else {
            ++required;
        }
    }
    if (optional) return fmt::format("{} or {} operands", required, required + optional);
    return fmt::format("{} operand{}", required, required == 1 ? "" : "s");
}

}  // namespace

void Reader::instruction() {
    const Token& first = peek();
    Instr in;
    if (accept('@')) {
        in.guard_neg = accept('!');
        const Token& g = next();
        if (g.kind != Tok::reg) fail(g, fmt::format("expected a predicate register after '@', found {}", describe(g)));
        in.guard = register_id(g);
        if (k_.regs[in.guard] != Type::pred) fail(g, fmt::format("{} is not a predicate, so it cannot guard an instruction", g.text));
    }
    const Token& mn = next();
    if (mn.kind != Tok::word) fail(mn, fmt::format("expected an instruction, found {}", describe(mn)));
    mnemonic_ = mn.text;
    bool wait_all = false;
    read_mnemonic(source_, mn, in, wait_all);

    std::vector<RawOperand> raw;
    if (!peek().is(';')) {
        do raw.push_back(raw_operand());
        while (accept(','));
    }
    const Token& end = expect(';', "at the end of the instruction");

    const std::string_view signature = operand_signature(in, wait_all);
    size_t r = 0;
    for (size_t j = 0; j < signature.size(); ++j) {
        const bool optional = signature[j] == '?';
        if (optional) ++j;
        if (r == raw.size()) {
            if (optional) break;
            fail(end, fmt::format("{} takes {}, not {}", mn.text, operand_count(signature), raw.size()));
        }
        convert(in, signature[j], raw[r++]);
    }
    if (r < raw.size()) fail(raw[r].at, fmt::format("{} takes {}, not {}", mn.text, operand_count(signature), raw.size()));

    if (std::string why = form_error(in); !why.empty()) fail(mn, why);
    if (Requirement need = requirement(in); !need.satisfied_by(target_))
        fail(mn, fmt::format("{} needs {}, but the module's .target is {}", mn.text, need.str(), target_.str()));
    push(in, first);
}

// ---- operands as written ----

RawOperand Reader::raw_operand() {
    RawOperand o;
    o.at = peek();
    if (accept('!')) {
        o.negated = true;
        if (peek().kind != Tok::reg) fail(peek(), fmt::format("expected a predicate register after '!', found {}", describe(peek())));
    }
    const Token& t = next();
    switch (t.kind) {
    case Tok::reg:
        o.text = t;
        if (std::optional<SReg> s = special_register(t.text)) {
            if (o.negated) fail(t, "only predicates can be negated");
            o.kind = RawOperand::Kind::sreg;
            o.id = static_cast<uint32_t>(*s);
            return o;
        }
        o.kind = RawOperand::Kind::reg;
        o.id = register_id(t);
        if (accept('|')) {  // shfl's d|p
            o.pipe_at = next();
            if (o.pipe_at.kind != Tok::reg) fail(o.pipe_at, fmt::format("expected a predicate register after '|', found {}", describe(o.pipe_at)));
            o.has_pipe = true;
            o.pipe_id = register_id(o.pipe_at);
        }
        return o;
    case Tok::number:
        o.kind = RawOperand::Kind::number;
        o.text = t;
        return o;
    case Tok::word:
        if (t.text[0] == '.') break;
        o.kind = RawOperand::Kind::name;
        o.text = t;
        return o;
    case Tok::punct:
        if (t.is('-') && peek().kind == Tok::number) {
            o.kind = RawOperand::Kind::number;
            o.minus = true;
            o.text = next();
            return o;
        }
        if (t.is('[')) return raw_address(t);
        if (t.is('{')) return raw_vector(t);
        break;
    default:
        break;
    }
    fail(t, fmt::format("expected an operand, found {}", describe(t)));
}

int64_t Reader::offset_value(const Token& digits, bool minus) const {
    uint64_t v = 0;
    if (digits.kind != Tok::number || !parse_integer(digits.text, v) || v > (minus ? uint64_t{1} << 63 : uint64_t{INT64_MAX}))
        fail(digits, fmt::format("expected a byte offset, found {}", describe(digits)));
    return minus ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

// [%rd1], [%rd1+16], [%rd1+-4], [param_x], [tile+8], [64]
RawOperand Reader::raw_address(const Token& open) {
    RawOperand o;
    o.kind = RawOperand::Kind::address;
    o.at = open;
    const Token& b = next();
    o.text = b;
    if (b.kind == Tok::reg) {
        if (special_register(b.text)) fail(b, "a special register cannot be an address: mov it into a register first");
        o.base = AddrBase::reg;
        o.id = register_id(b);
    } else if (b.kind == Tok::word && b.text[0] != '.') {
        o.base = AddrBase::var;  // a parameter's or an array's name, resolved by the instruction
    } else if (b.kind == Tok::number || b.is('-')) {
        const bool minus = b.is('-');
        o.offset = offset_value(minus ? next() : b, minus);
    } else {
        fail(b, fmt::format("expected a register, a name or a number in the address, found {}", describe(b)));
    }
    if (o.base != AddrBase::none && (peek().is('+') || peek().is('-'))) {
        bool minus = next().is('-');
        if (accept('-')) minus = !minus;
        o.offset = offset_value(next(), minus);
    }
    expect(']', "to close the address");
    return o;
}

// {%f0, %f1, %f2, %f3}
RawOperand Reader::raw_vector(const Token& open) {
    RawOperand o;
    o.kind = RawOperand::Kind::vector;
    o.at = open;
    do {
        const Token& r = next();
        if (r.kind != Tok::reg || special_register(r.text)) fail(r, fmt::format("expected a register in the vector, found {}", describe(r)));
        if (o.elems.size() == 4) fail(r, "a vector has at most four registers");
        o.elems.push_back(register_id(r));
        o.elem_at.push_back(r);
    } while (accept(','));
    expect('}', "to close the vector");
    return o;
}

// ---- operands as their slots take them ----

void Reader::convert(Instr& in, char kind, const RawOperand& raw) {
    using K = RawOperand::Kind;
    if (raw.has_pipe && kind != 'q') fail(raw.pipe_at, "only shfl writes a second destination after '|'");
    const bool vector_value = (in.op == Op::ld || in.op == Op::st) && in.m.vec > 1;
    switch (kind) {
    case 'q':  // shfl: d or d|p; an absent p is an empty operand, as the builder leaves it
        if (raw.kind != K::reg || raw.negated) fail(raw.at, fmt::format("expected a destination register, found {}", describe(raw.at)));
        add(in, register_operand(raw, false), raw);
        if (raw.has_pipe) {
            RawOperand p = raw;
            p.id = raw.pipe_id;
            p.text = raw.pipe_at;
            add(in, register_operand(p, false), p);
        } else {
            in.push(Operand{});
        }
        return;
    case 'D':
        if (raw.kind == K::vector && (vector_value || in.op == Op::mov)) return add(in, vector(in, raw), raw);
        if (vector_value) fail(raw.at, fmt::format("{} loads into {} registers in braces", mnemonic_, static_cast<int>(in.m.vec)));
        [[fallthrough]];
    case 'd':
        if (raw.kind != K::reg || raw.negated) fail(raw.at, fmt::format("expected a destination register, found {}", describe(raw.at)));
        return add(in, register_operand(raw, false), raw);
    case 'S':
        if (vector_value) {
            if (raw.kind != K::vector) fail(raw.at, fmt::format("{} stores {} registers in braces", mnemonic_, static_cast<int>(in.m.vec)));
            return add(in, vector(in, raw), raw);
        }
        [[fallthrough]];
    case 's':
        if (raw.kind == K::number) return add(in, immediate(in, raw), raw);
        [[fallthrough]];
    case 'r':
        if (raw.kind != K::reg) fail(raw.at, fmt::format("expected a register{}, found {}", kind == 'r' ? "" : " or an immediate", describe(raw.at)));
        return add(in, register_operand(raw, true), raw);
    case 'i':
        if (raw.kind != K::number) fail(raw.at, fmt::format("expected an immediate, found {}", describe(raw.at)));
        return add(in, immediate(in, raw), raw);
    case 'a':
        if (raw.kind != K::address) fail(raw.at, fmt::format("expected an address such as [%rd1+8], found {}", describe(raw.at)));
        return add(in, address(in, raw), raw);
    case 'v':
        if (raw.kind != K::vector) fail(raw.at, fmt::format("expected registers in braces such as {{%f0, %f1}}, found {}", describe(raw.at)));
        return add(in, vector(in, raw), raw);
    case 'l':
        if (raw.kind != K::name) fail(raw.at, fmt::format("expected a label, found {}", describe(raw.at)));
        return add(in, Operand::label(label_ref(raw.text)), raw);
    case 'm':
        return add(in, mov_source(in, raw), raw);
    default:
        fail(raw.at, "internal error: unknown operand kind");
    }
}

// Appends the operand after checking that its registers suit the slot (forms.cpp decides).
void Reader::add(Instr& in, const Operand& o, const RawOperand& raw) const {
    const int slot = in.nops;
    in.push(o);
    const Type need = expected_operand_type(in, slot);
    auto check = [&](uint32_t id, const Token& at) {
        if (need != Type::b8 && !compatible(need, k_.regs[id]))
            fail(at, fmt::format("{} is a .{} register; {} needs .{} here", at.text, type_name(k_.regs[id]), mnemonic_, type_name(need)));
    };
    if (o.kind == OpKind::reg) check(o.id, raw.text);
    if (o.kind == OpKind::vec) {
        for (size_t e = 0; e < raw.elems.size(); ++e) check(raw.elems[e], raw.elem_at[e]);
    }
}

Operand Reader::register_operand(const RawOperand& raw, bool may_negate) const {
    const Type t = k_.regs[raw.id];
    if (raw.negated && (!may_negate || t != Type::pred)) fail(raw.at, "only predicate sources can be negated");
    Operand o = Operand::reg(raw.id, t);
    o.negated = raw.negated;
    return o;
}

// The bits of an immediate in the type the builder would give it (immediate_type): f32 and f64
// as 0f/0d and their bits in hex, everything else as a decimal or 0x integer that fits.
Operand Reader::immediate(const Instr& in, const RawOperand& raw) const {
    const Type t = immediate_type(in, in.nops);
    const std::string_view s = raw.text.text;
    if (t == Type::pred) fail(raw.at, "a predicate operand must be a register");
    if (is_half(t) && in.op != Op::mov)
        fail(raw.at, fmt::format("PTX takes no .{} immediates here: move the bits into a register first", type_name(t)));
    if (t == Type::f32 || t == Type::f64) {
        const char mark = t == Type::f32 ? 'f' : 'd';
        const size_t digits = t == Type::f32 ? 8 : 16;
        uint64_t bits = 0;
        const bool ok = !raw.minus && s.size() == 2 + digits && s[0] == '0' && (s[1] == mark || s[1] == mark - 'a' + 'A')
                        && parse_integer(fmt::format("0x{}", s.substr(2)), bits);
        if (!ok) fail(raw.at, fmt::format("a .{} immediate is written 0{} and {} hex digits of its bits, not {}{}", type_name(t), mark, digits,
                                          raw.minus ? "-" : "", s));
        return Operand::imm(bits, t);
    }
    uint64_t v = 0;
    if (!parse_integer(s, v)) fail(raw.at, fmt::format("expected an integer for .{}, found {}{}", type_name(t), raw.minus ? "-" : "", s));
    const int w = std::min(bit_width(t), 64);
    const uint64_t mask = w == 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1;
    if (raw.minus ? v > uint64_t{1} << (w - 1) : v > mask)
        fail(raw.at, fmt::format("{}{} does not fit in .{}", raw.minus ? "-" : "", s, type_name(t)));
    return Operand::imm((raw.minus ? 0 - v : v) & mask, t);
}

Operand Reader::address(const Instr& in, const RawOperand& raw) {
    Space space = in.m.space;
    if (in.op == Op::cp_async) space = in.nops == 0 ? Space::shared : Space::global;
    const std::string_view space_name = space == Space::generic ? "generic" : spelling(space);
    if (raw.base == AddrBase::reg) {
        if (space == Space::param) fail(raw.text, "ld.param reads a parameter by its name, as in [param_n]");
        // As verifier.cpp requires: 64-bit integer registers, or 32-bit ones for shared memory.
        const Type t = k_.regs[raw.id];
        const bool shared = space == Space::shared;
        if (is_float(t) || t == Type::pred || (bit_width(t) != 64 && !(shared && bit_width(t) == 32)))
            fail(raw.text, fmt::format("{} is a .{} register; an address is a 64-bit integer register{}", raw.text.text, type_name(t),
                                       shared ? " (or a 32-bit one in shared memory)" : ""));
        return Operand::address(AddrBase::reg, raw.id, raw.offset, t);
    }
    if (raw.base == AddrBase::none) return Operand::address(AddrBase::none, 0, raw.offset);
    auto it = symbols_.find(raw.text.text);
    if (it == symbols_.end()) fail(raw.text, fmt::format("'{}' is neither a parameter nor an array of {}", raw.text.text, k_.name));
    const Symbol sym = it->second;
    if (sym.is_param) {
        if (in.op != Op::ld || space != Space::param) fail(raw.text, fmt::format("parameter {} is read with ld.param", raw.text.text));
        return Operand::address(AddrBase::param, sym.id, raw.offset);
    }
    const VarDecl& v = k_.vars[sym.id];
    if (v.space != space)
        fail(raw.text, fmt::format("{} is a .{} array; {} addresses {} memory", v.name, spelling(v.space), mnemonic_, space_name));
    return Operand::address(AddrBase::var, sym.id, raw.offset);
}

Operand Reader::vector(const Instr& in, const RawOperand& raw) const {
    const int count = vector_count(in, in.nops);
    if (raw.elems.size() != static_cast<size_t>(count))
        fail(raw.at, fmt::format("{} takes {} registers in these braces, not {}", mnemonic_, count, raw.elems.size()));
    Operand o;
    o.kind = OpKind::vec;
    o.type = k_.regs[raw.elems[0]];
    o.count = static_cast<uint8_t>(count);
    for (size_t e = 0; e < raw.elems.size(); ++e) {
        if (k_.regs[raw.elems[e]] != o.type)
            fail(raw.elem_at[e], fmt::format("the registers in braces share one type: {} is .{}, {} is .{}", raw.elem_at[0].text,
                                             type_name(o.type), raw.elem_at[e].text, type_name(k_.regs[raw.elems[e]])));
        o.elems[e] = raw.elems[e];
    }
    if (in.op == Op::mov && 2 * bit_width(o.type) != bit_width(in.type))
        fail(raw.at, fmt::format("{} packs or unpacks two {}-bit halves, not {}-bit ones", mnemonic_, bit_width(in.type) / 2, bit_width(o.type)));
    return o;
}

// mov's source: a register, an immediate, a special register, a shared array's address, or the
// two halves of a pack.
Operand Reader::mov_source(const Instr& in, const RawOperand& raw) {
    using K = RawOperand::Kind;
    const bool unpack = in.operand(0).kind == OpKind::vec;
    if (unpack && raw.kind != K::reg) fail(raw.at, fmt::format("a mov into braces unpacks a register, not {}", describe(raw.at)));
    switch (raw.kind) {
    case K::reg:
        if (raw.negated) fail(raw.at, "mov copies a predicate as it is; not.pred negates one");
        return register_operand(raw, false);
    case K::number:
        return immediate(in, raw);
    case K::sreg: {
        const auto s = static_cast<SReg>(raw.id);
        if (bit_width(sreg_type(s)) != bit_width(in.type) || !compatible(in.type, sreg_type(s)))
            fail(raw.at, fmt::format("{} is .{}; read it with mov.{}", raw.text.text, type_name(sreg_type(s)), type_name(sreg_type(s))));
        return Operand::sreg(s);
    }
    case K::name: {
        auto it = symbols_.find(raw.text.text);
        if (it == symbols_.end() || it->second.is_param || k_.vars[it->second.id].space != Space::shared)
            fail(raw.at, fmt::format("mov takes the address of a shared array; '{}' is not one", raw.text.text));
        return Operand::symbol(it->second.id);
    }
    case K::vector:
        if (unpack) break;
        return vector(in, raw);
    case K::address:
        break;
    }
    fail(raw.at, fmt::format("mov cannot take {} as its source", describe(raw.at)));
}

}  // namespace ptxgen::ptx_reader
