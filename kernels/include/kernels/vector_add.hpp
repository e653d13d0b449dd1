// vector_add: z[i] = x[i] + y[i] over n f32 elements.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct VectorAdd {
    uint32_t n = 1u << 20;
    uint32_t block = 256;

    static FamilyInfo info();
    static VectorAdd from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    double tolerance() const { return 0.0; }  // one f32 add, rounded the same way on both sides
};

}  // namespace kernels
