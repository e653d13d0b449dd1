// The PTX reader's module and entry level: header directives, parameters, declarations, labels,
// and turning what was read into a verified Kernel. Instructions are read in reader_instr.cpp.
#include "ptxgen/reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>

#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/spelling.hpp"
#include "ptxgen/verifier.hpp"
#include "reader_parser.hpp"

namespace ptxgen {
namespace ptx_reader {
namespace {

// SourceLoc holds a `const char*`, and a read kernel may outlive the name it was read under: keep
// every source name for the life of the process (one string per distinct name).
const char* intern(std::string_view name) {
    static std::mutex mutex;
    static std::set<std::string, std::less<>> names;
    std::lock_guard lock(mutex);
    return names.emplace(name).first->c_str();
}

bool is_identifier(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::optional<Type> type_named(std::string_view s) {
    for (int t = 0; t < kTypeCount; ++t) {
        if (type_name(static_cast<Type>(t)) == s) return static_cast<Type>(t);
    }
    return std::nullopt;
}

// The register type printed with this prefix ("rd" -> u64); see register_prefix in printer.cpp.
std::optional<Type> type_of_prefix(std::string_view prefix) {
    for (int t = 0; t < kTypeCount; ++t) {
        if (prefix != "x" && register_prefix(static_cast<Type>(t)) == prefix) return static_cast<Type>(t);
    }
    return std::nullopt;
}

// The builder names labels $L_<hint>_<n> with n counting its label() calls, which is also the
// label's id: "$L_for_end_3" -> 3.
std::optional<uint32_t> builder_label_number(std::string_view name) {
    if (name.rfind("$L_", 0) != 0) return std::nullopt;
    const size_t us = name.find_last_of('_');
    const std::string_view digits = name.substr(us + 1);
    if (us <= 3 || digits.empty() || digits.size() > 9) return std::nullopt;
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    return static_cast<uint32_t>(std::stoul(std::string(digits)));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

Reader::Reader(std::string_view text, std::string_view source) : source_(source), toks_(lex(text, source)) {}

// ---- tokens ----

const Token& Reader::peek() {
    while (toks_[pos_].kind == Tok::comment) ++pos_;
    return toks_[pos_];
}

const Token& Reader::next() {
    const Token& t = peek();
    if (t.kind != Tok::end) ++pos_;
    return t;
}

bool Reader::accept(char c) {
    if (!peek().is(c)) return false;
    next();
    return true;
}

const Token& Reader::expect(char c, std::string_view where) {
    if (!peek().is(c)) fail(peek(), fmt::format("expected '{}' {}, found {}", c, where, describe(peek())));
    return next();
}

const Token& Reader::expect_word(std::string_view w, std::string_view where) {
    if (!peek().is(w)) fail(peek(), fmt::format("expected {} {}, found {}", w, where, describe(peek())));
    return next();
}

uint32_t Reader::read_u32(const Token& t, std::string_view what) const {
    uint64_t v = 0;
    if (t.kind != Tok::number || !parse_integer(t.text, v) || v > UINT32_MAX)
        fail(t, fmt::format("expected {} (an unsigned 32-bit number), found {}", what, describe(t)));
    return static_cast<uint32_t>(v);
}

// An optional `.align N`; PTX's default for .b8 arrays is 1.
uint32_t Reader::alignment() {
    if (!peek().is(".align")) return 1;
    next();
    const Token& at = next();
    const uint32_t align = read_u32(at, "an alignment");
    if (align == 0 || (align & (align - 1)) != 0) fail(at, fmt::format("alignment {} is not a power of two", align));
    return align;
}

// ---- the module ----

std::vector<Kernel> Reader::read_module() {
    header();
    std::vector<Kernel> out;
    while (peek().kind != Tok::end) {
        const Token& t = peek();
        if (t.is(".extern")) {
            extern_shared();
        } else if (t.is(".visible") || t.is(".entry")) {
            out.push_back(entry());
        } else {
            fail(t, fmt::format("expected .entry or .extern .shared at module scope, found {}", describe(t)));
        }
    }
    if (out.empty()) fail(peek(), "the module has no .entry");
    return out;
}

void Reader::header() {
    expect_word(".version", "at the start of the module");
    version_at_ = next();
    const std::string_view v = version_at_.text;
    const size_t dot = v.find('.');
    uint64_t major = 0, minor = 0;
    if (version_at_.kind != Tok::number || dot == std::string_view::npos || !parse_integer(v.substr(0, dot), major)
        || !parse_integer(v.substr(dot + 1), minor) || major > 99 || minor > 99)
        fail(version_at_, fmt::format("expected a PTX ISA version such as 8.3, found {}", describe(version_at_)));
    version_ = PtxVersion{static_cast<int>(major), static_cast<int>(minor)};

    expect_word(".target", "after .version");
    const Token& t = next();
    if (t.kind != Tok::word || t.text.rfind("sm_", 0) != 0) fail(t, fmt::format("expected an architecture such as sm_90, found {}", describe(t)));
    try {
        target_ = Target::parse(std::string(t.text));
    } catch (const ptxsmith::Error& e) {
        fail(t, e.what());
    }
    if (peek().is(".address_size")) {
        next();
        const Token& n = next();
        if (!(n.kind == Tok::number && n.text == "64")) fail(n, "ptxgen emits 64-bit addresses only: .address_size 64");
    }
}

// .extern .shared .align 16 .b8 dynamic_smem[];
void Reader::extern_shared() {
    next();
    expect_word(".shared", "after .extern (the dynamic shared array is the one external variable)");
    const uint32_t align = alignment();
    expect_word(".b8", "(arrays are declared as bytes)");
    const Token& name = next();
    if (name.kind != Tok::word || !is_identifier(name.text)) fail(name, fmt::format("expected an array name, found {}", describe(name)));
    expect('[', "after the array name");
    expect(']', "(the dynamic shared array has no size)");
    expect(';', "after the declaration");
    if (!module_vars_.empty()) fail(name, "a kernel has one dynamic shared array");
    module_vars_.push_back(VarDecl{std::string(name.text), Space::shared, 0, align, true});
}

// ---- the entry ----

Kernel Reader::entry() {
    if (peek().is(".visible")) next();
    expect_word(".entry", "after .visible");
    const Token& name = next();
    if (name.kind != Tok::word || !is_identifier(name.text)) fail(name, fmt::format("expected a kernel name, found {}", describe(name)));
    if (std::find(entry_names_.begin(), entry_names_.end(), name.text) != entry_names_.end())
        fail(name, fmt::format("the module defines kernel {} twice", name.text));
    entry_names_.emplace_back(name.text);

    k_ = Kernel{};
    k_.name = std::string(name.text);
    k_.target = target_;
    banks_.clear();
    symbols_.clear();
    label_ids_.clear();
    labels_.clear();
    for (const VarDecl& v : module_vars_) {
        symbols_[v.name] = Symbol{false, static_cast<uint32_t>(k_.vars.size())};
        k_.vars.push_back(v);
    }

    parameters();
    for (;;) {
        if (peek().is(".reqntid")) performance_directive(k_.reqntid);
        else if (peek().is(".maxntid")) performance_directive(k_.maxntid);
        else if (peek().is(".minnctapersm")) {
            const Token& d = next();
            k_.minnctapersm = read_u32(next(), fmt::format("a CTA count after {}", d.text));
        }
        else break;
    }
    body();
    return finish_entry();
}

void Reader::add_symbol(const Token& name, uint32_t id, bool is_param) {
    if (symbols_.count(name.text)) fail(name, fmt::format("'{}' is declared twice", name.text));
    if (name.text == k_.name) fail(name, fmt::format("'{}' is the kernel's own name", name.text));
    symbols_[std::string(name.text)] = Symbol{is_param, id};
}

// (.param .u64 param_x, .param .f32 param_a); a pointer parameter carries a "// f32*" comment.
void Reader::parameters() {
    expect('(', "after the kernel name");
    if (accept(')')) return;
    for (;;) {
        expect_word(".param", "to declare a parameter");
        const Token& type_at = next();
        std::optional<Type> type = type_at.kind == Tok::word && type_at.text.size() > 1 ? type_named(type_at.text.substr(1)) : std::nullopt;
        if (!type || *type == Type::pred) fail(type_at, fmt::format("expected a parameter type such as .u64, found {}", describe(type_at)));
        const Token& name = next();
        if (name.kind != Tok::word || !is_identifier(name.text)) fail(name, fmt::format("expected a parameter name, found {}", describe(name)));

        Param p;
        p.type = *type;
        p.pointee = *type;  // as param<T> records it; refined by the pointer comment or the ld.param
        p.name = std::string(name.text.rfind("param_", 0) == 0 && name.text.size() > 6 ? name.text.substr(6) : name.text);
        add_symbol(name, static_cast<uint32_t>(k_.params.size()), true);

        // Read the comma and the comment without skipping comments, so the comment stays on its line.
        bool more = toks_[pos_].is(',');
        if (more) ++pos_;
        if (const Token& c = toks_[pos_]; c.kind == Tok::comment && c.line == name.line) {
            const std::string_view text = trim(c.text);
            if (!text.empty() && text.back() == '*') {
                if (std::optional<Type> pointee = type_named(trim(text.substr(0, text.size() - 1)))) {
                    if (p.type != Type::u64) fail(c, "a pointer parameter is a .u64");
                    p.is_pointer = true;
                    p.pointee = *pointee;
                }
            }
            ++pos_;
        }
        k_.params.push_back(std::move(p));
        if (!more && !accept(',')) break;
    }
    expect(')', "after the parameters");
}

// .reqntid 256, 1, 1 (omitted sizes are 1)
void Reader::performance_directive(std::array<uint32_t, 3>& into) {
    const Token& d = next();
    into = {read_u32(next(), fmt::format("a thread count after {}", d.text)), 1, 1};
    for (size_t i = 1; i < 3 && accept(','); ++i) into[i] = read_u32(next(), "a thread count");
}

void Reader::body() {
    expect('{', "to open the kernel's body");
    for (;;) {
        const Token& t = peek();
        if (t.is('}')) {
            next();
            return;
        }
        if (t.kind == Tok::end) fail(t, fmt::format("the body of {} never ends: expected '}}'", k_.name));
        if (t.is(".reg")) {
            register_declaration();
        } else if (t.is(".shared")) {
            array_declaration(Space::shared);
        } else if (t.is(".local")) {
            array_declaration(Space::local);
        } else if (t.is(".pragma")) {
            pragma();
        } else if (t.kind == Tok::word && t.text[0] == '.') {
            fail(t, fmt::format("unknown directive {}", describe(t)));
        } else {
            // NAME: is a label; anything else an instruction.
            size_t after = pos_ + 1;
            while (toks_[after].kind == Tok::comment) ++after;
            if (t.kind == Tok::word && toks_[after].is(':')) label_statement();
            else instruction();
        }
    }
}

// .reg .u32 %r<5>;
void Reader::register_declaration() {
    next();
    const Token& type_at = next();
    std::optional<Type> declared = type_at.kind == Tok::word && type_at.text.size() > 1 ? type_named(type_at.text.substr(1)) : std::nullopt;
    if (!declared) fail(type_at, fmt::format("expected a register type such as .u32, found {}", describe(type_at)));
    const Token& prefix_at = next();
    if (prefix_at.kind != Tok::reg) fail(prefix_at, fmt::format("expected registers such as %r<4>, found {}", describe(prefix_at)));
    const std::string_view prefix = prefix_at.text.substr(1);
    std::optional<Type> type = type_of_prefix(prefix);
    if (!type) fail(prefix_at, fmt::format("{} is not a register prefix ptxgen prints (%r for u32, %f for f32, ...)", prefix_at.text));
    if (storage_type(*type) != *declared)
        fail(type_at, fmt::format("{} registers hold {}: declare them .{}", prefix_at.text, type_name(*type), type_name(storage_type(*type))));
    if (banks_.count(prefix)) fail(prefix_at, fmt::format("{} registers are declared twice", prefix_at.text));
    expect('<', "after the register prefix");
    const Token& count_at = next();
    const uint32_t count = read_u32(count_at, "a register count");
    if (count > (1u << 24)) fail(count_at, fmt::format("{} registers are more than the reader accepts", count));
    expect('>', "after the register count");
    expect(';', "after the declaration");
    banks_[std::string(prefix)] = Bank{*type, static_cast<uint32_t>(k_.regs.size()), count};
    k_.regs.insert(k_.regs.end(), count, *type);
}

// .shared .align 16 .b8 tile[512];   .local .align 16 .b8 lmem[64];
void Reader::array_declaration(Space space) {
    next();
    const uint32_t align = alignment();
    expect_word(".b8", "(arrays are declared as bytes)");
    const Token& name = next();
    if (name.kind != Tok::word || !is_identifier(name.text)) fail(name, fmt::format("expected an array name, found {}", describe(name)));
    if (name.text.rfind("param_", 0) == 0) fail(name, "names starting with param_ belong to parameters");
    expect('[', "after the array name");
    if (peek().is(']')) fail(peek(), "an array in the body needs its size; the dynamic shared array is declared .extern at module scope");
    const Token& bytes_at = next();
    const uint32_t bytes = read_u32(bytes_at, "the array's size in bytes");
    if (bytes == 0) fail(bytes_at, "an array needs at least one byte");
    expect(']', "after the array size");
    expect(';', "after the declaration");
    add_symbol(name, static_cast<uint32_t>(k_.vars.size()), false);
    k_.vars.push_back(VarDecl{std::string(name.text), space, bytes, align, false});
}

void Reader::label_statement() {
    const Token& name = next();
    next();  // ':'
    const uint32_t id = label_ref(name);
    if (labels_[id].bound) fail(name, fmt::format("label {} is bound twice", name.text));
    labels_[id].bound = true;
    Instr in;
    in.op = Op::label;
    in.type = Type::b8;
    in.push(Operand::label(id));
    push(in, name);
}

void Reader::pragma() {
    const Token& at = next();
    const Token& what = next();
    if (!(what.kind == Tok::string && what.text == "nounroll")) fail(what, "the one .pragma ptxgen writes is \"nounroll\"");
    expect(';', "after the .pragma");
    Instr in;
    in.op = Op::nounroll;
    in.type = Type::b8;
    push(in, at);
}

void Reader::push(const Instr& in, const Token& at) {
    k_.code.push_back(in);
    k_.locs.push_back(SourceLoc{intern(source_), at.line});
}

uint32_t Reader::label_ref(const Token& name) {
    if (auto it = label_ids_.find(name.text); it != label_ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(labels_.size());
    labels_.push_back(LabelSeen{std::string(name.text), false, name});
    label_ids_[std::string(name.text)] = id;
    return id;
}

uint32_t Reader::register_id(const Token& t) {
    const std::string_view text = t.text.substr(1);
    const size_t digits_at = std::min(text.size(), text.find_first_of("0123456789"));
    const std::string_view prefix = text.substr(0, digits_at), digits = text.substr(digits_at);
    uint64_t n = 0;
    if (prefix.empty() || digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string_view::npos
        || !parse_integer(digits, n))
        fail(t, fmt::format("'{}' is not a register", t.text));
    // In PTX %r01 and %r1 are different names; the printer never writes the first.
    if (digits.size() > 1 && digits[0] == '0') fail(t, fmt::format("{}: register numbers have no leading zeros", t.text));
    auto bank = banks_.find(prefix);
    if (bank == banks_.end()) {
        if (type_of_prefix(prefix)) fail(t, fmt::format("{}: no .reg declares %{} registers", t.text, prefix));
        fail(t, fmt::format("'{}' is neither a special register nor a register of a prefix ptxgen prints", t.text));
    }
    if (n >= bank->second.count)
        fail(t, fmt::format("{} is not declared: the kernel declares %{}<{}>", t.text, prefix, bank->second.count));
    return bank->second.first + static_cast<uint32_t>(n);
}

// ---- finishing the entry ----

// Label ids: names of the builder's form by their number (its creation order), then the others in
// order of first appearance.
void Reader::number_labels() {
    for (const LabelSeen& l : labels_) {
        if (!l.bound) fail(l.first_at, fmt::format("branch to label {}, which is never bound", l.name));
    }
    std::vector<std::optional<uint32_t>> number(labels_.size());
    for (size_t i = 0; i < labels_.size(); ++i) number[i] = builder_label_number(labels_[i].name);
    std::vector<uint32_t> order(labels_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        if (number[a] && number[b]) return *number[a] < *number[b];
        return number[a].has_value() && !number[b].has_value();
    });
    std::vector<uint32_t> id_of(labels_.size());
    k_.labels.clear();
    for (uint32_t i = 0; i < order.size(); ++i) {
        id_of[order[i]] = i;
        k_.labels.push_back(LabelInfo{labels_[order[i]].name});
    }
    for (Instr& in : k_.code) {
        for (int i = 0; i < in.nops; ++i) {
            if (in.operand(i).kind == OpKind::label) in.operand(i).id = id_of[in.operand(i).id];
        }
    }
}

// PTX declares a half parameter by its storage type (.b16); the builder loads it once, at the
// declaration, into a register of its own type: that register tells the parameter's type.
void Reader::refine_parameter_types() {
    std::vector<bool> seen(k_.params.size(), false);
    for (const Instr& in : k_.code) {
        if (in.op != Op::ld || in.m.space != Space::param || in.operand(1).base != AddrBase::param) continue;
        const uint32_t index = in.operand(1).id;
        if (seen[index]) continue;
        seen[index] = true;
        Param& p = k_.params[index];
        const Operand& d = in.operand(0);
        if (!p.is_pointer && d.kind == OpKind::reg && d.type != p.type && storage_type(d.type) == p.type) {
            p.type = d.type;
            p.pointee = d.type;
        }
    }
}

void Reader::check_version(const Kernel& k) const {
    const Requirement need = module_requirement(k);
    const PtxVersion least = std::max(need.ptx, min_ptx_for(target_));
    if (version_ < least)
        fail(version_at_, fmt::format("kernel {} with .target {} needs .version {} or newer", k.name, target_.str(), least.str()));
}

Kernel Reader::finish_entry() {
    number_labels();
    refine_parameter_types();
    k_.reg_hints.assign(k_.regs.size(), std::string());
    Kernel k = canonical_form(k_);
    check_version(k);
    verify(k);
    return k;
}

}  // namespace ptx_reader

std::vector<Kernel> read_ptx(std::string_view text, std::string_view source_name) {
    return ptx_reader::Reader(text, source_name).read_module();
}

Kernel read_ptx_kernel(std::string_view text, std::string_view kernel_name, std::string_view source_name) {
    std::vector<Kernel> kernels = read_ptx(text, source_name);
    std::string names;
    for (Kernel& k : kernels) {
        if (k.name == kernel_name) return std::move(k);
        names += fmt::format("{}{}", names.empty() ? "" : ", ", k.name);
    }
    throw ptxsmith::Error(fmt::format("{}: no kernel named {}; the module has {}", source_name, kernel_name, names));
}

}  // namespace ptxgen
