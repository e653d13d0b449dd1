// Host conversions between f32 and the 16-bit float formats, rounding to nearest even, with
// subnormals, infinities and NaN handled as the hardware does. Used for immediates, references
// and (later) the interpreter.
#pragma once

#include <cstdint>

namespace ptxgen {

uint16_t f32_to_f16_bits(float f);
float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_bf16_bits(float f);
float bf16_bits_to_f32(uint16_t h);

}  // namespace ptxgen
