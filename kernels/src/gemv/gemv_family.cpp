// The matrix-vector families' host side: parameters, names, arguments, valid random inputs and
// the CPU reference (weights dequantised with kernels::quant, dot products in double).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "kernels/gemv.hpp"
#include "kernels/quantize_q8_1.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"

namespace kernels {

using ptxgen::Type;

namespace {

// Runs body(first, last) over [0, n) on the machine's cores (references at full size are large).
template <class F> void parallel_rows(uint32_t n, F body) {
    const uint32_t threads = std::max(1u, std::min(std::thread::hardware_concurrency(), (n + 63) / 64));
    if (threads == 1) {
        body(0u, n);
        return;
    }
    std::vector<std::thread> pool;
    for (uint32_t t = 0; t < threads; ++t) {
        const uint32_t first = static_cast<uint32_t>(uint64_t{n} * t / threads);
        const uint32_t last = static_cast<uint32_t>(uint64_t{n} * (t + 1) / threads);
        pool.emplace_back([=] { body(first, last); });
    }
    for (std::thread& t : pool) t.join();
}

uint16_t random_half(std::mt19937_64& rng, float scale) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    return ptxgen::f32_to_f16_bits(u(rng) * scale);
}

// Random weight bytes become valid blocks: every f16 field gets a finite value, the quant bits
// stay random (so every bit pattern of the quants is exercised).
void sanitize_weights(quant::GgmlType t, std::vector<uint8_t>& bytes, std::mt19937_64& rng) {
    auto put = [&](size_t at, uint16_t h) { std::memcpy(bytes.data() + at, &h, 2); };
    switch (t) {
    case quant::GgmlType::q4_k:
        for (size_t at = 0; at + 144 <= bytes.size(); at += 144) {
            put(at, random_half(rng, 1.0f / 64));
            put(at + 2, random_half(rng, 1.0f / 64));
        }
        break;
    case quant::GgmlType::q6_k:
        for (size_t at = 0; at + 210 <= bytes.size(); at += 210) put(at + 208, random_half(rng, 1.0f / 256));
        break;
    case quant::GgmlType::q8_0:
        for (size_t at = 0; at + 34 <= bytes.size(); at += 34) put(at, random_half(rng, 1.0f / 128));
        break;
    case quant::GgmlType::f16:
        for (size_t at = 0; at + 2 <= bytes.size(); at += 2) put(at, random_half(rng, 1.0f));
        break;
    default: throw ptxsmith::Error("sanitize_weights: unsupported type");
    }
}

GemvStrategy parse_strategy(const std::string& s) {
    if (s == "dp4a") return GemvStrategy::dp4a;
    if (s == "fma") return GemvStrategy::fma;
    if (s == "mma") return GemvStrategy::mma;
    return GemvStrategy::automatic;
}

GemvEpilogue parse_epilogue(const std::string& s) {
    if (s == "residual") return GemvEpilogue::residual;
    if (s == "swiglu") return GemvEpilogue::swiglu;
    return GemvEpilogue::store;
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

}  // namespace

Gemv Gemv::make(const GemvShape& s) { return Gemv{s, plan_gemv(s)}; }

std::string Gemv::family_name() const {
    switch (shape.weights) {
    case quant::GgmlType::q4_k: return "q4k_gemv";
    case quant::GgmlType::q6_k: return "q6k_gemv";
    case quant::GgmlType::q8_0: return "q8_0_gemv";
    case quant::GgmlType::f16: return "f16_gemv";
    default: return "gemv";
    }
}

std::string Gemv::name() const {
    const char* cache = plan.weight_evict == ptxgen::Evict::L1_no_allocate ? "na"
                        : plan.weight_evict == ptxgen::Evict::L1_evict_first ? "ef"
                                                                              : "";
    std::string prefetch;
    if (plan.l2_fetch) prefetch += fmt::format("_l2f{}", plan.l2_fetch);
    if (plan.prefetch_ahead) prefetch += fmt::format("_pa{}", plan.prefetch_ahead);
    if (plan.ctas_per_sm) prefetch += fmt::format("_c{}", plan.ctas_per_sm);
    if (plan.staged) prefetch += "_st";
    return fmt::format("{}_n{}_k{}_b{}_{}_{}_{}_w{}r{}u{}x{}s{}{}{}", family_name(), shape.n, shape.k, shape.batch,
                       strategy_name(plan.strategy), epilogue_name(shape.epilogue),
                       shape.output == GemvOutput::q8_1 ? "q8" : "f32", plan.warps, plan.rows_per_warp, plan.unroll,
                       plan.unit_weights, plan.k_split, cache, prefetch);
}

LaunchConfig Gemv::launch_config() const {
    const uint32_t rows_per_cta = plan.warps / plan.k_split * plan.rows_per_warp;
    LaunchConfig c;
    c.grid = {(shape.n + rows_per_cta - 1) / rows_per_cta, 1, 1};
    c.block = {32 * plan.warps, 1, 1};
    c.shared_bytes = plan.shared_bytes;
    return c;
}

std::vector<ArgSpec> Gemv::args() const {
    const size_t weight_bytes = quant::row_bytes(shape.weights, shape.k) * shape.n;
    const size_t n = size_t{shape.n} * shape.batch;
    const size_t k = size_t{shape.k} * shape.batch;
    std::vector<ArgSpec> a;
    if (shape.epilogue == GemvEpilogue::swiglu) {
        a.push_back({"wg", Role::input, Type::u8, weight_bytes, true});
        a.push_back({"wu", Role::input, Type::u8, weight_bytes, true});
    } else {
        a.push_back({"w", Role::input, Type::u8, weight_bytes, true});
    }
    if (reads_q8_1(plan.strategy)) {
        a.push_back({"xq", Role::input, Type::s8, k});
        a.push_back({"xds", Role::input, Type::f16, k / 16});
    } else {
        a.push_back({"x", Role::input, Type::f32, k});
    }
    if (shape.output == GemvOutput::q8_1) {
        a.push_back({"yq", Role::output, Type::s8, n});
        a.push_back({"yds", Role::output, Type::f16, n / 16});
    } else {
        a.push_back({"y", shape.epilogue == GemvEpilogue::residual ? Role::inout : Role::output, Type::f32, n});
    }
    return a;
}

void Gemv::prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    const size_t mats = shape.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    for (size_t m = 0; m < mats; ++m) sanitize_weights(shape.weights, args[m].bytes, rng);
    if (reads_q8_1(plan.strategy)) {
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> x(shape.k);
        for (uint32_t v = 0; v < shape.batch; ++v) {
            for (float& e : x) e = u(rng);
            quant::quantize_q8_1(x.data(), shape.k, args[mats].as<int8_t>() + size_t{v} * shape.k,
                                 args[mats + 1].as<uint16_t>() + size_t{v} * shape.k / 16);
        }
    }
}

void Gemv::reference(std::vector<HostBuffer>& args) const {
    const size_t mats = shape.epilogue == GemvEpilogue::swiglu ? 2 : 1;
    const uint32_t k = shape.k;
    const uint32_t n = shape.n;
    const size_t row_bytes = quant::row_bytes(shape.weights, k);
    // The input vectors as the kernel sees them.
    std::vector<double> x(size_t{k} * shape.batch);
    if (reads_q8_1(plan.strategy)) {
        std::vector<float> xf(k);
        for (uint32_t v = 0; v < shape.batch; ++v) {
            quant::dequantize_q8_1(args[mats].as<int8_t>() + size_t{v} * k, args[mats + 1].as<uint16_t>() + size_t{v} * k / 16,
                                   k, xf.data());
            std::copy(xf.begin(), xf.end(), x.begin() + size_t{v} * k);
        }
    } else {
        const float* xf = args[mats].as<float>();
        std::copy(xf, xf + x.size(), x.begin());
    }
    const size_t out_arg = mats + (reads_q8_1(plan.strategy) ? 2 : 1);
    std::vector<float> y(size_t{n} * shape.batch);
    if (shape.epilogue == GemvEpilogue::residual) std::memcpy(y.data(), args[out_arg].bytes.data(), y.size() * 4);
    parallel_rows(n, [&](uint32_t first, uint32_t last) {
        std::vector<float> row(k);
        std::vector<double> dots(mats * shape.batch);
        for (uint32_t r = first; r < last; ++r) {
            for (size_t m = 0; m < mats; ++m) {
                quant::dequantize(shape.weights, args[m].bytes.data() + size_t{r} * row_bytes, row.data(), k);
                for (uint32_t v = 0; v < shape.batch; ++v) {
                    double sum = 0;
                    const double* xv = x.data() + size_t{v} * k;
                    for (uint32_t i = 0; i < k; ++i) sum += double{row[i]} * xv[i];
                    dots[m * shape.batch + v] = sum;
                }
            }
            for (uint32_t v = 0; v < shape.batch; ++v) {
                const size_t at = size_t{v} * n + r;
                const double d = dots[v];
                switch (shape.epilogue) {
                case GemvEpilogue::store: y[at] = static_cast<float>(d); break;
                case GemvEpilogue::residual: y[at] = static_cast<float>(y[at] + d); break;
                case GemvEpilogue::swiglu: y[at] = static_cast<float>(silu(d) * dots[shape.batch + v]); break;
                }
            }
        }
    });
    if (shape.output == GemvOutput::q8_1) {
        for (uint32_t v = 0; v < shape.batch; ++v) {
            quant::quantize_q8_1(y.data() + size_t{v} * n, n, args[out_arg].as<int8_t>() + size_t{v} * n,
                                 args[out_arg + 1].as<uint16_t>() + size_t{v} * n / 16);
        }
    } else {
        std::memcpy(args[out_arg].bytes.data(), y.data(), y.size() * 4);
    }
}

double Gemv::tolerance() const {
    // Q8_1 output: a quant may round the other way (1 in 127). f32 output: integer dot products
    // are exact; what is left is f32 rounding of the scales and of the sums (and ex2/rcp in swiglu).
    return shape.output == GemvOutput::q8_1 ? 0.01 : 5e-5;
}

std::string Gemv::notes() const { return fmt::format("strategy {}: {}", strategy_name(plan.strategy), plan.why); }

std::vector<Companion> Gemv::companions() const {
    std::vector<Companion> c;
    if (reads_q8_1(plan.strategy)) {
        QuantizeQ8_1 q;
        q.rows = shape.batch;
        q.k = shape.k;
        c.push_back({"activation quantisation to Q8_1 (standalone; the model fuses it into the preceding kernel)",
                     std::make_unique<Instance<QuantizeQ8_1>>(q)});
    }
    return c;
}

template <quant::GgmlType W> FamilyInfo GemvFamily<W>::info() {
    const quant::TypeTraits& t = quant::traits(W);
    const bool f16 = W == quant::GgmlType::f16;
    GemvShape named;
    named.weights = W;
    const std::string name = Gemv{named, {}}.family_name();
    std::vector<ParamValues> shapes;
    const std::string k_small = f16 ? "40" : W == quant::GgmlType::q8_0 ? "96" : "256";
    shapes.push_back({{"n", "1"}, {"k", k_small}, {"batch", "1"}});
    shapes.push_back({{"n", "257"}, {"k", "768"}, {"batch", "1"}, {"epilogue", "residual"}});
    shapes.push_back({{"n", "33"}, {"k", "512"}, {"batch", "3"}, {"strategy", "fma"}});
    shapes.push_back({{"n", "40"}, {"k", "2048"}, {"batch", "8"}, {"strategy", "fma"}, {"epilogue", "residual"}});
    shapes.push_back({{"n", "96"}, {"k", "1024"}, {"batch", "2"}, {"strategy", "fma"}, {"epilogue", "swiglu"}});
    // L2 prefetching: groups prefetched ahead (clamped at the row's end) with a K split, and the
    // fetch-size hint on every weight load.
    shapes.push_back({{"n", "37"}, {"k", "2304"}, {"ahead", "2"}, {"l2fetch", "256"}, {"ksplit", "2"}, {"warps", "4"}});
    if (!f16) {
        shapes.push_back({{"n", "100"}, {"k", "2048"}, {"batch", "8"}, {"strategy", "dp4a"}});
        shapes.push_back({{"n", "64"}, {"k", "256"}, {"batch", "5"}, {"strategy", "dp4a"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
        shapes.push_back({{"n", "65"}, {"k", "1280"}, {"batch", "2"}, {"strategy", "dp4a"}, {"epilogue", "swiglu"}});
        if (W == quant::GgmlType::q4_k || W == quant::GgmlType::q6_k) {
            shapes.push_back({{"n", "70"}, {"k", "768"}, {"batch", "3"}, {"strategy", "dp4a"}, {"unit", "32"}, {"rows", "3"}});
            shapes.push_back({{"n", "17"}, {"k", "512"}, {"batch", "1"}, {"strategy", "fma"}, {"unit", "32"}, {"unroll", "3"}});
            shapes.push_back({{"n", "37"}, {"k", "2304"}, {"batch", "2"}, {"ksplit", "2"}, {"warps", "4"}, {"unroll", "1"}});
            shapes.push_back({{"n", "64"}, {"k", "1536"}, {"epilogue", "swiglu"}, {"out", "q8_1"}, {"ksplit", "2"}, {"unroll", "1"}});
        }
        if (W == quant::GgmlType::q6_k) {
            // Staged steps (K a multiple of 1024): a K split whose slices have an odd and an even
            // number of groups after the first, two units in flight with an odd group count and
            // ptxas's own register budget, and the unstaged form at such a K.
            shapes.push_back({{"n", "19"}, {"k", "3072"}, {"ksplit", "2"}, {"warps", "4"}, {"unroll", "1"}});
            shapes.push_back({{"n", "45"}, {"k", "5120"}, {"unroll", "2"}, {"ctas-per-sm", "0"}});
            shapes.push_back({{"n", "33"}, {"k", "1024"}, {"stage", "0"}, {"epilogue", "residual"}});
        }
        if (W == quant::GgmlType::q4_k || W == quant::GgmlType::q6_k) {
            // Tensor cores: N not a multiple of the 16-row tile, K splits that do not divide the
            // super-blocks, odd super-block counts (Q6_K rows 2-byte aligned), every epilogue and
            // output, 1..64 vectors.
            const char* rows = W == quant::GgmlType::q4_k ? "32" : "16";
            shapes.push_back({{"n", "40"}, {"k", "1280"}, {"batch", "8"}, {"strategy", "mma"}, {"ksplit", "3"}, {"rows", rows}});
            shapes.push_back({{"n", "48"}, {"k", "1024"}, {"batch", "6"}, {"strategy", "mma"}, {"ksplit", "3"}, {"l2fetch", "128"}});
            shapes.push_back({{"n", "17"}, {"k", "512"}, {"batch", "3"}, {"strategy", "mma"}, {"epilogue", "residual"}});
            shapes.push_back({{"n", "64"}, {"k", "768"}, {"batch", "5"}, {"strategy", "mma"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
            shapes.push_back({{"n", "33"}, {"k", "256"}, {"batch", "1"}, {"strategy", "mma"}, {"epilogue", "swiglu"}});
            shapes.push_back({{"n", "24"}, {"k", "768"}, {"batch", "19"}, {"strategy", "mma"}, {"rows", rows}});
            shapes.push_back({{"n", "32"}, {"k", "512"}, {"batch", "64"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
        }
        if (W == quant::GgmlType::q6_k) {
            // Staged tensor-core steps: every skew of a block in its window (K of 8 and 12
            // super-blocks), a K split whose slices take 2 and 3 steps, a partial last tile, both
            // matrices of SwiGLU with Q8_1 output, and more than 8 vectors.
            shapes.push_back({{"n", "40"}, {"k", "2048"}, {"batch", "8"}, {"strategy", "mma"}, {"stage", "1"}, {"ksplit", "3"}});
            shapes.push_back({{"n", "64"}, {"k", "1024"}, {"batch", "5"}, {"strategy", "mma"}, {"stage", "1"}, {"epilogue", "swiglu"},
                              {"out", "q8_1"}});
            shapes.push_back({{"n", "21"}, {"k", "3072"}, {"batch", "11"}, {"strategy", "mma"}, {"stage", "1"}, {"epilogue", "residual"}});
        }
    } else {
        shapes.push_back({{"n", "64"}, {"k", "256"}, {"batch", "4"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
    }
    // The full sizes (Llama-3-8B's products and output head), every strategy, 1 and 8 vectors.
    std::vector<ParamValues> gpu;
    const std::vector<std::pair<std::string, std::string>> full = {
        {"4096", "4096"}, {"1024", "4096"}, {"14336", "4096"}, {"4096", "14336"}, {"128256", "4096"}};
    for (const auto& [n, k] : full) {
        for (const char* strategy : {"dp4a", "fma", "mma"}) {
            if (f16 && std::string(strategy) == "dp4a") continue;
            const bool has_mma = W == quant::GgmlType::q4_k || W == quant::GgmlType::q6_k;
            if (!has_mma && std::string(strategy) == "mma") continue;
            for (const char* batch : {"1", "8"}) gpu.push_back({{"n", n}, {"k", k}, {"batch", batch}, {"strategy", strategy}});
        }
    }
    gpu.push_back({{"n", "14336"}, {"k", "4096"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
    gpu.push_back({{"n", "14336"}, {"k", "4096"}, {"batch", "8"}, {"strategy", f16 ? "fma" : "dp4a"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
    gpu.push_back({{"n", "4096"}, {"k", "14336"}, {"epilogue", "residual"}});
    if (W == quant::GgmlType::q4_k || W == quant::GgmlType::q6_k) {
        gpu.push_back({{"n", "14336"}, {"k", "4096"}, {"batch", "8"}, {"strategy", "mma"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
        gpu.push_back({{"n", "4096"}, {"k", "14336"}, {"batch", "5"}, {"strategy", "mma"}, {"epilogue", "residual"},
                       {"rows", W == quant::GgmlType::q4_k ? "32" : "16"}});
        gpu.push_back({{"n", "4096"}, {"k", "14336"}, {"batch", "64"}, {"epilogue", "residual"}});
        gpu.push_back({{"n", "14336"}, {"k", "4096"}, {"batch", "32"}, {"epilogue", "swiglu"}, {"out", "q8_1"}});
    }
    if (W == quant::GgmlType::q6_k) {
        // The mma strategy with and without staged steps (staged is the default up to 8 vectors).
        gpu.push_back({{"n", "4096"}, {"k", "14336"}, {"batch", "8"}, {"strategy", "mma"}, {"stage", "0"}});
        gpu.push_back({{"n", "4096"}, {"k", "14336"}, {"batch", "64"}, {"strategy", "mma"}, {"stage", "1"}});
        for (const char* batch : {"8", "64"}) {
            gpu.push_back({{"n", "14336"}, {"k", "4096"}, {"batch", batch}, {"strategy", "mma"}, {"stage", "1"}, {"epilogue", "swiglu"},
                           {"out", "q8_1"}});
        }
        gpu.push_back({{"n", "4096"}, {"k", "14336"}, {"batch", "64"}, {"strategy", "mma"}, {"stage", "1"}, {"epilogue", "residual"}});
    }
    return {name,
            fmt::format("y[batch][n] = W x for {} weights W[n x k] in GGUF row layout: strategies, batches, "
                        "SwiGLU/residual epilogues, f32 or Q8_1 output", t.name),
            {ParamSpec{"n", ParamKind::integer, "outputs (rows of W)", "4096", 1, 1 << 20, {}},
             ParamSpec{"k", ParamKind::integer,
                       f16 ? "inputs (columns of W), a multiple of 8"
                           : fmt::format("inputs (columns of W), a multiple of {}", std::max(32, t.block_elements)),
                       "4096", 1, 1 << 20, {}},
             ParamSpec{"batch", ParamKind::integer, "input vectors, 1..8 (up to 64 with mma; weights are read once for all)", "1", 1,
                       kGemvMaxBatch, {}},
             ParamSpec{"strategy", ParamKind::choice,
                       "auto (see plan_gemv), dp4a (Q8_1 activations, integer dot products), fma (f32 activations) "
                       "or mma (Q4_K, Q6_K: Q8_1 activations, tensor cores)",
                       "auto", 0, 0, f16 ? std::vector<std::string>{"auto", "fma"} : std::vector<std::string>{"auto", "dp4a", "fma", "mma"}},
             ParamSpec{"epilogue", ParamKind::choice, "store (y = Wx), residual (y += Wx), swiglu (y = silu(Wg x) * Wu x)",
                       "store", 0, 0, {"store", "residual", "swiglu"}},
             ParamSpec{"out", ParamKind::choice, "output format: f32, or Q8_1 activations for the next product",
                       "f32", 0, 0, {"f32", "q8_1"}},
             ParamSpec{"warps", ParamKind::integer, "tuning: warps per CTA (0: chosen by plan_gemv)", "0", 0, 32, {}},
             ParamSpec{"rows", ParamKind::integer, "tuning: rows per warp, 1..8 (mma: 16 or 32; 0: chosen)", "0", 0, 32, {}},
             ParamSpec{"unroll", ParamKind::integer, "tuning: units in flight per lane (0: chosen)", "0", 0, 16, {}},
             ParamSpec{"unit", ParamKind::integer, "tuning: weights per unit, Q4_K/Q6_K 32 or 64 (0: chosen)", "0", 0, 64, {}},
             ParamSpec{"ksplit", ParamKind::integer, "tuning: warps sharing each row's K range (0: chosen)", "0", 0, 16, {}},
             ParamSpec{"wcache", ParamKind::choice, "tuning: L1 policy of the weight loads (auto: chosen)", "auto", 0, 0,
                       {"auto", "normal", "evict_first", "no_allocate"}},
             ParamSpec{"l2fetch", ParamKind::integer, "tuning: L2 prefetch size of the weight loads, 0, 64, 128 or 256 bytes (-1: chosen)",
                       "-1", -1, 256, {}},
             ParamSpec{"ahead", ParamKind::integer, "tuning: groups of steps whose weights are prefetched into L2 ahead (dp4a, fma; -1: chosen)",
                       "-1", -1, 16, {}},
             ParamSpec{"ctas-per-sm", ParamKind::integer,
                       "tuning: CTAs per SM asked of ptxas, which sets its register budget (dp4a, fma; 0: none; -1: chosen)",
                       "-1", -1, 32, {}},
             ParamSpec{"stage", ParamKind::integer,
                       "tuning: Q6_K, K a multiple of 1024, units of 32 or the mma strategy: stage each step's blocks in shared memory (1), or not (0; -1: chosen)",
                       "-1", -1, 1, {}}},
            shapes,
            gpu};
}

template <quant::GgmlType W> GemvFamily<W> GemvFamily<W>::from(const ParamValues& v) {
    GemvShape s;
    s.weights = W;
    s.n = static_cast<uint32_t>(v.integer("n"));
    s.k = static_cast<uint32_t>(v.integer("k"));
    s.batch = static_cast<uint32_t>(v.integer("batch"));
    s.strategy = parse_strategy(v.text("strategy"));
    s.epilogue = parse_epilogue(v.text("epilogue"));
    s.output = v.text("out") == "q8_1" ? GemvOutput::q8_1 : GemvOutput::f32;
    s.warps = static_cast<uint32_t>(v.integer("warps"));
    s.rows_per_warp = static_cast<uint32_t>(v.integer("rows"));
    s.unroll = static_cast<uint32_t>(v.integer("unroll"));
    s.unit_weights = static_cast<uint32_t>(v.integer("unit"));
    s.k_split = static_cast<uint32_t>(v.integer("ksplit"));
    if (v.text("wcache") != "auto") s.weight_cache = v.text("wcache");
    s.l2_fetch = static_cast<int>(v.integer("l2fetch"));
    s.prefetch_ahead = static_cast<int>(v.integer("ahead"));
    s.ctas_per_sm = static_cast<int>(v.integer("ctas-per-sm"));
    s.stage = static_cast<int>(v.integer("stage"));
    GemvFamily<W> f;
    static_cast<Gemv&>(f) = Gemv::make(s);
    return f;
}

template struct GemvFamily<quant::GgmlType::q4_k>;
template struct GemvFamily<quant::GgmlType::q6_k>;
template struct GemvFamily<quant::GgmlType::q8_0>;
template struct GemvFamily<quant::GgmlType::f16>;

}  // namespace kernels
