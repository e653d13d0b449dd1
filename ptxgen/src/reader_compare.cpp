// The numbering read_ptx gives a kernel, and comparison up to numbering. The builder numbers
// registers in creation order; printed text only keeps each register's type and its number within
// the type, so that pair is what two kernels can be compared by.
#include <array>

#include "ptxgen/reader.hpp"

namespace ptxgen {
namespace {

struct Renumbering {
    std::vector<uint32_t> reg, var, label;

    static uint32_t apply(const std::vector<uint32_t>& map, uint32_t id) { return id < map.size() ? map[id] : id; }

    void operand(Operand& o) const {
        switch (o.kind) {
        case OpKind::reg: o.id = apply(reg, o.id); break;
        case OpKind::vec:
            for (int e = 0; e < o.count; ++e) o.elems[static_cast<size_t>(e)] = apply(reg, o.elems[static_cast<size_t>(e)]);
            break;
        case OpKind::addr:
            if (o.base == AddrBase::reg) o.id = apply(reg, o.id);
            if (o.base == AddrBase::var) o.id = apply(var, o.id);
            break;
        case OpKind::symbol: o.id = apply(var, o.id); break;
        case OpKind::label: o.id = apply(label, o.id); break;
        default: break;
        }
    }
};

// new id -> old id, inverted into old id -> new id.
std::vector<uint32_t> inverse(const std::vector<uint32_t>& order, size_t size) {
    std::vector<uint32_t> map(size, kNoReg);
    for (uint32_t i = 0; i < order.size(); ++i) map[order[i]] = i;
    return map;
}

}  // namespace

Kernel canonical_form(const Kernel& k) {
    // Registers by (type, number within the type), the order of the printer's .reg lines.
    std::array<std::vector<uint32_t>, kTypeCount> by_type;
    for (uint32_t id = 0; id < k.regs.size(); ++id) by_type[static_cast<size_t>(k.regs[id])].push_back(id);
    std::vector<uint32_t> reg_order;
    for (const auto& ids : by_type) reg_order.insert(reg_order.end(), ids.begin(), ids.end());

    // The dynamic shared array first: it is printed at module scope, before the others.
    std::vector<uint32_t> var_order;
    for (int pass = 0; pass < 2; ++pass) {
        for (uint32_t id = 0; id < k.vars.size(); ++id) {
            if (k.vars[id].dynamic == (pass == 0)) var_order.push_back(id);
        }
    }

    // Labels some instruction names, in their order; the text has no trace of the others.
    std::vector<bool> named(k.labels.size(), false);
    for (const Instr& in : k.code) {
        for (int i = 0; i < in.nops; ++i) {
            const Operand& o = in.operand(i);
            if (o.kind == OpKind::label && o.id < named.size()) named[o.id] = true;
        }
    }
    std::vector<uint32_t> label_order;
    for (uint32_t id = 0; id < k.labels.size(); ++id) {
        if (named[id]) label_order.push_back(id);
    }

    const Renumbering r{inverse(reg_order, k.regs.size()), inverse(var_order, k.vars.size()),
                        inverse(label_order, k.labels.size())};
    Kernel out = k;
    out.regs.clear();
    out.reg_hints.clear();
    for (uint32_t id : reg_order) {
        out.regs.push_back(k.regs[id]);
        if (id < k.reg_hints.size()) out.reg_hints.push_back(k.reg_hints[id]);
    }
    out.vars.clear();
    for (uint32_t id : var_order) out.vars.push_back(k.vars[id]);
    out.labels.clear();
    for (uint32_t id : label_order) out.labels.push_back(k.labels[id]);
    for (Instr& in : out.code) {
        if (in.guard != kNoReg) in.guard = Renumbering::apply(r.reg, in.guard);
        for (int i = 0; i < in.nops; ++i) r.operand(in.operand(i));
    }
    return out;
}

bool same_program_modulo_registers(const Kernel& a, const Kernel& b) {
    return canonical_form(a).same_program(canonical_form(b));
}

}  // namespace ptxgen
