// `ptxgen`: lists, emits, validates (with NVIDIA's ptxas) and inspects the kernels of the
// registry. main only dispatches and turns every error into one line and an exit code: a user
// should never see a crash or an uncaught-exception abort for a bad command line.
#include <fmt/format.h>

#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"

namespace {

constexpr const char* kHelp = R"(usage: ptxgen COMMAND [ARGS...]

Generates the PTX of ptxsmith's kernels and checks it with NVIDIA's ptxas.

commands:
  list       the kernel families, their parameters, defaults and ranges
  emit       print one kernel's PTX
  validate   assemble kernels with ptxas for several GPU architectures
  inspect    a kernel's parameters, launch shape, instruction mix and ptxas resource use
  run        run a kernel on a GPU or the CPU interpreter and compare it with its CPU reference
  bench      time a kernel on a GPU against the copy bandwidth measured in the same run
  devices    the devices kernels can run on
  cache      the module cache of compiled kernels on disk: stats, clear, path
  help CMD   the help of one command (same as `ptxgen CMD --help`)

Kernel parameters are given as --NAME VALUE or --NAME=VALUE; `ptxgen list` shows them.

environment:
  PTXAS      the ptxas to run (a path, or a name looked up on PATH). When unset, ptxgen uses
             `ptxas` on PATH, then /usr/local/cuda/bin/ptxas. When set to something that is not
             an executable, ptxgen runs as if there were no ptxas (no fallback).
  TMPDIR     where ptxas's input and output files are written (default /tmp)

exit codes:
  0  success        1  validation or run failed  2  bad command line or kernel shape
  3  ptxas needed but not found

examples:
  ptxgen list
  ptxgen emit rmsnorm --k 1000 --block 128 -o rmsnorm.ptx
  ptxgen validate --all
  ptxgen inspect block_sum --cols 31 --block 32
  ptxgen run rmsnorm --k 1000 --block 128 --seed 7
  ptxgen bench rmsnorm --k 4096
)";

// ptxas and builder messages can span lines; the contract is one line per error.
std::string one_line(std::string s) {
    for (char& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

int dispatch(const std::vector<std::string>& args) {
    if (args.empty()) throw ptxsmith::Error("no command given; try 'ptxgen --help'");
    const std::string& command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "-h" || command == "--help") {
        fmt::print("{}", kHelp);
        return cli::kExitOk;
    }
    if (command == "help") {
        if (rest.empty()) {
            fmt::print("{}", kHelp);
            return cli::kExitOk;
        }
        return dispatch({rest[0], "--help"});
    }
    if (command == "list") return cli::cmd_list(rest);
    if (command == "emit") return cli::cmd_emit(rest);
    if (command == "validate") return cli::cmd_validate(rest);
    if (command == "inspect") return cli::cmd_inspect(rest);
    if (command == "run") return cli::cmd_run(rest);
    if (command == "bench") return cli::cmd_bench(rest);
    if (command == "devices") return cli::cmd_devices(rest);
    if (command == "cache") return cli::cmd_cache(rest);
    throw ptxsmith::Error(fmt::format("unknown command '{}'; commands: list, emit, validate, inspect, run, bench, devices, cache, help", command));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return dispatch(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const ptxsmith::Error& e) {
        fmt::print(stderr, "ptxgen: error: {}\n", one_line(e.what()));
        return cli::kExitUsage;
    } catch (const std::exception& e) {
        // Not a usage error but a bug or a resource failure (bad_alloc, a thread that would not
        // start); still one line and a code, not an abort.
        fmt::print(stderr, "ptxgen: error: internal error: {}\n", one_line(e.what()));
        return cli::kExitUsage;
    }
}
