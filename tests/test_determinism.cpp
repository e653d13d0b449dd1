// The same generator and parameters give byte-identical PTX: within one process, and across
// processes (the `ptxgen` command run twice, each with its own heap layout).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "kernels/registry.hpp"
#include "ptxgen/printer.hpp"

namespace {

std::string run(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    CHECK(pclose(p) == 0);
    return out;
}

}  // namespace

TEST_CASE("building a kernel twice in one process gives identical IR and text") {
    for (const kernels::Family& f : kernels::registry()) {
        auto inst = kernels::instantiate(f, {});
        ptxgen::Kernel a = inst->build(ptxgen::Target{90});
        ptxgen::Kernel b = inst->build(ptxgen::Target{90});
        CHECK(a.same_program(b));
        CHECK(ptxgen::print_ptx(a) == ptxgen::print_ptx(b));
    }
}

TEST_CASE("two processes print the same bytes as this one") {
    for (const kernels::Family& f : kernels::registry()) {
        const std::string command = std::string(PTXGEN_CLI) + " emit " + f.info.name + " --target sm_90";
        std::string first = run(command);
        std::string second = run(command);
        std::string here = ptxgen::print_ptx(kernels::instantiate(f, {})->build(ptxgen::Target{90}));
        CHECK(first.size() > 200);
        CHECK(first == second);
        CHECK(first == here);
    }
}
