// `ptxsmith-llm make-model` and `ptxsmith-llm info` as a user runs them: output, files, exit codes.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "../run_command.hpp"
#include "gguf/gguf.hpp"

#ifdef PTXSMITH_LLM_CLI

namespace fs = std::filesystem;

namespace {

const std::string kCli = PTXSMITH_LLM_CLI;

struct WorkDir {
    fs::path path = fs::path(PTXSMITH_BINARY_DIR) / fmt::format("maker_cli_{}", ::getpid());
    WorkDir() { fs::create_directories(path); }
    ~WorkDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return "'" + (path / name).string() + "'"; }
};

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("make-model writes the model it reports, and info describes it") {
    const WorkDir dir;
    const CommandOutput made = run_command(kCli + " make-model --preset tiny --quant q6_k --seed 12 -o " + dir.file("t.gguf"));
    INFO(made.text);
    REQUIRE(made.status == 0);
    CHECK(contains(made.text, "preset tiny, mix q6_k, seed 12: 21 tensors, 1.84 M parameters"));
    const auto r = llm::gguf::Reader::open((dir.path / "t.gguf").string());
    CHECK(r.get<uint64_t>("ptxsmith.maker.seed") == 12);
    CHECK(r.find_tensor("blk.0.attn_q.weight")->type == kernels::quant::GgmlType::q6_k);

    const CommandOutput info = run_command(kCli + " info " + dir.file("t.gguf"));
    INFO(info.text);
    CHECK(info.status == 0);
    CHECK(contains(info.text, "file type     18 (Q6_K)"));
    CHECK(contains(info.text, "architecture  llama (rope normal, no Q/K/V biases)"));
    CHECK(contains(info.text, "layers        2\n"));
    CHECK(contains(info.text, "heads         4 of width 64; 2 key/value heads of width 64 (group of 2)"));
    CHECK(contains(info.text, "vocabulary    512\n"));
    CHECK(contains(info.text, "output        output.weight"));
    CHECK(contains(info.text, "tokenizer     gpt2, pre llama-bpe, 512 tokens, 253 merges"));
    CHECK(contains(info.text, "bos         509 <|begin_of_text|>"));
    CHECK(contains(info.text, "blk.1.ffn_down.weight     q6_K   768 x 256"));
    CHECK(contains(info.text, "21 tensors, 1.84 M parameters"));
    CHECK_FALSE(contains(info.text, "metadata ("));

    const CommandOutput meta = run_command(kCli + " info --metadata " + dir.file("t.gguf"));
    CHECK(meta.status == 0);
    CHECK(contains(meta.text, "llama.attention.layer_norm_rms_epsilon       f32    1e-05"));
    CHECK(contains(meta.text, "tokenizer.ggml.tokens                        array  [512 x string]"));
}

TEST_CASE("info and make-model: bad files exit 1 with one line, bad usage exits 2") {
    const WorkDir dir;
    const CommandOutput missing = run_command(kCli + " info " + dir.file("nothing.gguf"));
    CHECK(missing.status == 1);
    CHECK(contains(missing.text, "nothing.gguf: cannot open"));
    CHECK(std::count(missing.text.begin(), missing.text.end(), '\n') == 1);

    std::ofstream((dir.path / "text.gguf").string()) << "not a model\n";
    const CommandOutput text = run_command(kCli + " info " + dir.file("text.gguf"));
    CHECK(text.status == 1);
    CHECK(contains(text.text, "expected \"GGUF\""));
    CHECK(std::count(text.text.begin(), text.text.end(), '\n') == 1);

    CHECK(run_command(kCli + " info").status == 2);
    CHECK(run_command(kCli + " info --bogus x").status == 2);
    CHECK(run_command(kCli + " info --help").status == 0);
    CHECK(run_command(kCli + " make-model --help").status == 0);
    CHECK(run_command(kCli + " make-model -o " + dir.file("x.gguf")).status == 2);             // no preset
    CHECK(run_command(kCli + " make-model --preset tiny").status == 2);                         // no output
    CHECK(run_command(kCli + " make-model --preset 3b -o " + dir.file("x.gguf")).status == 2);
    CHECK(run_command(kCli + " make-model --preset tiny --quant q5_k -o " + dir.file("x.gguf")).status == 2);
    CHECK(run_command(kCli + " make-model --preset tiny --seed x -o " + dir.file("x.gguf")).status == 2);
    CHECK_FALSE(fs::exists(dir.path / "x.gguf"));
    const CommandOutput unwritable = run_command(kCli + " make-model --preset tiny -o " + dir.file("no/dir/x.gguf"));
    CHECK(unwritable.status == 1);
}

#endif  // PTXSMITH_LLM_CLI
