// Checks a kernel before it is printed or run: every register written before it is read on some
// path, labels bound once and branched to only when bound, operand types consistent with each
// instruction, each instruction a form PTX has and the kernel's target allows, static shared
// memory within the 48 KB a kernel may declare. Throws ptxsmith::Error naming the kernel, the
// instruction index and text, and the C++ line of the builder call.
#pragma once

#include <vector>

#include "ptxgen/ir.hpp"

namespace ptxgen {

// The most static shared memory a kernel may declare; more must be dynamic and opted into.
inline constexpr uint32_t kMaxStaticSharedBytes = 48 * 1024;

struct VerifyOptions {
    // Re-check each instruction's form and target requirement. The builder checks both as each
    // instruction is emitted, so finish() skips them; IR from elsewhere should keep this on.
    bool check_forms = true;
};

void verify(const Kernel& k, const VerifyOptions& options = {});

// Register ids an instruction writes and reads (vector elements and address bases included;
// the guard counts as a read).
void instruction_defs(const Instr& in, std::vector<uint32_t>& out);
void instruction_uses(const Instr& in, std::vector<uint32_t>& out);

}  // namespace ptxgen
