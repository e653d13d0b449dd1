// Every registered kernel, at its defaults where they are small and at its test shapes, runs on
// the interpreter and matches its CPU reference on fresh random data with poisoned outputs.
#include <doctest/doctest.h>

#include <random>

#include "kernels/check.hpp"
#include "kernels/registry.hpp"

using namespace kernels;

namespace {
uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
}
}  // namespace

TEST_CASE("every registered kernel matches its reference on the interpreter") {
    size_t checked = 0;
    for (const Family& f : registry()) {
        for (const ParamValues& shape : f.info.test_shapes) {
            auto inst = instantiate(f, shape);
            const uint64_t seed = fresh_seed();
            CAPTURE(inst->name());
            CAPTURE(seed);
            ptxgen::interp::Options options;
            options.check_shared_races = true;
            options.check_uninitialized_shared = true;
            CheckResult r = check_on_interpreter(*inst, seed, options);
            INFO(r.comparison.worst);
            CHECK(r.comparison.elements > 0);
            CHECK(r.comparison.max_rel_error <= r.comparison.tolerance);
            CHECK(r.comparison.pass);
            ++checked;
        }
    }
    CHECK(checked >= 8);
}

TEST_CASE("the mma products' sm_75 form (four m8n8k16 per m16n8k32) matches the reference") {
    for (const char* family : {"q4k_gemv", "q6k_gemv"}) {
        auto inst = instantiate(find_family(family), {{"n", "40"}, {"k", "768"}, {"batch", "11"}, {"strategy", "mma"}, {"epilogue", "residual"}});
        const uint64_t seed = fresh_seed();
        CAPTURE(inst->name());
        CAPTURE(seed);
        CheckResult r = check_on_interpreter(*inst, seed, {}, ptxgen::Target{75});
        INFO(r.comparison.worst);
        CHECK(r.comparison.elements > 0);
        CHECK(r.comparison.pass);
    }
}

TEST_CASE("decode_attention's mma variant before sm_80 (emulated products, synchronous staging) matches the reference") {
    auto inst = instantiate(find_family("decode_attention"), {{"head-dim", "64"}, {"q-heads", "6"}, {"kv-heads", "2"},
                                                              {"max-seq", "150"}, {"len", "133"}, {"chunk", "64"},
                                                              {"variant", "mma"}});
    const uint64_t seed = fresh_seed();
    CAPTURE(inst->name());
    CAPTURE(seed);
    ptxgen::interp::Options options;
    options.check_shared_races = true;
    CheckResult r = check_on_interpreter(*inst, seed, options, ptxgen::Target{75});
    INFO(r.comparison.worst);
    CHECK(r.comparison.elements > 0);
    CHECK(r.comparison.pass);
}

TEST_CASE("an output the kernel does not write fails the comparison") {
    // block_sum writes out[r] for every row; compare a poisoned copy against the reference.
    auto inst = instantiate(find_family("block_sum"), {{"rows", "2"}, {"cols", "8"}, {"block", "32"}});
    std::vector<HostBuffer> got = make_host_args(*inst, 3);
    std::vector<HostBuffer> want = got;
    inst->reference(want);
    Comparison c = compare_outputs(got, want, 1e-3);
    CHECK_FALSE(c.pass);
    CHECK(c.worst.find("out[") == 0);
}
