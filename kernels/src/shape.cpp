#include "kernels/shape.hpp"

#include <fmt/format.h>

#include "ptxgen/error.hpp"

namespace kernels {

ParamSpec elements_param(const std::string& name, const std::string& help) {
    return ParamSpec{name, ParamKind::integer, help, "1048576", 1, 1 << 30, {}};
}

ParamSpec block_param(uint32_t default_threads) {
    return ParamSpec{"block", ParamKind::integer, "threads per block (a multiple of 32)", std::to_string(default_threads),
                     32, 1024, {}};
}

uint32_t checked_block(const ParamValues& v) {
    int64_t block = v.integer("block");
    if (block % 32 != 0) throw ptxsmith::Error(fmt::format("--block {} is not a multiple of 32 (a whole number of warps)", block));
    return static_cast<uint32_t>(block);
}

LaunchConfig launch_1d(uint32_t elements, uint32_t block) {
    LaunchConfig c;
    c.block = {block, 1, 1};
    c.grid = {(elements + block - 1) / block, 1, 1};
    return c;
}

std::string name_number(double v) {
    std::string s = fmt::format("{:g}", v);
    std::string out;
    for (char c : s) {
        if (c == '.') out += 'p';
        else if (c == '-') out += 'm';
        else if (c != '+') out += c;
    }
    return out;
}

}  // namespace kernels
