// Prints a kernel's IR as a PTX module. Output depends only on the IR and the options: the same
// kernel gives byte-identical text in every process on every machine.
#pragma once

#include <optional>
#include <string>

#include "ptxgen/ir.hpp"

namespace ptxgen {

struct PrintOptions {
    std::optional<Target> target;            // overrides the computed .target
    std::optional<PtxVersion> version;       // overrides the computed .version
    std::optional<PtxVersion> max_version;   // the highest ISA the consumer accepts (e.g. the driver's)
    bool debug_locations = false;            // a comment with the builder call's file:line per instruction
};

// The lowest .target and .version that cover every instruction of the kernel (never below sm_75).
Requirement module_requirement(const Kernel& k);

// Pointer parameters get a comment naming what they point to (`.param .u64 param_x,\t// f32*`):
// PTX has no pointer types, and read_ptx (reader.hpp) restores Param::pointee from it.
std::string print_ptx(const Kernel& k, const PrintOptions& options = {});

// One instruction as it appears in the module, without indentation or newline: "add.s32 %s2, %s0, %s1;".
std::string print_instruction(const Kernel& k, size_t index);

// The name a register is printed with ("%r3", "%f0", "%p1").
std::string register_name(const Kernel& k, uint32_t id);

// The textual prefix of registers of a type ("r" for u32): the reader maps it back to the type.
std::string_view register_prefix(Type t);

}  // namespace ptxgen
