// Kernel IR -> the interpreter's Program: register slots, constant slots for immediates, folded
// addresses, branch targets, and a handler per instruction.
#include <fmt/format.h>

#include <map>

#include "program.hpp"
#include "ptxgen/error.hpp"

namespace ptxgen::interp {

namespace {

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

class Decoder {
public:
    explicit Decoder(const Kernel& k) : k_(k) {}

    Program run() {
        p_.kernel = &k_;
        assign_slots();
        layout_params();
        layout_variables();
        map_program_counters();
        for (size_t i = 0; i < k_.code.size(); ++i) {
            const Instr& in = k_.code[i];
            if (in.op == Op::label || in.op == Op::nounroll) continue;
            p_.code.push_back(decode_instr(in, static_cast<uint32_t>(i)));
        }
        // Running off the end of the code is leaving the kernel.
        DInstr end;
        end.ctl = Ctl::exit;
        end.ir_index = static_cast<uint32_t>(k_.code.empty() ? 0 : k_.code.size() - 1);
        end.in = k_.code.empty() ? nullptr : &k_.code.back();
        if (p_.code.empty() || p_.code.back().ctl != Ctl::exit || p_.code.back().guard != kNoSlot) p_.code.push_back(end);
        return std::move(p_);
    }

private:
    const Kernel& k_;
    Program p_;
    std::map<uint64_t, uint32_t> constant_slot_;
    std::vector<uint32_t> var_offset_;
    std::vector<uint32_t> pc_of_;  // IR index -> program counter of the next executable instruction

    void assign_slots() {
        p_.reg_slot.resize(k_.regs.size());
        for (size_t r = 0; r < k_.regs.size(); ++r) {
            p_.reg_slot[r] = p_.slots;
            p_.slots += k_.regs[r] == Type::b128 ? 2 : 1;
        }
    }

    uint32_t constant(uint64_t value) {
        auto [it, inserted] = constant_slot_.try_emplace(value, p_.slots);
        if (inserted) {
            p_.constants.emplace_back(p_.slots, value);
            ++p_.slots;
        }
        return it->second;
    }

    void layout_params() {
        uint32_t offset = 0;
        for (const Param& prm : k_.params) {
            const uint32_t size = static_cast<uint32_t>(byte_size(storage_type(prm.type)));
            offset = align_up(offset, size);
            p_.param_offsets.push_back(offset);
            p_.param_sizes.push_back(size);
            offset += size;
        }
        p_.param_bytes = offset;
    }

    void layout_variables() {
        uint32_t shared = 0, local = 0;
        uint32_t dynamic_align = 16;
        var_offset_.resize(k_.vars.size());
        for (size_t i = 0; i < k_.vars.size(); ++i) {
            const VarDecl& v = k_.vars[i];
            if (v.dynamic) {
                dynamic_align = v.align;
                continue;
            }
            uint32_t& cursor = v.space == Space::local ? local : shared;
            cursor = align_up(cursor, v.align);
            var_offset_[i] = cursor;
            cursor += v.bytes;
        }
        p_.static_shared_bytes = shared;
        p_.dynamic_shared_offset = align_up(shared, dynamic_align);
        for (size_t i = 0; i < k_.vars.size(); ++i) {
            if (k_.vars[i].dynamic) var_offset_[i] = p_.dynamic_shared_offset;
        }
        p_.local_bytes = align_up(local, 16);
    }

    void map_program_counters() {
        pc_of_.assign(k_.code.size() + 1, 0);
        uint32_t pc = 0;
        for (size_t i = 0; i < k_.code.size(); ++i) {
            pc_of_[i] = pc;
            if (k_.code[i].op != Op::label && k_.code[i].op != Op::nounroll) ++pc;
        }
        pc_of_[k_.code.size()] = pc;
    }

    uint32_t label_pc(uint32_t label) const {
        for (size_t i = 0; i < k_.code.size(); ++i) {
            if (k_.code[i].op == Op::label && k_.code[i].operand(0).id == label) return pc_of_[i];
        }
        throw ptxsmith::Error(fmt::format("kernel {}: branch to label {}, which is never bound", k_.name, k_.labels.at(label).name));
    }

    Space address_space(const Instr& in, int address_index) const {
        if (in.op == Op::ldmatrix) return Space::shared;
        if (in.op == Op::cp_async) return address_index == 0 ? Space::shared : Space::global;
        return in.m.space;
    }

    DInstr decode_instr(const Instr& in, uint32_t index) {
        DInstr d;
        d.in = &in;
        d.ir_index = index;
        if (in.guard != kNoReg) {
            d.guard = p_.reg_slot.at(in.guard);
            d.guard_neg = in.guard_neg;
        }
        int addresses = 0;
        for (int i = 0; i < in.nops; ++i) {
            const Operand& o = in.operand(i);
            auto& slots = d.slot[static_cast<size_t>(i)];
            auto& count = d.count[static_cast<size_t>(i)];
            switch (o.kind) {
            case OpKind::reg:
                slots[0] = p_.reg_slot.at(o.id);
                count = 1;
                d.negated[static_cast<size_t>(i)] = o.negated;
                break;
            case OpKind::imm:
                slots[0] = constant(o.bits);
                count = 1;
                break;
            case OpKind::vec:
                for (int e = 0; e < o.count; ++e) slots[static_cast<size_t>(e)] = p_.reg_slot.at(o.elems[static_cast<size_t>(e)]);
                count = o.count;
                break;
            case OpKind::symbol:  // the address of a shared or local variable is a constant
                slots[0] = constant(var_offset_.at(o.id));
                count = 1;
                break;
            case OpKind::addr: {
                if (addresses == 2) throw ptxsmith::Error(fmt::format("kernel {}: instruction {} has three addresses", k_.name, index));
                DAddr& a = d.addr[static_cast<size_t>(addresses)];
                a.base = o.base;
                a.space = address_space(in, addresses);
                a.offset = o.offset;
                if (o.base == AddrBase::reg) a.slot = p_.reg_slot.at(o.id);
                if (o.base == AddrBase::var) a.offset += var_offset_.at(o.id);
                if (o.base == AddrBase::param) a.offset += p_.param_offsets.at(o.id);
                slots[0] = static_cast<uint32_t>(addresses++);
                break;
            }
            case OpKind::sreg:
                slots[0] = o.id;
                break;
            default:
                break;
            }
        }
        switch (in.op) {
        case Op::bra:
            d.ctl = Ctl::bra;
            d.target = label_pc(in.operand(0).id);
            break;
        case Op::ret: case Op::exit:
            d.ctl = Ctl::exit;
            break;
        case Op::bar:
            d.ctl = in.m.bar == BarKind::sync ? Ctl::bar_sync : Ctl::bar_arrive;
            break;
        case Op::bar_warp_sync:
            d.ctl = Ctl::warp_sync;
            break;
        default:
            d.fn = select_handler(in);
            if (!d.fn) {
                throw ptxsmith::Error(fmt::format("kernel {}: the interpreter cannot run instruction {} ({})", k_.name, index,
                                                  static_cast<int>(in.op)));
            }
        }
        return d;
    }
};

}  // namespace

Program decode(const Kernel& k) { return Decoder(k).run(); }

Handler select_handler(const Instr& in) {
    if (Handler h = select_arith_handler(in)) return h;
    if (Handler h = select_logic_handler(in)) return h;
    if (Handler h = select_convert_handler(in)) return h;
    if (Handler h = select_memory_handler(in)) return h;
    return select_warp_handler(in);
}

}  // namespace ptxgen::interp
