// flash_attention as a family: parameters, launch shape, buffers and the CPU reference. The
// generator and its thread mapping are in flash_attention_build.cpp.
#include "kernels/flash_attention.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "kernels/shape.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"

namespace kernels {

FamilyInfo FlashAttention::info() {
    auto integer = [](std::string name, std::string help, std::string def, double lo, double hi) {
        return ParamSpec{std::move(name), ParamKind::integer, std::move(help), std::move(def), lo, hi, {}};
    };
    FamilyInfo f{
        "flash_attention",
        "causal prefill attention of n queries at positions [p0, p0 + n) over the f16 KV cache [0, p0 + n), "
        "p0 read from device memory; mma.sync tensor cores, online softmax, f32 output",
        {integer("head-dim", "elements per head: 64, 128 or 256", "128", 64, 256),
         integer("q-heads", "query heads", "32", 1, 128),
         integer("kv-heads", "KV heads (divides q-heads)", "8", 1, 128),
         integer("len", "n, the number of new queries in the chunk", "256", 1, 65536),
         integer("pos", "p0, the chunk's first position (prepare_inputs writes it to the device)", "0", 0, 1 << 20),
         integer("max-seq", "positions the cache holds", "4096", 1, 1 << 20),
         ParamSpec{"scale", ParamKind::real, "score scale; 0 means 1/sqrt(head-dim)", "0", 0, 1000, {}},
         ParamSpec{"warps", ParamKind::choice, "warps per CTA, 16 query rows each", "4", 0, 0, {"1", "2", "4", "8"}}},
        {
            // Interpreter shapes: lengths that are not multiples of 16 or of the tiles, GQA 1, 4 and 8,
            // whole prompts and later chunks.
            ParamValues{{"head-dim", "64"}, {"q-heads", "2"}, {"kv-heads", "2"}, {"len", "1"}, {"pos", "0"},
                        {"max-seq", "16"}, {"warps", "1"}},
            ParamValues{{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "1"}, {"len", "37"}, {"pos", "0"},
                        {"max-seq", "40"}, {"warps", "2"}},
            ParamValues{{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"len", "5"}, {"pos", "70"},
                        {"max-seq", "80"}, {"warps", "1"}},
            ParamValues{{"head-dim", "128"}, {"q-heads", "2"}, {"kv-heads", "2"}, {"len", "64"}, {"pos", "0"},
                        {"max-seq", "64"}, {"warps", "4"}, {"scale", "0.05"}},
            ParamValues{{"head-dim", "128"}, {"q-heads", "4"}, {"kv-heads", "1"}, {"len", "19"}, {"pos", "50"},
                        {"max-seq", "100"}, {"warps", "1"}},
            ParamValues{{"head-dim", "64"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"len", "33"}, {"pos", "9"},
                        {"max-seq", "48"}, {"warps", "2"}},
        },
        {
            ParamValues{{"head-dim", "128"}, {"q-heads", "32"}, {"kv-heads", "8"}, {"len", "4096"}, {"pos", "0"},
                        {"max-seq", "4096"}},
            ParamValues{{"head-dim", "128"}, {"q-heads", "32"}, {"kv-heads", "8"}, {"len", "2048"}, {"pos", "0"},
                        {"max-seq", "2048"}},
            ParamValues{{"head-dim", "64"}, {"q-heads", "32"}, {"kv-heads", "4"}, {"len", "300"}, {"pos", "1000"},
                        {"max-seq", "2048"}},
            ParamValues{{"head-dim", "256"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"len", "200"}, {"pos", "77"},
                        {"max-seq", "512"}},
        }};
    return f;
}

FlashAttention FlashAttention::from(const ParamValues& v) {
    FlashAttention a;
    a.head_dim = static_cast<uint32_t>(v.integer("head-dim"));
    a.q_heads = static_cast<uint32_t>(v.integer("q-heads"));
    a.kv_heads = static_cast<uint32_t>(v.integer("kv-heads"));
    a.len = static_cast<uint32_t>(v.integer("len"));
    a.pos = static_cast<uint32_t>(v.integer("pos"));
    a.max_seq = static_cast<uint32_t>(v.integer("max-seq"));
    a.scale = v.real("scale");
    a.warps = static_cast<uint32_t>(v.integer("warps"));
    if (a.head_dim != 64 && a.head_dim != 128 && a.head_dim != 256) {
        throw ptxsmith::Error(fmt::format("flash_attention: --head-dim {} is not supported (64, 128 or 256)", a.head_dim));
    }
    if (a.q_heads % a.kv_heads != 0) {
        throw ptxsmith::Error(fmt::format("flash_attention: --q-heads {} is not a multiple of --kv-heads {}", a.q_heads,
                                          a.kv_heads));
    }
    if (uint64_t{a.pos} + a.len > a.max_seq) {
        throw ptxsmith::Error(fmt::format("flash_attention: --pos {} + --len {} exceeds --max-seq {}", a.pos, a.len,
                                          a.max_seq));
    }
    return a;
}

std::string FlashAttention::name() const {
    return fmt::format("flash_attention_d{}_qh{}_kvh{}_n{}_p{}_ms{}_s{}_w{}", head_dim, q_heads, kv_heads, len, pos, max_seq,
                       name_number(scale), warps);
}

double FlashAttention::effective_scale() const { return scale > 0 ? scale : 1.0 / std::sqrt(double(head_dim)); }

LaunchConfig FlashAttention::launch_config() const {
    const uint32_t pitch = 2 * head_dim + 16;
    LaunchConfig c;
    c.grid = {(len + query_rows() - 1) / query_rows(), q_heads, 1};
    c.block = {32 * warps, 1, 1};
    c.shared_bytes = (query_rows() + 4 * key_rows()) * pitch;  // Q tile, two stages of K and V tiles
    return c;
}

std::vector<ArgSpec> FlashAttention::args() const {
    const size_t cache = size_t{kv_heads} * max_seq * head_dim;
    const size_t rows = size_t{len} * q_heads * head_dim;
    return {{"q", Role::input, ptxgen::Type::f16, rows},
            {"k_cache", Role::input, ptxgen::Type::f16, cache},
            {"v_cache", Role::input, ptxgen::Type::f16, cache},
            {"pos", Role::input, ptxgen::Type::s32, 1},
            {"out", Role::output, ptxgen::Type::f32, rows}};
}

void FlashAttention::prepare_inputs(std::vector<HostBuffer>& args, uint64_t) const {
    args[3].as<int32_t>()[0] = static_cast<int32_t>(pos);
}

void FlashAttention::reference(std::vector<HostBuffer>& args) const {
    const uint16_t* q = args[0].as<uint16_t>();
    const uint16_t* k = args[1].as<uint16_t>();
    const uint16_t* v = args[2].as<uint16_t>();
    const int64_t p0 = args[3].as<int32_t>()[0];
    float* out = args[4].as<float>();
    const uint32_t group = q_heads / kv_heads;
    const double s = effective_scale();
    const size_t D = head_dim;
    auto f16 = [](uint16_t h) { return double{ptxgen::f16_bits_to_f32(h)}; };
    std::vector<double> w;
    std::vector<double> acc(D);
    for (uint32_t i = 0; i < len; ++i) {
        for (uint32_t h = 0; h < q_heads; ++h) {
            const uint16_t* qi = q + (size_t{i} * q_heads + h) * D;
            const size_t kv_base = size_t{h / group} * max_seq * D;
            const auto keys = static_cast<size_t>(p0 + i + 1);
            w.assign(keys, 0.0);
            double mx = -INFINITY;
            for (size_t j = 0; j < keys; ++j) {
                double dot = 0;
                for (size_t d = 0; d < D; ++d) dot += f16(qi[d]) * f16(k[kv_base + j * D + d]);
                w[j] = dot * s;
                mx = std::max(mx, w[j]);
            }
            double sum = 0;
            for (double& x : w) sum += (x = std::exp(x - mx));
            std::fill(acc.begin(), acc.end(), 0.0);
            for (size_t j = 0; j < keys; ++j)
                for (size_t d = 0; d < D; ++d) acc[d] += w[j] * f16(v[kv_base + j * D + d]);
            float* oi = out + (size_t{i} * q_heads + h) * D;
            for (size_t d = 0; d < D; ++d) oi[d] = static_cast<float>(acc[d] / sum);
        }
    }
}

BenchWork FlashAttention::bench_work() const {
    // Query i (at position pos + i) attends to pos + i + 1 keys: QK^T and PV take 2 * head_dim
    // flops each per query-key pair and query head.
    const uint64_t pairs = uint64_t{len} * pos + uint64_t{len} * (len + 1) / 2;
    const uint64_t keys = uint64_t{pos} + len;
    const uint64_t rows = uint64_t{len} * q_heads * head_dim;
    BenchWork w;
    w.flops = 4 * pairs * head_dim * q_heads;
    w.bytes = rows * 2 + 2 * uint64_t{kv_heads} * keys * head_dim * 2 + rows * 4 + 4;
    w.what = fmt::format("causal: 4 x head_dim flops per attended query-key pair and query head ({} pairs per head); "
                         "bytes: q, K and V rows [0, {}) once, out",
                         pairs, keys);
    return w;
}

std::string FlashAttention::notes() const {
    return fmt::format("Br {} query rows ({} warps) x Bc {} keys per tile, Q fragments {}, cp.async double buffer; "
                       "sm_75 emulates mma.sync with shuffles",
                       query_rows(), warps, key_rows(), head_dim <= 128 ? "in registers" : "reloaded from shared memory");
}

}  // namespace kernels
