// ptxsmith-llm: make synthetic GGUF models, describe GGUF files, generate text.
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "ptxgen/error.hpp"

namespace {

constexpr const char* kUsage = R"(usage: ptxsmith-llm COMMAND [OPTIONS]

Runs Llama-family GGUF models on ptxsmith's generated kernels (or the CPU reference).

commands:
  make-model   write a GGUF model with random weights (presets tiny, 1b, 8b)
  info         describe a GGUF file: architecture, hyper-parameters, tokenizer, tensors
  generate     generate text from a prompt
  bench        measure prompt processing and generation speed, with the bandwidth bound

Run `ptxsmith-llm COMMAND --help` for a command's options.
)";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    const llm::cli::Args args(argv + 2, argv + argc);
    try {
        if (command == "make-model") return llm::cli::cmd_make_model(args);
        if (command == "info") return llm::cli::cmd_info(args);
        if (command == "generate") return llm::cli::cmd_generate(args);
        if (command == "bench") return llm::cli::cmd_bench(args);
        fmt::print(stderr, "ptxsmith-llm: unknown command '{}'\n\n{}", command, kUsage);
        return 2;
    } catch (const llm::cli::UsageError& e) {
        fmt::print(stderr, "ptxsmith-llm {}: {}\n(see ptxsmith-llm {} --help)\n", command, e.message, command);
        return 2;
    } catch (const ptxsmith::Error& e) {
        fmt::print(stderr, "ptxsmith-llm {}: error: {}\n", command, e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "ptxsmith-llm {}: error: {}\n", command, e.what());
        return 1;
    }
}
