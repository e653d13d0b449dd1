// block_sum: out[r] = sum of row r of x[rows][cols], one CTA per row (warp shuffles + shared memory).
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct BlockSum {
    uint32_t rows = 1024;
    uint32_t cols = 4096;
    uint32_t block = 256;

    static FamilyInfo info();
    static BlockSum from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    // f32 partial sums in a different order than the double reference: relative to sum(|x|).
    double tolerance() const { return 1e-5; }
};

}  // namespace kernels
