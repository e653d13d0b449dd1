// Random weights: a counter-based generator, so that any row can be produced on any thread in
// any order and still come out the same.
//
// Every value is a function of (seed, tensor name, row, column): the tensor's seed mixes the
// seed with a hash of the name, each row's seed mixes that with the row index, and each element
// is the SplitMix64 finaliser of the row seed plus a multiple of its column. The normal variate
// is the Irwin-Hall sum of the element's four 16-bit quarters, standardised: a bell curve with
// variance exactly 1, no tails past 3.5 sigma (so no lone outlier sets a block's quantisation
// scale), and one 64-bit hash per value, an order of magnitude cheaper than Box-Muller.
#include "model/maker_weights.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

namespace llm::model {

namespace {

constexpr uint64_t golden = 0x9E3779B97F4A7C15ull;

uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (const char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001B3ull;
    return h;
}

// The sum of four uniform integers in [0, 65535] has mean 131070 and variance
// 4 * (65536^2 - 1) / 12.
constexpr double quarter_sum_mean = 131070.0;
const float inv_quarter_sum_sd = static_cast<float>(1.0 / std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0));

float standard_normal(uint64_t bits) {
    const uint64_t sum = (bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48);
    return static_cast<float>(static_cast<double>(sum) - quarter_sum_mean) * inv_quarter_sum_sd;
}

// Rows per work item: about 256K values, whatever the row length, so that a tiny tensor is one
// item and a large one keeps every thread busy. Depends on the shape only.
uint64_t rows_per_chunk(uint64_t row_length) { return std::max<uint64_t>(1, (uint64_t{1} << 18) / row_length); }

}  // namespace

void generate_rows(const TensorPlan& t, uint64_t seed, uint64_t first_row, uint64_t rows, float* out) {
    const uint64_t tensor_seed = mix64(seed ^ mix64(fnv1a(t.name)));
    const uint64_t n = t.ne[0];
    for (uint64_t r = 0; r < rows; ++r) {
        const uint64_t row_seed = mix64(tensor_seed + (first_row + r) * golden);
        float* row = out + r * n;
        for (uint64_t c = 0; c < n; ++c) row[c] = t.mean + t.stddev * standard_normal(mix64(row_seed + (c + 1) * golden));
    }
}

void fill_tensor(const TensorPlan& t, uint64_t seed, WorkerPool& pool, uint8_t* out) {
    const uint64_t n = t.ne[0];
    const uint64_t rows = t.rows();
    const uint64_t chunk = rows_per_chunk(n);
    const uint64_t chunks = (rows + chunk - 1) / chunk;
    const size_t row_bytes = kernels::quant::row_bytes(t.type, static_cast<int64_t>(n));
    std::vector<std::vector<float>> scratch(pool.threads());
    pool.run(static_cast<size_t>(chunks), [&](size_t item, unsigned thread) {
        const uint64_t first = item * chunk;
        const uint64_t count = std::min(chunk, rows - first);
        std::vector<float>& values = scratch[thread];
        values.resize(static_cast<size_t>(count * n));
        generate_rows(t, seed, first, count, values.data());
        kernels::quant::quantize(t.type, values.data(), out + first * row_bytes, static_cast<int64_t>(count * n));
    });
}

}  // namespace llm::model
