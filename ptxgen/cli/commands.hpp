// The subcommands. Each takes the arguments after its name and returns the process exit code
// (see common.hpp); usage errors are thrown as ptxsmith::Error and reported by main.
#pragma once

#include <string>
#include <vector>

namespace cli {

using Args = std::vector<std::string>;

int cmd_list(const Args& args);
int cmd_emit(const Args& args);
int cmd_validate(const Args& args);
int cmd_inspect(const Args& args);
int cmd_run(const Args& args);
int cmd_bench(const Args& args);
int cmd_devices(const Args& args);
int cmd_cache(const Args& args);

}  // namespace cli
