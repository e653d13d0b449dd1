// Parameter specs and launch shapes that several families share.
#pragma once

#include <string>

#include "kernels/family.hpp"

namespace kernels {

ParamSpec elements_param(const std::string& name = "n", const std::string& help = "number of elements");
ParamSpec block_param(uint32_t default_threads = 256);

// The "block" parameter, checked to be a whole number of warps.
uint32_t checked_block(const ParamValues& v);

// One thread per element over a 1-D grid.
LaunchConfig launch_1d(uint32_t elements, uint32_t block);

// A number as it may appear in a kernel name: 1e-05 -> "1em05", 0.5 -> "0p5".
std::string name_number(double v);

}  // namespace kernels
