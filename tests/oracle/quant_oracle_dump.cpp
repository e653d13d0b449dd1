// Writes blocks of every format ptxsmith dequantises, with our dequantised floats, and float inputs
// with our quantised bytes, for check_quants.py to compare with gguf's Python implementation.
//
// Usage: quant_oracle_dump DIR [SEED]. Writes DIR/manifest.txt, one line per case:
//     dequant NAME TYPE_ID ELEMENTS   NAME.bytes (the blocks) and NAME.ours (our f32 results)
//     quant NAME TYPE_ID ELEMENTS     NAME.src (f32 inputs) and NAME.ours (our quantised bytes)
// Dequantised blocks carry random finite f16 scales; for the first 256 blocks of a case, byte p of
// the quant bytes is (block + 7p) mod 256, so that every position holds every bit pattern.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/quant.hpp"

using namespace kernels::quant;

namespace {

struct Writer {
    std::string dir;
    std::FILE* manifest;

    void file(const std::string& name, const void* data, size_t bytes) const {
        const std::string path = dir + "/" + name;
        std::FILE* f = std::fopen(path.c_str(), "wb");
        if (f == nullptr || std::fwrite(data, 1, bytes, f) != bytes || std::fclose(f) != 0) {
            throw std::runtime_error("cannot write " + path);
        }
    }

    void dequant_case(const std::string& name, GgmlType t, const std::vector<uint8_t>& bytes, int64_t n) const {
        std::vector<float> ours(static_cast<size_t>(n));
        dequantize(t, bytes.data(), ours.data(), n);
        file(name + ".bytes", bytes.data(), bytes.size());
        file(name + ".ours", ours.data(), ours.size() * sizeof(float));
        fmt::print(manifest, "dequant {} {} {}\n", name, static_cast<uint32_t>(t), n);
    }

    void quant_case(const std::string& name, GgmlType t, const std::vector<float>& src) const {
        const std::vector<uint8_t> ours = quantize(t, src);
        file(name + ".src", src.data(), src.size() * sizeof(float));
        file(name + ".ours", ours.data(), ours.size());
        fmt::print(manifest, "quant {} {} {}\n", name, static_cast<uint32_t>(t), src.size());
    }
};

// Where the f16 scales sit in a block; every other byte is quant bytes.
struct Layout {
    GgmlType type;
    std::vector<int> f16_offsets;
};

uint16_t random_finite_f16(std::mt19937_64& rng) {
    for (;;) {
        const auto h = static_cast<uint16_t>(rng());
        if ((h & 0x7c00) != 0x7c00) return h;
    }
}

std::vector<uint8_t> random_blocks(const Layout& layout, int blocks, std::mt19937_64& rng) {
    const TypeTraits& tt = traits(layout.type);
    const auto size = static_cast<size_t>(tt.block_bytes);
    std::vector<uint8_t> bytes(size * static_cast<size_t>(blocks));
    for (int b = 0; b < blocks; ++b) {
        uint8_t* block = bytes.data() + size * static_cast<size_t>(b);
        std::vector<bool> is_scale(size, false);
        for (int off : layout.f16_offsets) {
            const uint16_t h = random_finite_f16(rng);
            std::memcpy(block + off, &h, 2);
            is_scale[static_cast<size_t>(off)] = is_scale[static_cast<size_t>(off) + 1] = true;
        }
        int p = 0;
        for (size_t i = 0; i < size; ++i) {
            if (is_scale[i]) continue;
            block[i] = b < 256 ? static_cast<uint8_t>((b + 7 * p) & 0xff) : static_cast<uint8_t>(rng());
            ++p;
        }
    }
    return bytes;
}

// Normal values with a spread that changes every block, some blocks of zeros, of one repeated
// value, and of ties (+-a, and values on exact halves of the quant step).
std::vector<float> random_values(int64_t n, int block, std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    // Spreads up to 2^12, so that no block's scale overflows f16 (Q4_0 takes max / 8 unclamped).
    std::uniform_real_distribution<float> exponent(-20.0f, 12.0f);
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t b0 = 0; b0 < n; b0 += block) {
        const float spread = std::exp2(exponent(rng));
        float* xb = x.data() + b0;
        switch ((b0 / block) % 8) {
        case 0: std::fill(xb, xb + block, 0.0f); break;
        case 1: std::fill(xb, xb + block, normal(rng) * spread); break;
        case 2:  // the largest magnitude twice, with both signs: the first one decides Q4_0's sign
            for (int i = 0; i < block; ++i) xb[i] = normal(rng) * spread;
            xb[3] = -4.0f * spread;
            xb[9] = 4.0f * spread;
            break;
        case 3:
            if ((b0 / block) % 16 == 3) {  // amax 127 makes Q8_0's d exactly 1: the halves are ties
                for (int i = 0; i < block; ++i) xb[i] = static_cast<float>(static_cast<int>(rng() % 254) - 127) + 0.5f;
                xb[0] = 127.0f;
            } else {  // max -8 makes Q4_0's d exactly 1: x + 8.5 lands on whole numbers
                for (int i = 0; i < block; ++i) xb[i] = static_cast<float>(static_cast<int>(rng() % 32) - 16) * 0.5f;
                xb[0] = -8.0f;
            }
            break;
        default:
            for (int i = 0; i < block; ++i) xb[i] = normal(rng) * spread;
        }
    }
    return x;
}

// Random f32 bit patterns that are not NaN (infinities are kept: both sides convert them alike).
std::vector<float> random_f32_bits(int64_t n, std::mt19937_64& rng) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) {
        do {
            const auto bits = static_cast<uint32_t>(rng());
            std::memcpy(&v, &bits, 4);
        } while (std::isnan(v));
    }
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: quant_oracle_dump DIR [SEED]\n");
        return 2;
    }
    const uint64_t seed = argc > 2 ? std::stoull(argv[2]) : std::random_device{}();
    std::printf("quant_oracle_dump: seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    const std::string manifest_path = std::string(argv[1]) + "/manifest.txt";
    Writer w{argv[1], std::fopen(manifest_path.c_str(), "w")};
    if (w.manifest == nullptr) {
        std::fprintf(stderr, "cannot write %s\n", manifest_path.c_str());
        return 1;
    }
    try {
        // Dequantisation of raw blocks.
        const Layout layouts[] = {
            {GgmlType::q4_0, {0}},    {GgmlType::q4_1, {0, 2}}, {GgmlType::q5_0, {0}},
            {GgmlType::q8_0, {0}},    {GgmlType::q4_k, {0, 2}}, {GgmlType::q6_k, {208}},
        };
        constexpr int blocks = 4096;
        for (const Layout& layout : layouts) {
            const TypeTraits& tt = traits(layout.type);
            w.dequant_case(fmt::format("raw_{}", tt.name), layout.type, random_blocks(layout, blocks, rng),
                           static_cast<int64_t>(blocks) * tt.block_elements);
        }
        // Every f16 and bf16 bit pattern but NaN.
        std::vector<uint8_t> f16, bf16;
        for (uint32_t h = 0; h <= 0xffff; ++h) {
            const uint8_t lo = static_cast<uint8_t>(h & 0xff), hi = static_cast<uint8_t>(h >> 8);
            if ((h & 0x7c00) != 0x7c00 || (h & 0x03ff) == 0) f16.insert(f16.end(), {lo, hi});
            if ((h & 0x7f80) != 0x7f80 || (h & 0x007f) == 0) bf16.insert(bf16.end(), {lo, hi});
        }
        w.dequant_case("all_f16", GgmlType::f16, f16, static_cast<int64_t>(f16.size() / 2));
        w.dequant_case("all_bf16", GgmlType::bf16, bf16, static_cast<int64_t>(bf16.size() / 2));

        // Our quantisers' own blocks, as gguf reads them.
        for (GgmlType t : {GgmlType::q4_0, GgmlType::q8_0, GgmlType::q4_k, GgmlType::q6_k}) {
            const std::vector<float> x = random_values(256 * 512, 256, rng);
            w.dequant_case(fmt::format("ours_{}", traits(t).name), t, quantize(t, x),
                           static_cast<int64_t>(x.size()));
        }

        // Quantisation where gguf implements it.
        w.quant_case("quant_q8_0", GgmlType::q8_0, random_values(32 * 8192, 32, rng));
        w.quant_case("quant_q4_0", GgmlType::q4_0, random_values(32 * 8192, 32, rng));
        w.quant_case("quant_f16", GgmlType::f16, random_f32_bits(1 << 16, rng));
        w.quant_case("quant_bf16", GgmlType::bf16, random_f32_bits(1 << 16, rng));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "quant_oracle_dump: %s\n", e.what());
        return 1;
    }
    return std::fclose(w.manifest) == 0 ? 0 : 1;
}
