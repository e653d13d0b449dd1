// embed_rows: y[t][0..k) = dequantize(table row ids[t]), the token-embedding lookup. The table
// holds `vocab` rows of k values of `type` (q4_k, q6_k, q8_0 or f16), each
// quant::row_bytes(type, k) bytes, back to back. Values are bit-identical to
// kernels::quant::dequantize: the same f32 operations in the same order.
// An id outside [0, vocab) reads nothing: its output row is all NaN (0x7fc00000), so that a bad
// token shows up downstream instead of reading another buffer.
#pragma once

#include "kernels/family.hpp"
#include "kernels/quant.hpp"

namespace kernels {

struct EmbedRows {
    quant::GgmlType type = quant::GgmlType::q4_k;
    uint32_t k = 4096;      // a multiple of 256 (q4_k, q6_k), 32 (q8_0) or 4 (f16)
    uint32_t vocab = 1024;
    uint32_t tokens = 8;

    static FamilyInfo info();
    static EmbedRows from(const ParamValues& v);
    std::string name() const;
    ptxgen::Kernel build(const ptxgen::Target& target) const;
    LaunchConfig launch_config() const;
    std::vector<ArgSpec> args() const;
    void reference(std::vector<HostBuffer>& args) const;
    double tolerance() const { return 0; }
    // The table: quant::quantize of random normal values; the ids: random, in [0, vocab).
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const;
    std::string notes() const;
    // The `tokens` table rows read, the ids and y: not the whole table.
    BenchWork bench_work() const;

    // Values each thread produces: 8 (q4_k), 16 (q6_k) or 4 (q8_0, f16).
    uint32_t values_per_thread() const;
    uint32_t threads_per_row() const { return k / values_per_thread(); }
    uint32_t block() const;
};

}  // namespace kernels
