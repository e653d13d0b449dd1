// `ptxgen list`: what the registry holds, with each parameter's kind, default and allowed values,
// so that a user can write an emit/validate/inspect command without reading the sources.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"

namespace cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxgen list [--names]

Lists every kernel family: a summary and its parameters (kind, default, allowed values).

options:
  --names    only the family names, one per line (for scripts)

examples:
  ptxgen list
  for k in $(ptxgen list --names); do ptxgen emit $k -o $k.ptx; done
)";

std::string_view kind_name(kernels::ParamKind k) {
    switch (k) {
    case kernels::ParamKind::integer: return "integer";
    case kernels::ParamKind::real: return "real";
    case kernels::ParamKind::choice: return "choice";
    }
    return "?";
}

std::string allowed(const kernels::ParamSpec& p) {
    switch (p.kind) {
    case kernels::ParamKind::integer:
        return fmt::format("{}..{}", static_cast<int64_t>(p.min), static_cast<int64_t>(p.max));
    case kernels::ParamKind::real: return fmt::format("{:g}..{:g}", p.min, p.max);
    case kernels::ParamKind::choice: return fmt::format("{}", fmt::join(p.choices, "|"));
    }
    return "";
}

}  // namespace

int cmd_list(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {{"--names", false, ""}});
    if (!a.positional.empty()) throw ptxsmith::Error(fmt::format("list: unexpected argument '{}'", a.positional[0]));
    if (!a.params.all().empty()) {
        throw ptxsmith::Error(fmt::format("list: unknown option --{}", a.params.all().begin()->first));
    }

    if (a.has("--names")) {
        for (const kernels::Family& f : kernels::registry()) fmt::print("{}\n", f.info.name);
        return kExitOk;
    }
    bool first = true;
    for (const kernels::Family& f : kernels::registry()) {
        const kernels::FamilyInfo& info = f.info;
        fmt::print("{}{}\n  {}\n", first ? "" : "\n", info.name, info.summary);
        first = false;
        size_t name_w = 0, default_w = 0, allowed_w = 0;
        for (const kernels::ParamSpec& p : info.params) {
            name_w = std::max(name_w, p.name.size() + 2);
            default_w = std::max(default_w, p.default_value.size());
            allowed_w = std::max(allowed_w, allowed(p).size());
        }
        for (const kernels::ParamSpec& p : info.params) {
            fmt::print("    {:<{}}  {:<7}  default {:<{}}  {:<{}}  {}\n", "--" + p.name, name_w, kind_name(p.kind),
                       p.default_value, default_w, allowed(p), allowed_w, p.help);
        }
        if (!info.test_shapes.empty()) fmt::print("  {} test shapes besides the defaults\n", info.test_shapes.size());
    }
    return kExitOk;
}

}  // namespace cli
