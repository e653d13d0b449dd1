// `ptxgen inspect`: what a kernel is made of, from the IR (parameters, launch shape, instruction
// mix, virtual registers, shared memory, required target) and, when ptxas is there, what it
// costs on each architecture (physical registers, spills, stack).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "args.hpp"
#include "ptxsmith/runtime/device.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/ptxas.hpp"
#include "ptxgen/types.hpp"

namespace cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxgen inspect KERNEL [--PARAM VALUE]... [--target sm_XY] [--targets LIST]

Describes one kernel: its parameters, launch configuration, instructions by class, virtual
registers by type, static shared memory and the lowest target it needs. With ptxas available,
also the registers, spills and stack ptxas -v reports for each target.

options:
  --PARAM VALUE    a kernel parameter (also --PARAM=VALUE); unset ones take their defaults
  --target sm_XY   the architecture the generator may use for the IR shown (default sm_90)
  --targets LIST   the architectures to run ptxas -v for
  --jit            also JIT-compile the kernel with the CUDA driver for the GPU present and print
                   the driver's report (registers, spills); needs a GPU
                   (default sm_75,sm_80,sm_86,sm_89,sm_90,sm_100,sm_120)

Without ptxas the ptxas section says so and the exit code stays 0; exit code 1 when ptxas
rejects the kernel for some target.

examples:
  ptxgen inspect rmsnorm
  ptxgen inspect block_sum --cols 31 --block 32 --targets sm_80,sm_90
)";

std::string_view role_name(kernels::Role r) {
    switch (r) {
    case kernels::Role::input: return "input";
    case kernels::Role::output: return "output";
    case kernels::Role::inout: return "in/out";
    case kernels::Role::scalar: return "scalar";
    }
    return "?";
}

void print_parameters(const Chosen& c, const ptxgen::Kernel& k) {
    fmt::print("\nparameters ({})\n", c.family->info.name);
    kernels::ParamValues resolved = kernels::resolve_params(*c.family, c.overrides);
    size_t width = 10;  // the longest name sets the column
    for (const kernels::ParamSpec& p : c.family->info.params) width = std::max(width, p.name.size());
    for (const kernels::ParamSpec& p : c.family->info.params) {
        fmt::print("  --{:<{}} {:<10} {}\n", p.name, width, resolved.text(p.name),
                   c.overrides.has(p.name) ? "" : "(default)");
    }
    // The family's argument list matches the PTX parameters one for one (family.hpp); it adds
    // each buffer's role and size.
    const std::vector<kernels::ArgSpec> args = c.instance->args();
    fmt::print("\nkernel parameters (PTX)\n");
    for (size_t i = 0; i < k.params.size(); ++i) {
        const ptxgen::Param& p = k.params[i];
        std::string what = p.is_pointer ? fmt::format("pointer to {}", ptxgen::type_name(p.pointee))
                                        : fmt::format("scalar {}", ptxgen::type_name(p.type));
        std::string role;
        if (i < args.size()) {
            const kernels::ArgSpec& a = args[i];
            role = a.role == kernels::Role::scalar ? std::string(role_name(a.role))
                                                   : fmt::format("{}, {} elements", role_name(a.role), a.count);
        }
        fmt::print("  {:<8} .{:<5} {:<16} {}\n", p.name, ptxgen::type_name(ptxgen::storage_type(p.type)), what, role);
    }
}

void print_launch(const kernels::LaunchConfig& l, const ptxgen::Kernel& k) {
    fmt::print("\nlaunch\n  grid    {} x {} x {}\n  block   {} x {} x {}", l.grid[0], l.grid[1], l.grid[2], l.block[0],
               l.block[1], l.block[2]);
    if (k.reqntid[0]) fmt::print("   (.reqntid {}, {}, {})", k.reqntid[0], k.reqntid[1], k.reqntid[2]);
    if (k.maxntid[0]) fmt::print("   (.maxntid {}, {}, {})", k.maxntid[0], k.maxntid[1], k.maxntid[2]);
    fmt::print("\n  dynamic shared memory  {} bytes\n", l.shared_bytes);
    fmt::print("  static shared memory   {} bytes\n", k.static_shared_bytes());
    for (const ptxgen::VarDecl& v : k.vars) {
        if (v.space == ptxgen::Space::shared && !v.dynamic) {
            fmt::print("    {:<16} {} bytes, align {}\n", v.name, v.bytes, v.align);
        }
    }
}

void print_code(const ptxgen::Kernel& k) {
    // Labels are positions and the nounroll pragma a directive: neither is an instruction.
    std::map<ptxgen::OpClass, size_t> by_class;
    size_t total = 0;
    for (const ptxgen::Instr& in : k.code) {
        if (in.op == ptxgen::Op::label || in.op == ptxgen::Op::nounroll) continue;
        ++by_class[ptxgen::op_class(in.op)];
        ++total;
    }
    fmt::print("\ninstructions  {}\n", total);
    for (const auto& [cls, count] : by_class) fmt::print("  {:<12} {:>5}\n", ptxgen::op_class_name(cls), count);

    std::array<size_t, ptxgen::kTypeCount> by_type{};
    for (ptxgen::Type t : k.regs) ++by_type[static_cast<size_t>(t)];
    fmt::print("\nvirtual registers  {}\n", k.regs.size());
    for (int t = 0; t < ptxgen::kTypeCount; ++t) {
        if (by_type[static_cast<size_t>(t)] == 0) continue;
        const auto type = static_cast<ptxgen::Type>(t);
        fmt::print("  {:<8} %{:<4} {:>5}\n", ptxgen::type_name(type), ptxgen::register_prefix(type),
                   by_type[static_cast<size_t>(t)]);
    }
}

// One ptxas -v run per target, in parallel; returns false when ptxas rejected the kernel anywhere.
bool print_ptxas(const Chosen& c, const std::vector<ptxgen::Target>& targets) {
    std::optional<std::string> ptxas = ptxgen::find_ptxas();
    if (!ptxas) {
        fmt::print("\nptxas: not run: {}\n", missing_ptxas_reason());
        return true;
    }
    struct Row {
        std::string cells;  // the table row, or the failure
        bool ok = false;
    };
    std::vector<Row> rows(targets.size());
    fmt::print("\nptxas -v ({})\n  {:<7} {:>5} {:>9} {:>9} {:>6} {:>6} {:>6}\n", *ptxas, "target", "regs", "spill st",
               "spill ld", "stack", "smem", "time");
    bool all_ok = true;
    run_ordered(
        targets.size(), default_workers(),
        [&](size_t i) {
            Row& row = rows[i];
            try {
                std::string ptx = ptxgen::print_ptx(c.instance->build(targets[i]));
                ptxgen::PtxasResult r = ptxgen::run_ptxas(*ptxas, ptx, targets[i], true);
                std::vector<ptxgen::PtxasUsage> usage = ptxgen::parse_ptxas_usage(r.log);
                if (!r.ok || usage.empty()) {
                    std::string log = rename_module(r.log, r.ptx_path, c.instance->name() + ".ptx");
                    std::string first = log.substr(0, log.find('\n'));
                    row.cells = fmt::format("ptxas failed (exit {}): {}", r.exit_code, first);
                    return;
                }
                const ptxgen::PtxasUsage& u = usage.front();
                row.ok = true;
                row.cells = fmt::format("{:>5} {:>9} {:>9} {:>6} {:>6} {:>4} ms", u.registers, u.spill_stores,
                                        u.spill_loads, u.stack_frame, u.shared_bytes, std::lround(r.seconds * 1000));
            } catch (const std::exception& e) {
                row.cells = fmt::format("failed: {}", e.what());
            }
        },
        [&](size_t i) {
            all_ok = all_ok && rows[i].ok;
            fmt::print("  {:<7} {}\n", targets[i].str(), rows[i].cells);
        });
    return all_ok;
}

}  // namespace

int cmd_inspect(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {{"--target", true, ""}, {"--targets", true, ""}, {"--jit", false, ""}});
    if (a.positional.empty()) throw ptxsmith::Error("inspect needs a KERNEL; `ptxgen list --names` shows them");
    if (a.positional.size() > 1) throw ptxsmith::Error(fmt::format("inspect: unexpected argument '{}'", a.positional[1]));
    ptxgen::Target target{90, false};
    if (const std::string* t = a.get("--target")) target = parse_target("--target", *t);
    const std::vector<ptxgen::Target> targets = parse_targets(a.get("--targets"));

    Chosen c = choose_kernel(a.positional[0], a.params);
    const ptxgen::Kernel k = c.instance->build(target);
    fmt::print("kernel    {}\nfamily    {}: {}\n", k.name, c.family->info.name, c.family->info.summary);
    fmt::print("target    built for {}; needs {}\n", target.str(), ptxgen::module_requirement(k).str());
    // How the family chose its variant for this shape (family.hpp: notes), when it says.
    if (const std::string notes = c.instance->notes(); !notes.empty()) fmt::print("choice:   {}\n", notes);
    print_parameters(c, k);
    print_launch(c.instance->launch_config(), k);
    print_code(k);
    const bool ptxas_ok = print_ptxas(c, targets);
    if (a.has("--jit")) {
        // The driver's JIT for the GPU present, with its own report.
        auto dev = ptxsmith::runtime::open_device(ptxsmith::runtime::DeviceKind::cuda);
        fmt::print("\nJIT on {} (sm_{}{}), driver's info log:\n{}\n", dev->info().name, dev->info().cc_major, dev->info().cc_minor,
                   dev->jit_info_log(c.instance->build(dev->info().target())));
    }
    return ptxas_ok ? kExitOk : kExitFailed;
}

}  // namespace cli
