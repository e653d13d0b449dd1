// rmsnorm: y[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i], row length k and eps baked in.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct RmsNorm {
    uint32_t rows = 1;
    uint32_t k = 4096;
    double eps = 1e-5;
    uint32_t block = 256;

    static FamilyInfo info();
    static RmsNorm from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    // rsqrt.approx (2 ulp) and f32 sums in another order than the double reference.
    double tolerance() const { return 2e-5; }
};

}  // namespace kernels
