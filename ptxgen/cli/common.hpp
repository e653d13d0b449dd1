// What several subcommands share: exit codes, choosing a kernel and targets from the command
// line, finding ptxas, and running work on all cores while printing results in a fixed order.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/registry.hpp"
#include "ptxgen/target.hpp"

namespace cli {

// Exit codes, documented in `ptxgen --help`; scripts tell "ptxas missing" from "PTX rejected".
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;    // validation failed (ptxas rejected something)
inline constexpr int kExitUsage = 2;     // bad command line or impossible kernel shape
inline constexpr int kExitNoPtxas = 3;   // ptxas was needed and not found

// A kernel chosen on the command line, with the overrides that chose it (to print a command
// that reproduces it).
struct Chosen {
    const kernels::Family* family = nullptr;
    kernels::ParamValues overrides;
    std::unique_ptr<kernels::KernelInstance> instance;
};

// Throws ptxsmith::Error for an unknown family, parameter or value.
Chosen choose_kernel(const std::string& family, const kernels::ParamValues& overrides);

// "emit rmsnorm --k 1000" as the user would type it.
std::string command_for(const std::string& subcommand, const Chosen& c);

// Target::parse, with the option's name in the error ("--target: ...").
ptxgen::Target parse_target(const std::string& option, const std::string& text);
// A comma-separated list ("sm_80,sm_90a"); ptxgen::kValidationTargets when `text` is null.
std::vector<ptxgen::Target> parse_targets(const std::string* text);

// The ptxas to use, or nullopt after printing to stderr why there is none and how to get one.
std::optional<std::string> require_ptxas();
// Why there is no ptxas, in one line (for commands that carry on without it).
std::string missing_ptxas_reason();

// ptxas's log with the (by now deleted) temporary file's name replaced by `shown`.
std::string rename_module(std::string log, const std::string& temp_path, const std::string& shown);

// Runs work(i) for i in [0, n) on up to `workers` threads; calls report(i) in order 0, 1, ...,
// each as soon as work(0..i) are done, one at a time. work must not throw.
void run_ordered(size_t n, unsigned workers, const std::function<void(size_t)>& work,
                 const std::function<void(size_t)>& report);

// std::thread::hardware_concurrency(), at least 1.
unsigned default_workers();

}  // namespace cli
