// Host f32 <-> f16/bf16 conversions: round to nearest even, subnormals, infinities, NaN.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <ios>
#include <limits>

#include "ptxgen/half.hpp"

using namespace ptxgen;

TEST_CASE("f32 -> f16 rounds to nearest even, including subnormals and overflow") {
    CHECK(f32_to_f16_bits(1.0f) == 0x3c00);
    CHECK(f32_to_f16_bits(-2.0f) == 0xc000);
    CHECK(f32_to_f16_bits(65504.0f) == 0x7bff);          // largest finite half
    CHECK(f32_to_f16_bits(65519.99f) == 0x7bff);         // below the halfway point to 65536
    CHECK(f32_to_f16_bits(65520.0f) == 0x7c00);          // halfway rounds to even: infinity
    CHECK(f32_to_f16_bits(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
    CHECK(f32_to_f16_bits(std::ldexp(1.0f, -25)) == 0x0000);  // exactly half of it: ties to even (0)
    CHECK(f32_to_f16_bits(std::ldexp(3.0f, -26)) == 0x0001);  // 0.75 of it: rounds up
    CHECK(f32_to_f16_bits(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 of it: ties to even (2)
    CHECK(f32_to_f16_bits(std::ldexp(1023.5f, -24)) == 0x0400);  // rounds up into the first normal
    CHECK(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie between 1 and 1+2^-10: even
    CHECK(f32_to_f16_bits(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);  // tie between odd and even: even
    CHECK(f32_to_f16_bits(std::numeric_limits<float>::infinity()) == 0x7c00);
    CHECK(f32_to_f16_bits(-0.0f) == 0x8000);
    uint16_t nan = f32_to_f16_bits(std::numeric_limits<float>::quiet_NaN());
    CHECK((nan & 0x7c00) == 0x7c00);
    CHECK((nan & 0x03ff) != 0);
}

TEST_CASE("every f16 value survives f16 -> f32 -> f16") {
    int checked = 0;
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        float f = f16_bits_to_f32(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            CHECK((h & 0x7c00) == 0x7c00);
            continue;
        }
        if (f32_to_f16_bits(f) != h) FAIL("f16 0x" << std::hex << h << " came back different");
        ++checked;
    }
    CHECK(checked == 65536 - 2046);  // every non-NaN half
    CHECK(f16_bits_to_f32(0x0001) == std::ldexp(1.0f, -24));
    CHECK(f16_bits_to_f32(0x3555) == doctest::Approx(0.33325195));
}

TEST_CASE("f32 -> bf16 rounds to nearest even and keeps NaN quiet") {
    CHECK(f32_to_bf16_bits(1.0f) == 0x3f80);
    CHECK(f32_to_bf16_bits(std::bit_cast<float>(0x3f808000u)) == 0x3f80);  // tie, even stays
    CHECK(f32_to_bf16_bits(std::bit_cast<float>(0x3f818000u)) == 0x3f82);  // tie, odd rounds up
    CHECK(f32_to_bf16_bits(std::bit_cast<float>(0x3f808001u)) == 0x3f81);
    CHECK(f32_to_bf16_bits(std::bit_cast<float>(0x7f7fffffu)) == 0x7f80);  // rounds to infinity
    uint16_t nan = f32_to_bf16_bits(std::bit_cast<float>(0x7f800001u));    // signalling NaN
    CHECK((nan & 0x7f80) == 0x7f80);
    CHECK((nan & 0x007f) != 0);
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        float f = bf16_bits_to_f32(static_cast<uint16_t>(h));
        if (!std::isnan(f) && f32_to_bf16_bits(f) != h) FAIL("bf16 0x" << std::hex << h << " came back different");
    }
}
