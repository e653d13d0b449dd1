// Q8_0 and F16 units, and make_codec.
//
// Q8_0: a unit is one 34-byte block (f16 d, 32 int8 quants): 32 weights. Blocks are 2-byte
// aligned, so the quants are assembled from aligned words (load_words_align2 / assemble_words_align2).
// F16: a unit is 8 consecutive weights (16 bytes; rows are 16-byte aligned because K % 8 == 0).
#include <fmt/format.h>

#include "gemv_codec.hpp"
#include "ptxgen/error.hpp"

namespace kernels::gemv {

using namespace ptxgen;

std::unique_ptr<Codec> make_q4k_codec(bool dp4a, uint32_t k, uint32_t unit_weights);
std::unique_ptr<Codec> make_q6k_codec(bool dp4a, uint32_t k, uint32_t unit_weights, uint32_t staged_warps);

namespace {

class Q8_0Codec final : public Codec {
public:
    Q8_0Codec(bool dp4a, uint32_t k) : dp4a_(dp4a), k_(k) {}
    uint32_t units_per_row() const override { return k_ / 32; }

    void load_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit, WeightUnit& w) const override {
        GlobalPtr block = b.index(row, unit, 34);
        w.h.push_back(b.ld<f16>(block[0], {.nc = true}));
        load_words_align2(b, b.offset(block, uint64_t{2}), 8, weight_load, w.raw);  // 9 words and a selector
    }

    void prefetch_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit) const override {
        b.prefetch_l2(b.index(row, unit, 34)[0]);
    }

    void load_inputs(KernelBuilder& b, const Inputs& in, uint32_t vec, Reg<u32> unit, InputUnit& x) const override {
        if (dp4a_) {
            GlobalPtr q = b.index(in.xq, unit, 32);
            for (int64_t half : {0, 16}) {
                for (Reg<s32> r : b.ld_v<s32, 4>(q[int64_t{vec} * k_ + half])) x.q.push_back(r);
            }
            GlobalPtr ds = b.index(in.xds, unit, 4);
            x.f.push_back(half2_to_f32(b, b.ld<u32>(ds[int64_t{vec} * (k_ / 32) * 4])).first);
        } else {
            GlobalPtr xs = b.index(in.x, unit, 128);
            for (int64_t v4 = 0; v4 < 8; ++v4) {
                for (Reg<f32> r : b.ld_v<f32, 4>(xs[(int64_t{vec} * k_ + 4 * v4) * 4])) x.f.push_back(r);
            }
        }
    }

    void decode(KernelBuilder& b, Reg<u32>, WeightUnit& w) const override {
        w.f.push_back(b.cvt<f32>(w.h[0]));
        w.q = assemble_words_align2(b, w.raw, 0, 8, w.raw[9]);
        if (!dp4a_) {
            // A signed byte plus 128 is its unsigned byte with the top bit flipped.
            for (Reg<u32> word : w.q) {
                for (Reg<f32> v : bytes_to_f32(b, b.xor_(word, 0x80808080u), 128.0f)) w.f.push_back(v);
            }
        }
    }

    void accumulate(KernelBuilder& b, const WeightUnit& w, const InputUnit& x, Reg<f32> acc) const override {
        if (dp4a_) {
            Reg<f32> dot = b.cvt<f32>(dot_words(b, w.q, 0, x.q, 0, 8, true), {.round = Round::rn});
            b.mov(acc, b.fma(b.mul(w.f[0], x.f[0]), dot, acc));
        } else {
            Reg<f32> qx = b.mov<f32>(0.0f);
            for (size_t i = 0; i < 32; ++i) qx = b.fma(w.f[1 + i], x.f[i], qx);
            b.mov(acc, b.fma(w.f[0], qx, acc));
        }
    }

private:
    bool dp4a_;
    uint32_t k_;
};

class F16Codec final : public Codec {
public:
    explicit F16Codec(uint32_t k) : k_(k) {}
    uint32_t units_per_row() const override { return k_ / 8; }

    void load_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit, WeightUnit& w) const override {
        for (Reg<u32> r : b.ld_v<u32, 4>(b.index(row, unit, 16)[0], weight_load)) w.raw.push_back(r);
    }

    void prefetch_weights(KernelBuilder& b, GlobalPtr row, Reg<u32> unit) const override {
        b.prefetch_l2(b.index(row, unit, 16)[0]);
    }

    void load_inputs(KernelBuilder& b, const Inputs& in, uint32_t vec, Reg<u32> unit, InputUnit& x) const override {
        GlobalPtr xs = b.index(in.x, unit, 32);
        for (int64_t v4 = 0; v4 < 2; ++v4) {
            for (Reg<f32> r : b.ld_v<f32, 4>(xs[(int64_t{vec} * k_ + 4 * v4) * 4])) x.f.push_back(r);
        }
    }

    void decode(KernelBuilder& b, Reg<u32>, WeightUnit& w) const override {
        for (Reg<u32> word : w.raw) {
            auto [lo, hi] = half2_to_f32(b, word);
            w.f.push_back(lo);
            w.f.push_back(hi);
        }
    }

    void accumulate(KernelBuilder& b, const WeightUnit& w, const InputUnit& x, Reg<f32> acc) const override {
        for (size_t i = 0; i < 8; ++i) b.mov(acc, b.fma(w.f[i], x.f[i], acc));
    }

private:
    uint32_t k_;
};

}  // namespace

namespace {

std::unique_ptr<Codec> make_format_codec(quant::GgmlType weights, const GemvPlan& plan, uint32_t k) {
    const bool dp4a = plan.strategy == GemvStrategy::dp4a;
    switch (weights) {
    case quant::GgmlType::q4_k: return make_q4k_codec(dp4a, k, plan.unit_weights);
    case quant::GgmlType::q6_k: return make_q6k_codec(dp4a, k, plan.unit_weights, plan.staged ? plan.warps : 0);
    case quant::GgmlType::q8_0: return std::make_unique<Q8_0Codec>(dp4a, k);
    case quant::GgmlType::f16:
        if (dp4a) throw ptxsmith::Error("f16 weights have no dp4a strategy (use --strategy fma)");
        return std::make_unique<F16Codec>(k);
    default: break;
    }
    return nullptr;
}

}  // namespace

std::unique_ptr<Codec> make_codec(quant::GgmlType weights, const GemvPlan& plan, uint32_t k) {
    if (std::unique_ptr<Codec> c = make_format_codec(weights, plan, k)) {
        return c;
    }
    throw ptxsmith::Error(fmt::format("no matrix-vector codec for weight type {}", quant::traits(weights).name));
}

}  // namespace kernels::gemv
