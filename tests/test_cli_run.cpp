// `ptxgen run` end to end: every registered kernel at each of its test shapes passes on the
// interpreter through the command, and a deliberately broken PTX file fails.
#include <doctest/doctest.h>

#include "run_command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "kernels/registry.hpp"

namespace {

using Output = CommandOutput;
Output run(const std::string& command) { return run_command(command); }

std::string params(const kernels::ParamValues& v) {
    std::string s;
    for (const auto& [name, value] : v.all()) s += " --" + name + " " + value;
    return s;
}

}  // namespace

TEST_CASE("ptxgen run passes every registered kernel at its test shapes") {
    int runs = 0;
    for (const kernels::Family& f : kernels::registry()) {
        for (const kernels::ParamValues& shape : f.info.test_shapes) {
            const std::string command = std::string(PTXGEN_CLI) + " run " + f.info.name + params(shape) + " --check-races";
            Output o = run(command);
            INFO(command << "\n" << o.text);
            CHECK(o.status == 0);
            CHECK(o.text.find("\nPASS\n") != std::string::npos);
            ++runs;
        }
    }
    CHECK(runs >= 8);
}

TEST_CASE("ptxgen run on a PTX file: the generated text passes, an edited one fails") {
    const std::string dir = std::string(PTXSMITH_BINARY_DIR);
    const std::string file = dir + "/vector_add_run_test.ptx";
    Output emitted = run(std::string(PTXGEN_CLI) + " emit vector_add --n 300 --block 64 -o " + file);
    REQUIRE(emitted.status == 0);
    const std::string check = std::string(PTXGEN_CLI) + " run " + file +
                              " --kernel vector_add_n300_b64 --as vector_add --n 300 --block 64";
    Output good = run(check);
    INFO(good.text);
    CHECK(good.status == 0);
    CHECK(good.text.find("\nPASS\n") != std::string::npos);

    // Subtract instead of add: the reference comparison must catch it.
    std::string text;
    {
        std::ifstream in(file);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const size_t at = text.find("add.f32");
    REQUIRE(at != std::string::npos);
    text.replace(at, 3, "sub");
    {
        std::ofstream out(file);
        out << text;
    }
    Output bad = run(check);
    INFO(bad.text);
    CHECK(bad.status == 1);
    CHECK(bad.text.find("\nFAIL\n") != std::string::npos);
}

TEST_CASE("ptxgen run reports bad input as a usage error") {
    CHECK(run(std::string(PTXGEN_CLI) + " run nosuch").status == 2);
    CHECK(run(std::string(PTXGEN_CLI) + " run rmsnorm --device bogus").status == 2);
    CHECK(run(std::string(PTXGEN_CLI) + " run rmsnorm --seed x").status == 2);
    CHECK(run(std::string(PTXGEN_CLI) + " run missing.ptx --kernel k --as saxpy").status == 2);
}
