// rmsnorm_q8_1: the rmsnorm family's y[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i], written
// as Q8_1 activations (int8 q[rows*k], f16 ds[rows * 2k/32]; see kernels/quant.hpp) instead of f32.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct RmsNormQ8_1 {
    uint32_t rows = 1;
    uint32_t k = 4096;     // a multiple of 32
    double eps = 1e-5;
    uint32_t block = 256;

    static FamilyInfo info();
    static RmsNormQ8_1 from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    // The normalisation in double, rounded to f32, then kernels::quant::quantize_q8_1.
    void reference(std::vector<HostBuffer>& args) const;
    // The kernel normalises in f32 (rsqrt.approx, another summation order), so a value within a
    // few ulps of a rounding boundary may get the neighbouring quant: one step, 1/127 of the largest
    // quant, and the sum s moves by d. Two steps would fail.
    double tolerance() const { return 1.2 / 127; }
    // Which of the two strategies the shape gets: x and w held in registers, or read again per step.
    std::string notes() const;
};

}  // namespace kernels
