// Single-thread throughput of the host quantisers and dequantisers, in million elements per
// second, on normal random data, with the relative RMS error of the round trip. A measurement,
// not a test (build it Release for figures). Usage: quant_speed [MILLION_ELEMENTS] (default 4).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant.hpp"

using namespace kernels::quant;

namespace {

// Both clocks: CPU time of this thread is the figure that matters on a shared machine.
struct Clock {
    std::chrono::steady_clock::time_point wall;
    double cpu;

    static double thread_cpu() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    static Clock now() { return {std::chrono::steady_clock::now(), thread_cpu()}; }
};

}  // namespace

int main(int argc, char** argv) {
    const double millions = argc > 1 ? std::stod(argv[1]) : 4.0;
    const int64_t n = static_cast<int64_t>(millions * 1e6) / qk_k * qk_k;
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (float& v : x) v = normal(rng);
    fmt::print("{:>6} {:>12} {:>12} {:>12} {:>14}\n", "type", "quant M/s", "(wall M/s)", "dequant M/s", "rel rms error");
    for (GgmlType t : {GgmlType::q4_k, GgmlType::q6_k, GgmlType::q8_0, GgmlType::q4_0, GgmlType::f16, GgmlType::bf16}) {
        std::vector<uint8_t> q(row_bytes(t, n));
        dequantize(t, q.data(), y.data(), n);  // touch the pages before timing
        const Clock t0 = Clock::now();
        quantize(t, x.data(), q.data(), n);
        const Clock t1 = Clock::now();
        dequantize(t, q.data(), y.data(), n);
        const Clock t2 = Clock::now();
        double e = 0, s = 0;
        for (int64_t i = 0; i < n; ++i) {
            e += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
            s += static_cast<double>(x[i]) * x[i];
        }
        const auto m = static_cast<double>(n) / 1e6;
        const double wall = std::chrono::duration<double>(t1.wall - t0.wall).count();
        fmt::print("{:>6} {:>12.1f} {:>12.1f} {:>12.1f} {:>14.5f}\n", traits(t).name, m / (t1.cpu - t0.cpu),
                   m / wall, m / (t2.cpu - t1.cpu), std::sqrt(e / s));
    }
    return 0;
}
