// quantize_q8_1: f32 activations x[rows][k] -> Q8_1 in ptxsmith's two-array layout (int8 q[rows*k],
// f16 ds[rows * 2k/32]; see kernels/quant.hpp), rounding exactly as kernels::quant::quantize_q8_1.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct QuantizeQ8_1 {
    uint32_t rows = 1;
    uint32_t k = 4096;     // a multiple of 32
    uint32_t block = 256;

    static FamilyInfo info();
    static QuantizeQ8_1 from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    // Every operation is correctly rounded as the reference's: the outputs are bit-identical.
    double tolerance() const { return 0; }
};

}  // namespace kernels
