// `ptxgen emit`: one kernel's PTX, to stdout or a file.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <fstream>

#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"

namespace cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxgen emit KERNEL [--PARAM VALUE]... [--target sm_XY] [--ptx-version X.Y]
                   [--debug-locations] [-o FILE]

Builds KERNEL (a family from `ptxgen list`) at the given parameters and prints its PTX.

options:
  --PARAM VALUE      a kernel parameter (also --PARAM=VALUE); unset ones take their defaults
  --target sm_XY     the architecture the generator may use (default sm_90; also sm_90a, 90, 9.0).
                     The module's .target is the lowest architecture the kernel needs, which
                     may be older.
  --ptx-version X.Y  the .version to print (default: the lowest the kernel and .target need)
  --debug-locations  a comment per instruction naming the builder call's file:line
  -o, --output FILE  write to FILE instead of stdout

examples:
  ptxgen emit saxpy
  ptxgen emit rmsnorm --rows 8 --k 1000 --block 128 --target sm_80 -o rmsnorm.ptx
  ptxgen emit block_sum --cols=31 --block=32 --debug-locations
)";

ptxgen::PtxVersion parse_ptx_version(const std::string& text) {
    size_t dot = text.find('.');
    auto digits = [](const std::string& s) {
        return !s.empty() && s.size() <= 2 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
    };
    if (dot == std::string::npos || !digits(text.substr(0, dot)) || !digits(text.substr(dot + 1))) {
        throw ptxsmith::Error(fmt::format("--ptx-version: '{}' is not a PTX ISA version; write it as 8.0", text));
    }
    return ptxgen::PtxVersion{std::stoi(text.substr(0, dot)), std::stoi(text.substr(dot + 1))};
}

}  // namespace

int cmd_emit(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {{"--target", true, ""},
                                     {"--ptx-version", true, ""},
                                     {"--debug-locations", false, ""},
                                     {"-o", true, "--output"}});
    if (a.positional.empty()) throw ptxsmith::Error("emit needs a KERNEL; `ptxgen list --names` shows them");
    if (a.positional.size() > 1) throw ptxsmith::Error(fmt::format("emit: unexpected argument '{}'", a.positional[1]));

    ptxgen::Target target{90, false};
    if (const std::string* t = a.get("--target")) target = parse_target("--target", *t);
    ptxgen::PrintOptions options;
    options.debug_locations = a.has("--debug-locations");
    if (const std::string* v = a.get("--ptx-version")) options.version = parse_ptx_version(*v);

    Chosen c = choose_kernel(a.positional[0], a.params);
    ptxgen::Kernel k = c.instance->build(target);
    if (options.version) {
        // The printer takes an explicit version as given; a lower one than the kernel needs would
        // only be rejected later, by ptxas, with a less helpful message.
        ptxgen::Requirement need = ptxgen::module_requirement(k);
        ptxgen::PtxVersion least = std::max(need.ptx, ptxgen::min_ptx_for(ptxgen::Target{need.sm, need.arch_specific}));
        if (*options.version < least) {
            throw ptxsmith::Error(fmt::format("--ptx-version {} is too old: kernel {} needs PTX {} ({})",
                                              options.version->str(), k.name, least.str(), need.str()));
        }
    }
    std::string text = ptxgen::print_ptx(k, options);

    if (const std::string* file = a.get("-o"); file && *file != "-") {
        std::ofstream out(*file, std::ios::binary);
        out << text;
        if (!out.flush()) throw ptxsmith::Error(fmt::format("cannot write {}: {}", *file, std::strerror(errno)));
    } else {
        std::fwrite(text.data(), 1, text.size(), stdout);
        if (std::fflush(stdout) != 0) throw ptxsmith::Error("cannot write the PTX to stdout");
    }
    return kExitOk;
}

}  // namespace cli
