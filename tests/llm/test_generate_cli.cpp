// `ptxsmith-llm generate` end to end on the tiny synthetic model, and its exit codes for bad
// input (1) and bad usage (2).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "../run_command.hpp"
#include "gguf/gguf.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kCli = PTXSMITH_LLM_CLI;

fs::path work_dir() {
    const fs::path d = fs::path(PTXSMITH_BINARY_DIR) / "generate_cli";
    fs::create_directories(d);
    return d;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// The tiny model, made once per test run by the command itself.
const fs::path& tiny_model() {
    static const fs::path path = [] {
        const fs::path p = work_dir() / "tiny.gguf";
        const CommandOutput made = run_command(kCli + " make-model --preset tiny -o " + quoted(p));
        INFO(made.text);
        REQUIRE(made.status == 0);
        return p;
    }();
    return path;
}

// stdout only (stderr to a file), and the exit status.
CommandOutput generate_stdout(const std::string& args) {
    const fs::path err = work_dir() / "stderr.txt";
    return run_command("{ " + kCli + " generate " + args + " 2>" + quoted(err) + "; }");
}

CommandOutput generate(const std::string& args) { return run_command(kCli + " generate " + args); }

}  // namespace

TEST_CASE("generate streams text from the tiny model and reports timings") {
    const std::string m = "-m " + quoted(tiny_model());
    const CommandOutput full = generate(m + " -p 'Hello world' -n 12 --seed 7");
    INFO(full.text);
    CHECK(full.status == 0);
    CHECK(full.text.find("prompt:") != std::string::npos);
    CHECK(full.text.find("generated:") != std::string::npos);

    // A seed fixes the text; greedy decoding does not depend on the seed at all.
    const CommandOutput a = generate_stdout(m + " -p 'Hello world' -n 12 --seed 7 --temp 1.2 --repeat-penalty 1.1");
    const CommandOutput b = generate_stdout(m + " -p 'Hello world' -n 12 --seed 7 --temp 1.2 --repeat-penalty 1.1");
    CHECK(a.status == 0);
    CHECK(a.text == b.text);
    const CommandOutput g1 = generate_stdout(m + " -p 'Hello world' -n 12 --seed 1 --temp 0 --device cpu");
    const CommandOutput g2 = generate_stdout(m + " -p 'Hello world' -n 12 --seed 2 --temp 0 --threads 1 --device cpu");
    CHECK(g1.status == 0);
    CHECK(g1.text == g2.text);
    CHECK(g1.text.size() > 1);  // some text and the final newline
}

TEST_CASE("generate: bad input exits 1 with one line, bad usage exits 2") {
    const fs::path model = tiny_model();
    const std::string m = "-m " + quoted(model);

    const fs::path text = work_dir() / "not_a_model.txt";
    std::ofstream(text) << "this is not a GGUF file, just some text that is long enough\n";
    llm::gguf::Writer w;
    w.set("general.architecture", llm::gguf::Value::string("gptj"));
    const fs::path gptj = work_dir() / "gptj.gguf";
    w.write(gptj.string());

    for (const std::string& args : {"-m " + quoted(work_dir() / "missing.gguf") + " -p hi",  // missing file
                                    "-m " + quoted(text) + " -p hi",                          // not GGUF
                                    "-m " + quoted(gptj) + " -p hi",                          // unsupported architecture
                                    m + " -p ''",                                             // empty prompt
                                    m + " -p hi --ctx 100000000"}) {                          // more context than the model has
        const CommandOutput o = generate(args);
        CAPTURE(args);
        CAPTURE(o.text);
        CHECK(o.status == 1);
        CHECK(o.text.find("error: ") != std::string::npos);
        CHECK(std::count(o.text.begin(), o.text.end(), '\n') == 1);
    }
    for (const std::string& args : {std::string("-p hi"), m, m + " -p hi --device gpu9", m + " -p hi --temp warm",
                                    m + " -p hi --top-p 0", m + " -p hi --bogus 1", m + " -p hi -n"}) {
        const CommandOutput o = generate(args);
        CAPTURE(args);
        CAPTURE(o.text);
        CHECK(o.status == 2);
    }
    CHECK(generate("--help").status == 0);
}
