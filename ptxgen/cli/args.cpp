#include "args.hpp"

#include <fmt/format.h>

#include <cctype>
#include <optional>

#include "ptxgen/error.hpp"

namespace cli {

namespace {

const OptionSpec* find_option(const std::vector<OptionSpec>& known, const std::string& name) {
    for (const OptionSpec& o : known) {
        if (o.name == name || (!o.alias.empty() && o.alias == name)) return &o;
    }
    return nullptr;
}

// A value must not look like an option: `--k --target sm_90` is a forgotten value, not k = "--target".
// A single dash followed by a digit is a negative number, which is a value.
bool looks_like_option(const std::string& s) {
    if (s.rfind("--", 0) == 0) return true;
    return s.size() >= 2 && s[0] == '-' && !(std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
}

}  // namespace

bool wants_help(const std::vector<std::string>& args) {
    for (const std::string& a : args) {
        if (a == "-h" || a == "--help") return true;
    }
    return false;
}

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& known) {
    ParsedArgs out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (!looks_like_option(a)) {
            out.positional.push_back(a);
            continue;
        }
        std::string name = a;
        std::optional<std::string> value;
        if (size_t eq = a.find('='); eq != std::string::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
        }
        const OptionSpec* spec = find_option(known, name);
        if (!spec && name.rfind("--", 0) != 0) throw ptxsmith::Error(fmt::format("unknown option {}", name));
        if (spec && !spec->takes_value) {
            if (value) throw ptxsmith::Error(fmt::format("option {} takes no value", name));
            out.options[spec->name] = "";
            continue;
        }
        if (!value) {
            if (i + 1 >= args.size() || looks_like_option(args[i + 1])) {
                throw ptxsmith::Error(fmt::format("{} needs a value", name));
            }
            value = args[++i];
        }
        if (spec) {
            out.options[spec->name] = *value;
        } else {
            if (name.size() <= 2) throw ptxsmith::Error(fmt::format("'{}' is not an option or parameter", a));
            out.params.set(name.substr(2), *value);
        }
    }
    return out;
}

}  // namespace cli
