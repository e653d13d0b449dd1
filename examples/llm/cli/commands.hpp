// The subcommands of `ptxsmith-llm`. Each takes the arguments after its name and returns the
// process exit code: 0 success, 1 failure (bad file, unsupported model, ...), 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace llm::cli {

using Args = std::vector<std::string>;

int cmd_make_model(const Args& args);  // cmd_make_model.cpp
int cmd_info(const Args& args);        // cmd_info.cpp
int cmd_generate(const Args& args);    // cmd_generate.cpp
int cmd_bench(const Args& args);       // cmd_bench.cpp

// A usage error: main prints it with the command's --help hint and exits with 2.
struct UsageError {
    std::string message;
};

}  // namespace llm::cli
