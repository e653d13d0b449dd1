// argmax: the index of the largest of n f32 values, greedy decoding's token choice on the device.
//
// Buffers, in launch order:
//   x    f32 [n]   input (any 4-byte-aligned address; 16-byte loads start at its first 16-byte boundary)
//   out  s32 [1]   output: the index of the largest value
// Ties go to the smallest index; -0 and +0 are equal; -inf is a value like any other; NaN never
// wins (it ranks below -inf), and when every value is NaN the answer is 0. One CTA, no atomics
// and no state kept between launches, so a CUDA graph may replay it as it is.
#pragma once

#include "kernels/family.hpp"

namespace kernels {

struct Argmax {
    uint32_t n = 128256;
    uint32_t block = 1024;

    static FamilyInfo info();
    static Argmax from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    // An index is right or wrong.
    double tolerance() const { return 0; }
    // Random values almost never tie: copies the largest value to a few random places and
    // scatters NaNs and -infs, so that every run exercises the tie and NaN rules.
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const;
    std::string notes() const;
};

}  // namespace kernels
