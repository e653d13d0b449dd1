// The interpreter's internal form: a kernel decoded into instructions whose operands are slots of
// a per-warp register file laid out [slot][lane], with immediates as constant slots, so every
// handler reads operands the same way and loops over lanes without branching on operand kinds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ptxgen/interp.hpp"
#include "ptxgen/ir.hpp"

namespace ptxgen::interp {

struct Warp;
struct DInstr;
using Handler = void (*)(Warp& w, const DInstr& d, uint32_t mask);

// What the engine itself does with an instruction besides (or instead of) calling its handler.
enum class Ctl : uint8_t { none, bra, exit, bar_sync, bar_arrive, warp_sync };

inline constexpr uint32_t kNoSlot = 0xffffffffu;

struct DAddr {
    AddrBase base = AddrBase::none;
    uint32_t slot = kNoSlot;  // base register
    int64_t offset = 0;       // folded: variable offset + constant offset, or param blob offset
    Space space = Space::generic;
};

struct DInstr {
    Handler fn = nullptr;
    Ctl ctl = Ctl::none;
    uint32_t ir_index = 0;
    uint32_t guard = kNoSlot;
    bool guard_neg = false;
    uint32_t target = 0;  // bra: destination program counter
    // Operand i of the IR instruction as slots (a scalar has one; vectors up to four).
    std::array<std::array<uint32_t, 4>, kMaxOperands> slot{};
    std::array<uint8_t, kMaxOperands> count{};
    std::array<bool, kMaxOperands> negated{};  // predicate operands read as !p
    std::array<DAddr, 2> addr{};  // the instruction's addresses in operand order
    const Instr* in = nullptr;

    uint32_t s(int operand, int element = 0) const {
        return slot[static_cast<size_t>(operand)][static_cast<size_t>(element)];
    }
};

struct Program {
    const Kernel* kernel = nullptr;
    std::vector<DInstr> code;
    uint32_t slots = 0;                                   // register slots per lane
    std::vector<std::pair<uint32_t, uint64_t>> constants;  // (slot, value) filled in every warp
    std::vector<uint32_t> param_offsets;                  // byte offset of each parameter
    std::vector<uint32_t> param_sizes;
    uint32_t param_bytes = 0;
    uint32_t static_shared_bytes = 0;
    uint32_t dynamic_shared_offset = 0;                   // where the dynamic array starts
    uint32_t local_bytes = 0;                             // per thread
    std::vector<uint32_t> reg_slot;                       // IR register id -> slot
};

// Decodes a verified kernel. Throws ptxsmith::Error for IR the interpreter cannot run.
Program decode(const Kernel& k);

// Picks the handler for an instruction (ops_*.cpp); nullptr for instructions the engine handles.
Handler select_handler(const Instr& in);
Handler select_arith_handler(const Instr& in);
Handler select_logic_handler(const Instr& in);
Handler select_convert_handler(const Instr& in);
Handler select_memory_handler(const Instr& in);
Handler select_warp_handler(const Instr& in);

// Thrown by handlers for a fault in one lane; the engine adds kernel, block and thread.
struct LaneFault {
    int lane;
    std::string message;
};

}  // namespace ptxgen::interp
