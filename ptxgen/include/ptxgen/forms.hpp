// What each instruction form needs of the target, and which modifier and type combinations PTX
// offers. One place answers both for the builder, the verifier and (later) the PTX reader.
#pragma once

#include <string>

#include "ptxgen/ir.hpp"
#include "ptxgen/target.hpp"

namespace ptxgen {

// The lowest SM and PTX ISA version that accept this instruction as written.
Requirement requirement(const Instr& in);

// Empty when PTX has this form; otherwise a sentence saying what is wrong ("cvt.f16.f32 needs a
// rounding mode (.rn, .rz, .rm or .rp)").
std::string form_error(const Instr& in);

// The type a register in operand slot `index` must be compatible with, or Type::b8 when the
// slot takes no register of a fixed type (addresses, labels, immediates-only slots).
// Vector operands report their element type.
Type expected_operand_type(const Instr& in, int index);

// The double-width type of mul.wide/mad.wide results (u16 -> u32, s32 -> s64); other types unchanged.
Type wide_type(Type t);

// PTX's operand type compatibility: same type, or same size where one side is a bit type, or
// signed/unsigned integers of the same size. Half types stored in bit registers are bits.
bool compatible(Type instruction_type, Type register_type);

}  // namespace ptxgen
