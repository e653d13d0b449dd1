// `ptxgen validate`: assembles kernels with ptxas for each target. ptxas is the authority on what
// is valid PTX; the verifier catches much earlier, but only ptxas catches what the verifier's
// model of PTX gets wrong. Runs are independent, so they go in parallel; the report is in job
// order so that two runs of the same command print the same lines.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/ptxas.hpp"

namespace cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxgen validate [KERNEL [--PARAM VALUE]... | --all] [--targets LIST] [-j N]

Builds each kernel for each target and assembles it with ptxas (-arch=TARGET). Prints one line per
kernel and target, and for a failure ptxas's messages with the PTX lines they point at.

  KERNEL           one family (`ptxgen list --names`), at its defaults or the given --PARAMs
  --all            every family at its defaults and at each of its test shapes (the default
                   when no KERNEL is given)
  --targets LIST   comma-separated architectures (default sm_75,sm_80,sm_86,sm_89,sm_90,sm_100,sm_120)
  -j, --jobs N     ptxas processes at once (default: the number of hardware threads)

ptxas is $PTXAS, else `ptxas` on PATH, else /usr/local/cuda/bin/ptxas.
Exit code 0 when everything passed, 1 when anything failed, 2 for a bad command line,
3 when ptxas cannot be found.

examples:
  ptxgen validate --all
  ptxgen validate rmsnorm --k 257 --block 64 --targets sm_80,sm_90
  PTXAS=$HOME/cuda-12.8/bin/ptxas ptxgen validate --all -j 4
)";

// One kernel to validate: an instance, or the error that stopped it from being made (a test
// shape that the family itself rejects is a bug to report, not a usage error).
struct Item {
    std::string label;  // the kernel name, or "family (test shape N)" when it could not be made
    std::string reproduce;
    std::shared_ptr<kernels::KernelInstance> instance;
    std::string error;
};

struct Outcome {
    bool ok = false;
    std::string summary;              // "(ptxas 45 ms)" / "(ptxas exit 255, 45 ms)"
    std::vector<std::string> details;  // indented lines under the result line
};

Item make_item(const kernels::Family& f, const kernels::ParamValues& overrides, const std::string& label) {
    Item it;
    try {
        Chosen c = choose_kernel(f.info.name, overrides);
        it.label = c.instance->name();
        it.reproduce = command_for("emit", c);
        it.instance = std::move(c.instance);
    } catch (const std::exception& e) {
        it.label = label;
        it.error = e.what();
    }
    return it;
}

std::vector<Item> all_items() {
    std::vector<Item> items;
    for (const kernels::Family& f : kernels::registry()) {
        items.push_back(make_item(f, {}, f.info.name + " (defaults)"));
        for (size_t s = 0; s < f.info.test_shapes.size(); ++s) {
            Item it = make_item(f, f.info.test_shapes[s], fmt::format("{} (test shape {})", f.info.name, s + 1));
            // A test shape that happens to equal the defaults (or another shape) is checked once.
            bool dup = false;
            for (const Item& o : items) dup = dup || (it.error.empty() && o.error.empty() && o.label == it.label);
            if (!dup) items.push_back(std::move(it));
        }
    }
    return items;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (!l.empty()) out.push_back(l);
    }
    return out;
}

Outcome validate_one(const std::string& ptxas, const Item& item, const ptxgen::Target& target) {
    Outcome o;
    if (!item.instance) {
        o.summary = "(could not be made)";
        o.details.push_back(item.error);
        return o;
    }
    std::string ptx;
    try {
        ptx = ptxgen::print_ptx(item.instance->build(target));
    } catch (const std::exception& e) {
        o.summary = "(the builder failed)";
        o.details = lines_of(e.what());
        return o;
    }
    ptxgen::PtxasResult r;
    try {
        r = ptxgen::run_ptxas(ptxas, ptx, target, false);
    } catch (const std::exception& e) {
        o.summary = "(ptxas did not run)";
        o.details = lines_of(e.what());
        return o;
    }
    const long ms = std::lround(r.seconds * 1000);
    o.ok = r.ok;
    o.summary = r.ok ? fmt::format("(ptxas {} ms)", ms) : fmt::format("(ptxas exit {}, {} ms)", r.exit_code, ms);
    // The temporary file is gone; name the module after the kernel in ptxas's messages instead.
    const std::string shown = item.label + ".ptx";
    const std::string log = rename_module(r.log, r.ptx_path, shown);
    o.details = lines_of(log);  // warnings of a successful run are shown too
    if (!r.ok) {
        for (const ptxgen::PointedLine& p : ptxgen::pointed_lines(r.log, ptx)) {
            o.details.push_back(fmt::format("line {:>5} | {}", p.line, p.text));
        }
        o.details.push_back(fmt::format("reproduce: {} --target {} -o {} && ptxas -arch={} {}", item.reproduce,
                                        target.str(), shown, target.str(), shown));
    }
    return o;
}

}  // namespace

int cmd_validate(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {{"--all", false, ""}, {"--targets", true, ""}, {"-j", true, "--jobs"}});
    if (a.positional.size() > 1) throw ptxsmith::Error(fmt::format("validate: unexpected argument '{}'", a.positional[1]));
    const bool all = a.has("--all") || a.positional.empty();
    if (a.has("--all") && !a.positional.empty()) throw ptxsmith::Error("validate: give a KERNEL or --all, not both");
    if (all && !a.params.all().empty()) {
        throw ptxsmith::Error(fmt::format("validate: --{} needs a KERNEL (parameters apply to one family)",
                                          a.params.all().begin()->first));
    }
    const std::vector<ptxgen::Target> targets = parse_targets(a.get("--targets"));
    unsigned workers = default_workers();
    if (const std::string* j = a.get("-j")) {
        char* end = nullptr;
        long n = std::strtol(j->c_str(), &end, 10);
        if (end == j->c_str() || *end != '\0' || n < 1 || n > 1024) {
            throw ptxsmith::Error(fmt::format("--jobs: '{}' is not a number from 1 to 1024", *j));
        }
        workers = static_cast<unsigned>(n);
    }

    std::vector<Item> items;
    if (all) {
        items = all_items();
    } else {
        // A bad KERNEL or --PARAM is a usage error (exit 2), reported before looking for ptxas.
        Chosen c = choose_kernel(a.positional[0], a.params);
        Item it;
        it.label = c.instance->name();
        it.reproduce = command_for("emit", c);
        it.instance = std::move(c.instance);
        items.push_back(std::move(it));
    }

    std::optional<std::string> ptxas = require_ptxas();
    if (!ptxas) return kExitNoPtxas;

    size_t width = 0;
    for (const Item& it : items) width = std::max(width, it.label.size());
    size_t target_width = 0;
    for (const ptxgen::Target& t : targets) target_width = std::max(target_width, t.str().size());
    const size_t n = items.size() * targets.size();
    std::vector<Outcome> outcomes(n);
    size_t passed = 0;
    const auto start = std::chrono::steady_clock::now();
    run_ordered(
        n, workers,
        [&](size_t i) { outcomes[i] = validate_one(*ptxas, items[i / targets.size()], targets[i % targets.size()]); },
        [&](size_t i) {
            const Outcome& o = outcomes[i];
            passed += o.ok ? 1 : 0;
            fmt::print("{:<4}  {:<{}}  {:<{}}  {}\n", o.ok ? "ok" : "FAIL", items[i / targets.size()].label, width,
                       targets[i % targets.size()].str(), target_width, o.summary);
            for (const std::string& d : o.details) fmt::print("      {}\n", d);
            std::fflush(stdout);  // progress is visible while the rest still runs
        });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{} passed, {} failed ({} kernels x {} targets with {}, {:.1f} s)\n", passed, n - passed, items.size(),
               targets.size(), *ptxas, seconds);
    return passed == n ? kExitOk : kExitFailed;
}

}  // namespace cli
