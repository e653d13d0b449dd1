#include "ptxgen/verifier.hpp"

#include <fmt/format.h>

#include <array>

#include "ptxgen/error.hpp"
#include "ptxgen/forms.hpp"
#include "ptxgen/printer.hpp"

namespace ptxgen {

uint32_t Kernel::static_shared_bytes() const {
    uint32_t total = 0;
    for (const VarDecl& v : vars) {
        if (v.space == Space::shared && !v.dynamic) total = (total + v.align - 1) / v.align * v.align + v.bytes;
    }
    return total;
}

namespace {

bool writes_operand0(Op op) {
    switch (op) {
    case Op::st: case Op::bar: case Op::bar_warp_sync: case Op::membar: case Op::fence: case Op::red:
    case Op::cp_async: case Op::cp_async_commit: case Op::cp_async_wait: case Op::griddep_wait: case Op::griddep_launch:
    case Op::prefetch: case Op::bra: case Op::ret:
    case Op::exit: case Op::label: case Op::nounroll:
        return false;
    default:
        return true;
    }
}

template <class List> void collect(const Operand& o, List& out) {
    if (o.kind == OpKind::reg) out.push_back(o.id);
    if (o.kind == OpKind::vec) {
        for (int e = 0; e < o.count; ++e) out.push_back(o.elems[static_cast<size_t>(e)]);
    }
    if (o.kind == OpKind::addr && o.base == AddrBase::reg) out.push_back(o.id);
}

// Register ids of one instruction: at most six operands of at most four registers, plus a guard.
struct RegList {
    std::array<uint32_t, kMaxOperands * 4 + 1> ids{};
    size_t n = 0;
    void push_back(uint32_t id) { ids[n++] = id; }
    void clear() { n = 0; }
    const uint32_t* begin() const { return ids.data(); }
    const uint32_t* end() const { return ids.data() + n; }
};

template <class List> void defs_of(const Instr& in, List& out) {
    out.clear();
    if (in.nops == 0 || !writes_operand0(in.op)) return;
    collect(in.operand(0), out);
    if (in.op == Op::shfl) collect(in.operand(1), out);
}

template <class List> void uses_of(const Instr& in, List& out) {
    out.clear();
    if (in.guard != kNoReg) out.push_back(in.guard);
    const int first = writes_operand0(in.op) ? (in.op == Op::shfl ? 2 : 1) : 0;
    for (int i = first; i < in.nops; ++i) collect(in.operand(i), out);
}

}  // namespace

void instruction_defs(const Instr& in, std::vector<uint32_t>& out) { defs_of(in, out); }
void instruction_uses(const Instr& in, std::vector<uint32_t>& out) { uses_of(in, out); }

namespace {

class Verifier {
public:
    Verifier(const Kernel& k, const VerifyOptions& o) : k_(k), o_(o) {}

    void run() {
        check_declarations();
        for (size_t i = 0; i < k_.code.size(); ++i) check_instruction(i);
        check_labels();
        check_definitions();
    }

private:
    const Kernel& k_;
    const VerifyOptions& o_;

    [[noreturn]] void fail(size_t index, const std::string& what) const {
        std::string text(1, '?');  // when the instruction cannot even be printed
        try {
            text = print_instruction(k_, index);
        } catch (const ptxsmith::Error&) {
        }
        std::string where;
        if (index < k_.locs.size()) where = fmt::format(" (at {}:{})", k_.locs[index].file_name(), k_.locs[index].line());
        throw ptxsmith::Error(fmt::format("kernel {}, instruction {} `{}`: {}{}", k_.name, index, text, what, where));
    }

    void check_declarations() const {
        if (k_.static_shared_bytes() > kMaxStaticSharedBytes) {
            throw ptxsmith::Error(fmt::format("kernel {}: {} bytes of static shared memory, more than the {} a kernel may declare; "
                                              "use dynamic shared memory", k_.name, k_.static_shared_bytes(), kMaxStaticSharedBytes));
        }
        if (k_.reg_hints.size() != k_.regs.size() && !k_.reg_hints.empty())
            throw ptxsmith::Error(fmt::format("kernel {}: register hints do not match the register table", k_.name));
        // ptxas ignores .minnctapersm (with a warning) unless the CTA size is bounded.
        if (k_.minnctapersm && !k_.reqntid[0] && !k_.maxntid[0])
            throw ptxsmith::Error(fmt::format("kernel {}: .minnctapersm {} needs .reqntid or .maxntid (ptxas ignores it alone)",
                                              k_.name, k_.minnctapersm));
    }

    void check_register(size_t index, uint32_t id, Type expected, bool check_type) const {
        if (id >= k_.regs.size()) fail(index, fmt::format("register id {} does not exist", id));
        if (check_type && expected != Type::b8 && !compatible(expected, k_.regs[id])) {
            fail(index, fmt::format("a {} register where the instruction needs {}", type_name(k_.regs[id]), type_name(expected)));
        }
    }

    void check_instruction(size_t index) const {
        const Instr& in = k_.code[index];
        if (o_.check_forms) {
            if (std::string why = form_error(in); !why.empty()) fail(index, why);
            if (Requirement need = requirement(in); !need.satisfied_by(k_.target))
                fail(index, fmt::format("needs {}, but the kernel is built for {}", need.str(), k_.target.str()));
        }
        if (in.guard != kNoReg) {
            check_register(index, in.guard, Type::pred, true);
        }
        for (int i = 0; i < in.nops; ++i) {
            const Operand& o = in.operand(i);
            const Type expected = expected_operand_type(in, i);
            switch (o.kind) {
            case OpKind::reg:
                check_register(index, o.id, expected, true);
                if (o.type != k_.regs[o.id]) fail(index, fmt::format("operand {} names register {} with the wrong type", i, o.id));
                break;
            case OpKind::vec:
                for (int e = 0; e < o.count; ++e) check_register(index, o.elems[static_cast<size_t>(e)], expected, true);
                break;
            case OpKind::addr:
                check_address(index, in, o);
                break;
            case OpKind::label:
                if (o.id >= k_.labels.size()) fail(index, fmt::format("label id {} does not exist", o.id));
                break;
            case OpKind::symbol:
                if (o.id >= k_.vars.size()) fail(index, fmt::format("variable id {} does not exist", o.id));
                break;
            default:
                break;
            }
        }
    }

    void check_address(size_t index, const Instr& in, const Operand& o) const {
        if (o.base == AddrBase::param) {
            if (o.id >= k_.params.size()) fail(index, fmt::format("parameter index {} does not exist", o.id));
            return;
        }
        if (o.base == AddrBase::var) {
            if (o.id >= k_.vars.size()) fail(index, fmt::format("variable id {} does not exist", o.id));
            return;
        }
        if (o.base != AddrBase::reg) return;
        check_register(index, o.id, Type::b8, false);
        const int width = bit_width(k_.regs[o.id]);
        const bool shared = (in.op == Op::cp_async && &o == &in.operand(0)) || in.m.space == Space::shared || in.op == Op::ldmatrix;
        if (is_float(k_.regs[o.id]) || k_.regs[o.id] == Type::pred || (width != 64 && !(shared && width == 32))) {
            fail(index, fmt::format("an address register must be 64-bit (32-bit allowed for shared memory), not {}",
                                    type_name(k_.regs[o.id])));
        }
    }

    void check_labels() const {
        std::vector<int> bound(k_.labels.size(), 0);
        for (size_t i = 0; i < k_.code.size(); ++i) {
            if (k_.code[i].op != Op::label) continue;
            uint32_t id = k_.code[i].operand(0).id;
            if (++bound[id] > 1) fail(i, fmt::format("label {} is bound twice", k_.labels[id].name));
        }
        for (size_t i = 0; i < k_.code.size(); ++i) {
            if (k_.code[i].op != Op::bra) continue;
            uint32_t id = k_.code[i].operand(0).id;
            if (!bound[id]) fail(i, fmt::format("branch to label {}, which is never bound", k_.labels[id].name));
        }
    }

    // A register read where no path from the entry has written it is an error. Guarded writes
    // count as writes: the check catches registers that were never set, not conditional ones.
    void check_definitions() const {
        const size_t n = k_.code.size();
        const size_t words = (k_.regs.size() + 63) / 64;
        if (n == 0) return;

        std::vector<size_t> label_at(k_.labels.size(), 0);
        std::vector<char> leader(n + 1, 0);
        leader[0] = 1;
        for (size_t i = 0; i < n; ++i) {
            const Instr& in = k_.code[i];
            if (in.op == Op::label) {
                leader[i] = 1;
                label_at[in.operand(0).id] = i;
            }
            if (in.op == Op::bra || in.op == Op::ret || in.op == Op::exit) leader[i + 1] = 1;
        }
        std::vector<size_t> starts;
        std::vector<size_t> block_of(n);
        for (size_t i = 0; i < n; ++i) {
            if (leader[i]) starts.push_back(i);
            block_of[i] = starts.size() - 1;
        }
        const size_t nb = starts.size();
        auto block_end = [&](size_t b) { return b + 1 < nb ? starts[b + 1] : n; };

        std::vector<std::vector<size_t>> succ(nb);
        for (size_t b = 0; b < nb; ++b) {
            const Instr& last = k_.code[block_end(b) - 1];
            bool falls_through = true;
            if (last.op == Op::bra) {
                succ[b].push_back(block_of[label_at[last.operand(0).id]]);
                falls_through = last.guard != kNoReg;
            } else if (last.op == Op::ret || last.op == Op::exit) {
                falls_through = last.guard != kNoReg;
            }
            if (falls_through && b + 1 < nb) succ[b].push_back(b + 1);
        }

        RegList scratch;
        std::vector<std::vector<uint64_t>> gen(nb, std::vector<uint64_t>(words, 0));
        for (size_t b = 0; b < nb; ++b) {
            for (size_t i = starts[b]; i < block_end(b); ++i) {
                defs_of(k_.code[i], scratch);
                for (uint32_t r : scratch) gen[b][r / 64] |= uint64_t{1} << (r % 64);
            }
        }
        std::vector<std::vector<uint64_t>> in(nb, std::vector<uint64_t>(words, 0));
        std::vector<char> queued(nb, 1);
        std::vector<size_t> work;
        for (size_t b = nb; b-- > 0;) work.push_back(b);
        while (!work.empty()) {
            size_t b = work.back();
            work.pop_back();
            queued[b] = 0;
            for (size_t s : succ[b]) {
                bool changed = false;
                for (size_t w = 0; w < words; ++w) {
                    uint64_t v = in[s][w] | in[b][w] | gen[b][w];
                    if (v != in[s][w]) {
                        in[s][w] = v;
                        changed = true;
                    }
                }
                if (changed && !queued[s]) {
                    queued[s] = 1;
                    work.push_back(s);
                }
            }
        }

        for (size_t b = 0; b < nb; ++b) {
            std::vector<uint64_t> cur = in[b];
            for (size_t i = starts[b]; i < block_end(b); ++i) {
                uses_of(k_.code[i], scratch);
                for (uint32_t r : scratch) {
                    if (r >= k_.regs.size()) fail(i, fmt::format("register id {} does not exist", r));
                    if (!(cur[r / 64] >> (r % 64) & 1)) {
                        fail(i, fmt::format("reads register {} before anything writes it", register_name(k_, r)));
                    }
                }
                defs_of(k_.code[i], scratch);
                for (uint32_t r : scratch) cur[r / 64] |= uint64_t{1} << (r % 64);
            }
        }
    }
};

}  // namespace

void verify(const Kernel& k, const VerifyOptions& options) { Verifier(k, options).run(); }

}  // namespace ptxgen
