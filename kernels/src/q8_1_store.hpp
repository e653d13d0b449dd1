// Quantises Q8_1 activation blocks held in registers and stores them in ptxsmith's two-array
// layout (int8 quants, then {f16 d, f16 s} per 32 values; see kernels/quant.hpp). Shared by every
// generator that writes Q8_1 activations, so that all of them round exactly as
// kernels::quant::quantize_q8_1 does.
#pragma once

#include <array>
#include <optional>

#include "ptxgen/builder.hpp"

namespace kernels {

// Values per lane: a 32-value block is held by 8 consecutive lanes, 4 consecutive values each.
inline constexpr uint32_t kQ8_1ValuesPerLane = 4;
inline constexpr uint32_t kQ8_1LanesPerBlock = 32 / kQ8_1ValuesPerLane;

// `values`: this lane's 4 consecutive values of a block; the block's 8 lanes are consecutive and
// start at a lane that is a multiple of 8. Every lane of the warp must execute this (it shuffles
// with a full mask). `q` is where this lane's 4 quants go (4-byte aligned), `ds` where the block's
// {d, s} pair goes (4-byte aligned; the block's first lane writes it). Lanes whose `store` is false
// write nothing; `store` must be the same for the 8 lanes of a block.
void store_q8_1_block(ptxgen::KernelBuilder& b, const std::array<ptxgen::Reg<ptxgen::f32>, 4>& values,
                      ptxgen::Address<ptxgen::Space::global> q, ptxgen::Address<ptxgen::Space::global> ds,
                      std::optional<ptxgen::Pred> store = std::nullopt);

}  // namespace kernels
