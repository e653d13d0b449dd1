// Reads PTX text back into IR: the inverse of print_ptx for the subset the printer emits, plus
// hand-written text in the same subset (any register numbering, comments anywhere).
//
//   std::vector<Kernel> ks = read_ptx(text, "saxpy.ptx");
//   Kernel k = read_ptx_kernel(text, "saxpy", "saxpy.ptx");
//
// Text outside the subset throws ptxsmith::Error as "saxpy.ptx:12:9: message", pointing at the
// offending token. Each kernel read is then verified with its form checks on, against the target
// its .target directive names (Kernel::target); Kernel::locs hold the PTX lines, so a verifier
// error ends "(at saxpy.ptx:12)".
//
// Registers are numbered by type, then by their number within the type: %p0.. first, then %rh0..,
// %r0.., in the order of the Type enumeration (canonical_form below). The builder numbers them
// in creation order instead, so compare a built kernel with a read one through
// same_program_modulo_registers. Labels keep their printed names; names of the builder's form
// $L_<hint>_<n> get ids by n (the builder's creation order), others by first appearance.
#pragma once

#include <string_view>
#include <vector>

#include "ptxgen/ir.hpp"

namespace ptxgen {

// Every .entry of the module, in text order.
std::vector<Kernel> read_ptx(std::string_view text, std::string_view source_name = "<ptx>");

// The .entry called `kernel_name`; an error lists the names the module has when it is absent.
Kernel read_ptx_kernel(std::string_view text, std::string_view kernel_name, std::string_view source_name = "<ptx>");

// The same program with the numbering read_ptx gives: registers ordered by (type, number within
// the type), the dynamic shared array first among the variables (it is printed at module scope,
// so its place among the others cannot be read back), and labels no instruction names dropped.
Kernel canonical_form(const Kernel& k);

// Kernel::same_program after canonical_form on both sides: equal up to how registers are
// numbered. Everything else (parameters, variables, labels, every instruction with all its
// modifiers and operand types, .reqntid/.maxntid) must match exactly.
bool same_program_modulo_registers(const Kernel& a, const Kernel& b);

}  // namespace ptxgen
