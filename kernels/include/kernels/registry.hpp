// Every kernel family, in one list: the CLI, the tests and the benchmarks enumerate it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/family.hpp"

namespace kernels {

const std::vector<Family>& registry();

// The family called `name`; throws ptxsmith::Error listing the known names otherwise.
const Family& find_family(const std::string& name);

// The full parameter set: defaults overlaid with `overrides`. Unknown names, malformed numbers,
// values out of range and words outside a choice throw ptxsmith::Error naming the parameter.
ParamValues resolve_params(const Family& f, const ParamValues& overrides);

// Resolves the parameters and makes the instance (which validates the shape).
std::unique_ptr<KernelInstance> instantiate(const Family& f, const ParamValues& overrides);

}  // namespace kernels
