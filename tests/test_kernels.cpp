// Pattern tests on whole kernels from the registry, and the registry's parameter handling.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "kernels/registry.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/verifier.hpp"

using namespace kernels;

namespace {

std::string emit(const std::string& family, const ParamValues& params, ptxgen::Target target = {90}) {
    return ptxgen::print_ptx(instantiate(find_family(family), params)->build(target));
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("every registered kernel builds, verifies and prints at its defaults and test shapes") {
    size_t built = 0;
    for (const Family& f : registry()) {
        std::vector<ParamValues> shapes{ParamValues{}};
        shapes.insert(shapes.end(), f.info.test_shapes.begin(), f.info.test_shapes.end());
        for (const ParamValues& shape : shapes) {
            auto inst = instantiate(f, shape);
            ptxgen::Kernel k = inst->build(ptxgen::Target{75});
            CHECK(k.name == inst->name());
            CHECK_NOTHROW(ptxgen::verify(k));
            std::string ptx = ptxgen::print_ptx(k);
            CHECK(count(ptx, ".visible .entry " + inst->name() + "(") == 1);
            CHECK(k.params.size() == inst->args().size());
            for (size_t i = 0; i < k.params.size(); ++i) CHECK(k.params[i].name == inst->args()[i].name);
            ++built;
        }
    }
    CHECK(built >= 12);
}

TEST_CASE("kernel names encode every parameter, so different shapes never share a name") {
    std::vector<std::string> names;
    for (const Family& f : registry()) {
        names.push_back(instantiate(f, {})->name());
        for (const ParamValues& shape : f.info.test_shapes) names.push_back(instantiate(f, shape)->name());
    }
    std::sort(names.begin(), names.end());
    CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
    CHECK(instantiate(find_family("rmsnorm"), {{"eps", "1e-06"}})->name() == "rmsnorm_r1_k4096_eps1em06_b256");
}

TEST_CASE("vector_add: two read-only loads, one add, one store, guarded by n") {
    std::string ptx = emit("vector_add", {{"n", "1000"}});
    CHECK(count(ptx, "ld.global.nc.f32") == 2);
    CHECK(count(ptx, "add.f32") == 1);
    CHECK(count(ptx, "st.global.f32") == 1);
    CHECK(count(ptx, "setp.lt.u32 %p0, %r3, 1000;") == 1);
    CHECK(count(ptx, ".reqntid 256, 1, 1") == 1);
    CHECK(count(ptx, ".target sm_75") == 1);  // nothing in it needs a newer architecture
}

TEST_CASE("saxpy: the scalar a arrives as an f32 parameter and feeds one fma") {
    std::string ptx = emit("saxpy", {});
    CHECK(count(ptx, ".param .f32 param_a") == 1);
    CHECK(count(ptx, "ld.param.f32 %f0, [param_a];") == 1);
    CHECK(count(ptx, "fma.rn.f32") == 1);
}

TEST_CASE("rmsnorm: 16-byte loads when k is a multiple of 4, scalar loads otherwise") {
    std::string vec = emit("rmsnorm", {{"k", "4096"}});
    CHECK(count(vec, "ld.global.nc.v4.f32") == 3);  // x for the sum of squares, then x and w again
    CHECK(count(vec, "st.global.v4.f32") == 1);
    CHECK(count(vec, "rsqrt.approx.f32") == 1);
    CHECK(count(vec, "shfl.sync.bfly.b32") == 10);  // two five-step butterflies
    CHECK(count(vec, "bar.sync 0;") == 2);
    CHECK(count(vec, ".shared .align 16 .b8 warp_sums[32];") == 1);  // 8 warps x 4 bytes

    std::string scalar = emit("rmsnorm", {{"k", "257"}});
    CHECK(count(scalar, ".v4.") == 0);
    CHECK(count(scalar, "ld.global.nc.f32") == 3);
}

TEST_CASE("block_sum with a single warp needs no shared memory or barrier") {
    std::string one_warp = emit("block_sum", {{"block", "32"}});
    CHECK(count(one_warp, ".shared") == 0);
    CHECK(count(one_warp, "bar.sync") == 0);
    CHECK(count(one_warp, "shfl.sync.bfly.b32") == 5);
    std::string eight = emit("block_sum", {{"block", "256"}});
    CHECK(count(eight, "bar.sync 0;") == 2);
}

TEST_CASE("CPU references compute the documented functions") {
    SUBCASE("vector_add") {
        auto inst = instantiate(find_family("vector_add"), {{"n", "3"}});
        std::vector<HostBuffer> args;
        for (const ArgSpec& a : inst->args()) args.push_back({a, std::vector<uint8_t>(a.count * 4)});
        float x[] = {1, 2, 3}, y[] = {10, 20, 30.5f};
        std::copy_n(x, 3, args[0].as<float>());
        std::copy_n(y, 3, args[1].as<float>());
        inst->reference(args);
        CHECK(args[2].as<float>()[0] == 11.0f);
        CHECK(args[2].as<float>()[2] == 33.5f);
    }
    SUBCASE("rmsnorm of a constant row is the weight times its sign") {
        auto inst = instantiate(find_family("rmsnorm"), {{"k", "8"}, {"eps", "0"}});
        std::vector<HostBuffer> args;
        for (const ArgSpec& a : inst->args()) args.push_back({a, std::vector<uint8_t>(a.count * 4)});
        for (int i = 0; i < 8; ++i) {
            args[0].as<float>()[i] = -3.0f;
            args[1].as<float>()[i] = static_cast<float>(i);
        }
        inst->reference(args);
        for (int i = 0; i < 8; ++i) CHECK(args[2].as<float>()[i] == doctest::Approx(-i));
    }
    SUBCASE("block_sum") {
        auto inst = instantiate(find_family("block_sum"), {{"rows", "2"}, {"cols", "3"}, {"block", "32"}});
        std::vector<HostBuffer> args;
        for (const ArgSpec& a : inst->args()) args.push_back({a, std::vector<uint8_t>(a.count * 4)});
        float x[] = {1, 2, 3, -1, 0.5f, 0.25f};
        std::copy_n(x, 6, args[0].as<float>());
        inst->reference(args);
        CHECK(args[1].as<float>()[0] == 6.0f);
        CHECK(args[1].as<float>()[1] == -0.25f);
    }
}

TEST_CASE("bad parameters give errors that name the parameter") {
    auto message = [](const std::string& family, const ParamValues& p) {
        try {
            instantiate(find_family(family), p);
        } catch (const ptxsmith::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("rmsnorm", {{"k", "0"}}).find("--k 0 is out of range") != std::string::npos);
    CHECK(message("rmsnorm", {{"bogus", "1"}}).find("no parameter --bogus") != std::string::npos);
    CHECK(message("rmsnorm", {{"eps", "abc"}}).find("'abc' is not a number") != std::string::npos);
    CHECK(message("vector_add", {{"block", "100"}}).find("not a multiple of 32") != std::string::npos);
    CHECK(message("vector_add", {{"n", "12x"}}).find("'12x' is not an integer") != std::string::npos);
    CHECK_THROWS_WITH_AS(find_family("nosuch"), doctest::Contains("unknown kernel 'nosuch'"), ptxsmith::Error);
    // GEMV tuning knobs where they do not apply.
    CHECK(message("q6k_gemv", {{"k", "2304"}, {"stage", "1"}}).find("--stage 1: staging is for Q6_K") != std::string::npos);
    CHECK(message("q6k_gemv", {{"k", "2048"}, {"unit", "64"}, {"stage", "1"}}).find("--unit 32") != std::string::npos);
    CHECK(message("q4k_gemv", {{"stage", "1"}}).find("--stage 1") != std::string::npos);
    CHECK(message("q6k_gemv", {{"k", "768"}, {"batch", "8"}, {"strategy", "mma"}, {"stage", "1"}}).find("K a multiple of 1024") != std::string::npos);
    CHECK(message("q4k_gemv", {{"batch", "8"}, {"strategy", "mma"}, {"stage", "1"}}).find("staging is for Q6_K") != std::string::npos);
    CHECK(message("q6k_gemv", {{"batch", "8"}, {"strategy", "mma"}, {"unroll", "2"}}).find("mma strategy") != std::string::npos);
}

TEST_CASE("gemv: the plan's register budget and Q6_K staging show in the name and the reason") {
    auto plan_of = [](const std::string& family, const ParamValues& p) {
        auto inst = instantiate(find_family(family), p);
        return std::pair{inst->name(), inst->notes()};
    };
    auto [staged, staged_why] = plan_of("q6k_gemv", {{"n", "4096"}, {"k", "14336"}});
    CHECK(staged.ends_with("_c3_st"));
    CHECK(staged_why.find("staged in shared memory") != std::string::npos);
    CHECK(staged_why.find("at least 3 CTAs per SM") != std::string::npos);
    CHECK(!plan_of("q6k_gemv", {{"n", "4096"}, {"k", "2304"}}).first.ends_with("_st"));  // K % 1024 != 0
    CHECK(!plan_of("q6k_gemv", {{"k", "4096"}, {"stage", "0"}}).first.ends_with("_st"));
    CHECK(plan_of("q4k_gemv", {{"n", "4096"}, {"k", "14336"}}).first.ends_with("_c5"));
    CHECK(plan_of("q4k_gemv", {{"n", "4096"}, {"k", "4096"}}).first.ends_with("_c8"));
    CHECK(plan_of("q4k_gemv", {{"k", "4096"}, {"ctas-per-sm", "0"}}).first.ends_with("ef"));
    // From 3 vectors the budget is ptxas's own.
    CHECK(plan_of("q6k_gemv", {{"k", "4096"}, {"batch", "4"}}).first.ends_with("ef_st"));
    // The mma strategy's staged steps: asked for, named, and their shared memory in the launch.
    auto mma_staged = instantiate(find_family("q6k_gemv"), {{"k", "4096"}, {"batch", "8"}, {"stage", "1"}});
    CHECK(mma_staged->name().ends_with("_st"));
    CHECK(mma_staged->notes().find("staged in shared memory by cp.async") != std::string::npos);
    CHECK(mma_staged->launch_config().shared_bytes > 0);
    // Staged by default up to 8 vectors, not above (not timed yet), nor at a K the copies cannot take.
    CHECK(instantiate(find_family("q6k_gemv"), {{"k", "4096"}, {"batch", "8"}})->name().ends_with("_st"));
    CHECK(!instantiate(find_family("q6k_gemv"), {{"k", "4096"}, {"batch", "9"}})->name().ends_with("_st"));
    CHECK(!instantiate(find_family("q6k_gemv"), {{"k", "2304"}, {"batch", "8"}})->name().ends_with("_st"));
    // Nor where the ring would need more than the 48 KB every GPU grants (8 warps for 1024 rows).
    CHECK(!instantiate(find_family("q6k_gemv"), {{"n", "1024"}, {"k", "4096"}, {"batch", "8"}})->name().ends_with("_st"));
    CHECK(instantiate(find_family("q6k_gemv"), {{"n", "1024"}, {"k", "4096"}, {"batch", "8"}, {"stage", "1"}})->name().ends_with("_st"));
    CHECK(instantiate(find_family("q6k_gemv"), {{"k", "4096"}, {"batch", "8"}, {"stage", "0"}})->launch_config().shared_bytes == 0);
}
