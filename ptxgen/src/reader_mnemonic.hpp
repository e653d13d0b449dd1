// What the PTX reader knows about each mnemonic: its modifiers, in the order printer.cpp writes
// them, the operands it takes, and the type the builder gives its immediates. Private to the
// reader (ptxgen/src/reader*.cpp).
#pragma once

#include <string_view>

#include "ptxgen/ir.hpp"
#include "reader_lexer.hpp"

namespace ptxgen::ptx_reader {

// Reads a mnemonic token such as `ld.global.nc.v4.f32` into in.op, in.type, in.type2 and in.m.
// Errors point at the part of the token at fault. `wait_all` is set for cp.async.wait_all, the
// one form whose operand count its Op does not tell.
void read_mnemonic(std::string_view source, const Token& t, Instr& in, bool& wait_all);

// The operands an instruction takes, one letter per operand, in order:
//   d  destination register           r  register source (a predicate may be negated)
//   s  register or immediate source   i  immediate
//   a  address                         v  vector of registers, {%f0, %f1}
//   l  label                           q  shfl's destination, optionally d|p
//   D  ld/mov destination: a register or a vector
//   S  st value: a register, an immediate or a vector
//   m  mov source: a register, an immediate, a vector, a special register or an array's name
// '?' makes the next operand optional.
std::string_view operand_signature(const Instr& in, bool wait_all);

// The number of registers in the vector operand at `slot`.
int vector_count(const Instr& in, int slot);

// The Type the builder gives an immediate at `slot`, given the operands before it. This is the
// type of the builder method's Val<T>, which is not always the printed type: and.b32 of a u32
// register takes a u32 immediate, st.u8 a u32 value, shfl's lane operands are u32 and its member
// mask b32.
Type immediate_type(const Instr& in, int slot);

}  // namespace ptxgen::ptx_reader
