// Command-line parsing shared by the subcommands. Each subcommand names the options it knows;
// any other `--name VALUE` (or `--name=VALUE`) is a kernel parameter, checked later against the
// family's parameter list, so families can add parameters without touching the CLI.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kernels/family.hpp"

namespace cli {

struct OptionSpec {
    std::string name;      // "--target", "-o"
    bool takes_value = true;
    std::string alias;     // another spelling of the same option ("--output" for "-o"), or ""
};

struct ParsedArgs {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // by OptionSpec::name; "" for flags
    kernels::ParamValues params;                  // every --name VALUE not in the known options

    bool has(const std::string& name) const { return options.count(name) != 0; }
    const std::string* get(const std::string& name) const {
        auto it = options.find(name);
        return it == options.end() ? nullptr : &it->second;
    }
};

// Throws ptxsmith::Error (a usage error) for an unknown single-dash option or a missing value.
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& known);

// True when -h or --help is among the arguments: help wins over every other argument, right or wrong.
bool wants_help(const std::vector<std::string>& args);

}  // namespace cli
