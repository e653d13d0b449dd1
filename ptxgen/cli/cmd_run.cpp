// `ptxgen run`: runs a kernel on the CPU interpreter against its CPU reference, or runs
// hand-written PTX of the subset ptxgen prints.
#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "kernels/check.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/reader.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxgen run KERNEL [--PARAM VALUE]... [--device auto|cuda|interp] [--seed N] [--target sm_XY]
                  [--check-races] [--check-uninitialized] [--threads N]
       ptxgen run FILE.ptx --kernel NAME --as FAMILY [--PARAM VALUE]... [options as above]

Fills the kernel's inputs with random data from the seed, poisons its outputs, runs it, and
compares the outputs with the family's CPU reference. Prints the largest absolute error, the
largest error relative to the output's magnitude, the tolerance, and PASS or FAIL.

With FILE.ptx, the PTX in the file (the subset ptxgen prints, possibly edited by hand) is run
in place of the generated kernel: --kernel names its .entry and --as the family whose shape,
launch and reference it is checked against.

options:
  --PARAM VALUE        a kernel parameter (also --PARAM=VALUE); unset ones take their defaults
  --device D           where to run: cuda (the first GPU), interp (the CPU interpreter) or auto
                       (default: CUDA when a driver and a GPU are present, else the interpreter)
  --seed N             random seed for the inputs (default 1)
  --target sm_XY       the architecture the generator may use (default: the device's)
  --check-races        interpreter: report shared-memory races (two threads, one writing, no
                       barrier between)
  --check-uninitialized  interpreter: report reads of shared memory that nothing wrote
  --threads N          interpreter: host threads running CTAs (default: one per core)

exit codes: 0 PASS, 1 FAIL (wrong results or a fault such as an out-of-bounds access),
            2 bad command line or kernel shape

examples:
  ptxgen run rmsnorm --k 1000 --block 128
  ptxgen run block_sum --rows 3 --cols 31 --block 32 --seed 7 --check-races
  ptxgen emit saxpy --n 1000 -o s.ptx && ptxgen run s.ptx --kernel saxpy_n1000_b256 --as saxpy --n 1000
)";

// A kernel instance whose code comes from a PTX file instead of the family's generator.
class FromPtx final : public kernels::KernelInstance {
public:
    FromPtx(std::unique_ptr<kernels::KernelInstance> family, ptxgen::Kernel k) : family_(std::move(family)), k_(std::move(k)) {}
    std::string name() const override { return k_.name; }
    ptxgen::Kernel build(const ptxgen::Target&) const override { return k_; }
    kernels::LaunchConfig launch_config() const override { return family_->launch_config(); }
    std::vector<kernels::ArgSpec> args() const override { return family_->args(); }
    void reference(std::vector<kernels::HostBuffer>& a) const override { family_->reference(a); }
    double tolerance() const override { return family_->tolerance(); }
    void prepare_inputs(std::vector<kernels::HostBuffer>& a, uint64_t seed) const override { family_->prepare_inputs(a, seed); }
    std::string notes() const override { return family_->notes(); }
    std::vector<kernels::Companion> companions() const override { return family_->companions(); }

private:
    std::unique_ptr<kernels::KernelInstance> family_;
    ptxgen::Kernel k_;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ptxsmith::Error(fmt::format("cannot read {}", path));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

uint64_t parse_count(const std::string& option, const std::string& text) {
    try {
        size_t used = 0;
        const unsigned long long v = std::stoull(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw ptxsmith::Error(fmt::format("{}: '{}' is not a non-negative integer", option, text));
}

bool is_ptx_file(const std::string& s) { return s.size() > 4 && s.compare(s.size() - 4, 4, ".ptx") == 0; }

}  // namespace

int cmd_run(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {{"--device", true, ""},
                                     {"--seed", true, ""},
                                     {"--target", true, ""},
                                     {"--kernel", true, ""},
                                     {"--as", true, ""},
                                     {"--threads", true, ""},
                                     {"--check-races", false, ""},
                                     {"--check-uninitialized", false, ""}});
    if (a.positional.empty()) throw ptxsmith::Error("run needs a KERNEL or a FILE.ptx; `ptxgen list --names` shows the kernels");
    if (a.positional.size() > 1) throw ptxsmith::Error(fmt::format("run: unexpected argument '{}'", a.positional[1]));
    const ptxsmith::runtime::DeviceKind kind =
        a.get("--device") ? ptxsmith::runtime::parse_device_kind(*a.get("--device")) : ptxsmith::runtime::DeviceKind::automatic;
    const uint64_t seed = a.get("--seed") ? parse_count("--seed", *a.get("--seed")) : 1;
    std::optional<ptxgen::Target> target;
    if (const std::string* t = a.get("--target")) target = parse_target("--target", *t);
    ptxgen::interp::Options options;
    options.check_shared_races = a.has("--check-races");
    options.check_uninitialized_shared = a.has("--check-uninitialized");
    if (const std::string* t = a.get("--threads")) options.threads = static_cast<unsigned>(parse_count("--threads", *t));

    std::unique_ptr<kernels::KernelInstance> instance;
    std::string label;
    if (is_ptx_file(a.positional[0])) {
        const std::string& file = a.positional[0];
        const std::string* name = a.get("--kernel");
        const std::string* family = a.get("--as");
        if (!name || !family) {
            throw ptxsmith::Error("running a PTX file needs --kernel NAME (its .entry) and --as FAMILY (whose reference checks it)");
        }
        Chosen c = choose_kernel(*family, a.params);
        ptxgen::Kernel k = ptxgen::read_ptx_kernel(read_file(file), *name, file);
        instance = std::make_unique<FromPtx>(std::move(c.instance), std::move(k));
        label = fmt::format("{} ({}, checked as {})", *name, file, *family);
    } else {
        if (a.has("--kernel") || a.has("--as")) throw ptxsmith::Error("--kernel and --as go with a FILE.ptx");
        Chosen c = choose_kernel(a.positional[0], a.params);
        label = c.instance->name();
        instance = std::move(c.instance);
    }

    std::unique_ptr<ptxsmith::runtime::Device> dev = kind == ptxsmith::runtime::DeviceKind::interp ? ptxsmith::runtime::open_interp_device(options)
                                                                                        : ptxsmith::runtime::open_device(kind);
    fmt::print("kernel     {}\ndevice     {}, seed {}\n", label, dev->info().name, seed);
    kernels::CheckResult r;
    try {
        r = kernels::check_on_device(*dev, *instance, seed, target);
    } catch (const ptxsmith::Error& e) {
        fmt::print("FAIL       {}\n", e.what());
        return kExitFailed;
    }
    const kernels::Comparison& c = r.comparison;
    if (r.thread_instructions) {
        fmt::print("ran        {} thread-instructions in {:.3f} s ({:.0f} M/s)\n", r.thread_instructions, r.seconds,
                   static_cast<double>(r.thread_instructions) / r.seconds / 1e6);
    } else {
        fmt::print("ran        in {:.3f} s, compilation included\n", r.seconds);
    }
    fmt::print("compared   {} output elements\n", c.elements);
    fmt::print("max abs    {:.3e}   ({})\n", c.max_abs_error, c.worst);
    fmt::print("max rel    {:.3e}   (error over the largest reference magnitude)\n", c.max_rel_error);
    fmt::print("tolerance  {:.3e}\n", c.tolerance);
    fmt::print("{}\n", c.pass ? "PASS" : "FAIL");
    return c.pass ? kExitOk : kExitFailed;
}

}  // namespace cli
