// Runs NVIDIA's ptxas on generated PTX: the one authority on whether a module is valid PTX for a
// device, and the source of register, spill and stack figures. ptxas is an external program from
// the CUDA toolkit; nothing else in ptxgen needs the toolkit, so everything here copes with its
// absence (find_ptxas returns nullopt) rather than failing to build.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "ptxgen/target.hpp"

namespace ptxgen {

// The architectures `ptxgen validate` and `ptxgen inspect` check by default: one per generation
// that ptxas of CUDA 13 still accepts, Turing to Blackwell.
inline constexpr std::array<Target, 7> kValidationTargets{{
    {75, false}, {80, false}, {86, false}, {89, false}, {90, false}, {100, false}, {120, false},
}};

// The ptxas to run:
//   - $PTXAS when set and not empty. A value with a '/' is a path; a bare name is looked up on
//     $PATH. If it names no executable file the result is nullopt, with no fallback: an explicit
//     choice that is wrong should be reported, not quietly replaced by another ptxas (and
//     PTXAS=/nonexistent is how to run as if the toolkit were absent).
//   - otherwise `ptxas` on $PATH;
//   - otherwise /usr/local/cuda/bin/ptxas, where the toolkit installs by default.
std::optional<std::string> find_ptxas();

struct PtxasResult {
    bool ok = false;       // ptxas ran and exited 0
    int exit_code = -1;    // ptxas's exit status; 128 + N when killed by signal N; 127 when it could not start
    std::string log;       // stdout and stderr interleaved as ptxas wrote them
    std::string ptx_path;  // the temporary file's name, which ptxas's messages mention (deleted by now)
    double seconds = 0;    // wall time of the ptxas process
};

// Writes `ptx_text` to a fresh temporary directory (mkdtemp under $TMPDIR or /tmp), runs
// `ptxas -arch=<target> [-v] -o <dir>/out.cubin <dir>/<name>.ptx` without a shell, and removes the
// files again. Safe to call from several threads at once. Never throws for ptxas's own failures
// (they are in the result); throws ptxsmith::Error only when the temporary files cannot be made.
PtxasResult run_ptxas(const std::string& ptxas, const std::string& ptx_text, const Target& target, bool verbose);

// One PTX line that a ptxas message refers to ("ptxas /tmp/x/k.ptx, line 42; error   : ...").
struct PointedLine {
    int line = 0;          // 1-based, as ptxas counts
    std::string text;      // the PTX line, or "" when the file has fewer lines
    std::string message;   // the (first) ptxas message about it, without the "ptxas FILE, line N; " prefix
};

// The lines of `ptx_text` that the messages in `log` point at, in the order first mentioned.
std::vector<PointedLine> pointed_lines(const std::string& log, const std::string& ptx_text);

// What `ptxas -v` reports for one entry function. Fields ptxas did not print stay 0.
struct PtxasUsage {
    std::string function;
    std::string arch;          // "sm_90", from "Compiling entry function 'f' for 'sm_90'"
    int registers = 0;
    int barriers = 0;
    int spill_stores = 0;      // bytes
    int spill_loads = 0;       // bytes
    int stack_frame = 0;       // bytes
    int shared_bytes = 0;      // static shared memory, bytes
    int constant_bytes = 0;    // cmem[0]: the parameter bank, bytes
};

// Parses the "ptxas info" lines of `ptxas -v` output, one entry per function, in order.
std::vector<PtxasUsage> parse_ptxas_usage(const std::string& log);

}  // namespace ptxgen
