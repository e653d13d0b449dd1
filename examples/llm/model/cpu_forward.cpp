#include "model/cpu_forward.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/quant.hpp"

namespace llm::model {

namespace {

// Below this many weights a product runs on the calling thread: waking workers costs more.
constexpr int64_t kParallelMinWeights = int64_t{1} << 15;

std::vector<float> to_f32(const TensorView& t) {
    std::vector<float> out(static_cast<size_t>(t.cols * t.rows));
    kernels::quant::dequantize(t.type, t.data.data(), out.data(), t.cols * t.rows);
    return out;
}

std::vector<float> to_f32(const std::optional<TensorView>& t) { return t ? to_f32(*t) : std::vector<float>{}; }

// Four independent partial sums keep the adds from waiting on each other; the order is fixed,
// so the result is too.
double dot(const float* a, const float* b, int64_t n) {
    double s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int j = 0; j < 4; ++j) s[j] += static_cast<double>(a[i + j]) * b[i + j];
    }
    for (; i < n; ++i) s[0] += static_cast<double>(a[i]) * b[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

void add_to(std::vector<float>& y, const std::vector<float>& x) {
    for (size_t i = 0; i < y.size(); ++i) y[i] += x[i];
}

}  // namespace

namespace cpu {

void rms_norm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out) {
    double sum_sq = 0;
    for (const float v : x) sum_sq += static_cast<double>(v) * v;
    const auto scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(x.size()) + eps));
    for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * scale * weight[i];
}

void rope(std::span<float> head, int pos, std::span<const double> inv_freq, RopeStyle style) {
    const size_t pairs = inv_freq.size();
    for (size_t i = 0; i < pairs; ++i) {
        const double angle = pos * inv_freq[i];
        const double c = std::cos(angle), s = std::sin(angle);
        const size_t ia = style == RopeStyle::neox ? i : 2 * i;
        const size_t ib = style == RopeStyle::neox ? i + pairs : 2 * i + 1;
        const double a = head[ia], b = head[ib];
        head[ia] = static_cast<float>(a * c - b * s);
        head[ib] = static_cast<float>(a * s + b * c);
    }
}

void softmax(std::span<float> x) {
    const float top = *std::max_element(x.begin(), x.end());
    double sum = 0;
    for (float& v : x) {
        v = static_cast<float>(std::exp(static_cast<double>(v) - top));
        sum += v;
    }
    for (float& v : x) v = static_cast<float>(v / sum);
}

void swiglu(std::span<float> gate, std::span<const float> up) {
    for (size_t i = 0; i < gate.size(); ++i) {
        const double g = gate[i];
        gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
    }
}

}  // namespace cpu

CpuForward::CpuForward(const Weights& weights, int ctx, unsigned threads)
    : w_(weights), hp_(weights.hparams), ctx_(ctx), pool_(threads) {
    if (ctx < 1 || (hp_.n_ctx_train > 0 && ctx > hp_.n_ctx_train)) {
        throw ptxsmith::Error(fmt::format("context of {} positions is outside 1 .. {} (the model's context length)", ctx, hp_.n_ctx_train));
    }
    if (hp_.n_head_kv < 1 || hp_.n_head % hp_.n_head_kv != 0) {
        throw ptxsmith::Error(fmt::format("{} attention heads cannot share {} KV heads evenly", hp_.n_head, hp_.n_head_kv));
    }
    if (hp_.n_rot < 0 || hp_.n_rot > hp_.head_dim || hp_.n_rot % 2 != 0) {
        throw ptxsmith::Error(fmt::format("rotary dimension {} is not an even number in 0 .. head_dim {}", hp_.n_rot, hp_.head_dim));
    }
    for (const LayerWeights& l : w_.layers) {
        layer_const_.push_back({to_f32(l.attn_norm), to_f32(l.ffn_norm), to_f32(l.bq), to_f32(l.bk), to_f32(l.bv)});
    }
    output_norm_ = to_f32(w_.output_norm);

    // Linear RoPE scaling divides positions by the factor, which is the same as dividing every
    // frequency by it; other scalings (YaRN, ...) would change the outputs silently if ignored.
    double scale = 1.0;
    if (hp_.rope_scaling_type == "linear" && hp_.rope_scaling_factor > 0) {
        scale = 1.0 / hp_.rope_scaling_factor;
    } else if (!hp_.rope_scaling_type.empty() && hp_.rope_scaling_type != "none" && hp_.rope_scaling_type != "linear") {
        throw ptxsmith::Error(fmt::format("RoPE scaling '{}' (rope.scaling.type) is not supported; supported: none, linear", hp_.rope_scaling_type));
    }
    const std::vector<float> freq_factors = to_f32(w_.rope_freqs);
    for (int i = 0; i < hp_.n_rot / 2; ++i) {
        const double f = scale * std::pow(static_cast<double>(hp_.rope_base), -2.0 * i / hp_.n_rot);
        inv_freq_.push_back(freq_factors.empty() ? f : f / freq_factors[static_cast<size_t>(i)]);
    }

    const auto ctx_rows = static_cast<size_t>(ctx);
    k_cache_.assign(w_.layers.size(), std::vector<float>(ctx_rows * static_cast<size_t>(hp_.kv_dim())));
    v_cache_.assign(w_.layers.size(), std::vector<float>(ctx_rows * static_cast<size_t>(hp_.v_dim())));
    x_.resize(static_cast<size_t>(hp_.n_embd));
    xn_.resize(x_.size());
    q_.resize(static_cast<size_t>(hp_.q_dim()));
    k_.resize(static_cast<size_t>(hp_.kv_dim()));
    v_.resize(static_cast<size_t>(hp_.v_dim()));
    att_.resize(static_cast<size_t>(hp_.n_head) * static_cast<size_t>(hp_.head_dim_v));
    ffn_gate_.resize(static_cast<size_t>(hp_.n_ff));
    ffn_up_.resize(ffn_gate_.size());
    logits_.resize(static_cast<size_t>(hp_.n_vocab));
}

void CpuForward::matvec(const TensorView& w, const float* x, float* y) {
    const auto rows_fn = [&](size_t begin, size_t end) {
        std::vector<float> row(static_cast<size_t>(w.cols));
        for (size_t r = begin; r < end; ++r) {
            kernels::quant::dequantize(w.type, w.row(static_cast<int64_t>(r)).data(), row.data(), w.cols);
            y[r] = static_cast<float>(dot(row.data(), x, w.cols));
        }
    };
    if (w.rows * w.cols < kParallelMinWeights) {
        rows_fn(0, static_cast<size_t>(w.rows));
    } else {
        pool_.for_rows(static_cast<size_t>(w.rows), rows_fn);
    }
}

void CpuForward::attention(int layer, int pos) {
    const auto hd = static_cast<size_t>(hp_.head_dim), hd_v = static_cast<size_t>(hp_.head_dim_v);
    const auto group = static_cast<size_t>(hp_.gqa_group());
    const size_t k_stride = k_.size(), v_stride = v_.size();  // one cached position
    const std::vector<float>& keys = k_cache_[static_cast<size_t>(layer)];
    const std::vector<float>& values = v_cache_[static_cast<size_t>(layer)];
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    // Heads are independent: one slice of heads per thread. Query head h reads KV head h / group.
    const auto heads_fn = [&](size_t begin, size_t end) {
        std::vector<float> scores(static_cast<size_t>(pos) + 1);
        for (size_t h = begin; h < end; ++h) {
            const float* q = q_.data() + h * hd;
            const size_t k_off = (h / group) * hd, v_off = (h / group) * hd_v;
            for (size_t t = 0; t < scores.size(); ++t) {
                scores[t] = static_cast<float>(dot(q, keys.data() + t * k_stride + k_off, static_cast<int64_t>(hd)) * scale);
            }
            cpu::softmax(scores);
            float* out = att_.data() + h * hd_v;
            for (size_t i = 0; i < hd_v; ++i) {
                double acc = 0;
                for (size_t t = 0; t < scores.size(); ++t) acc += static_cast<double>(scores[t]) * values[t * v_stride + v_off + i];
                out[i] = static_cast<float>(acc);
            }
        }
    };
    if (static_cast<int64_t>(pos + 1) * static_cast<int64_t>(hd + hd_v) * hp_.n_head < kParallelMinWeights) {
        heads_fn(0, static_cast<size_t>(hp_.n_head));
    } else {
        pool_.for_rows(static_cast<size_t>(hp_.n_head), heads_fn);
    }
}

std::span<const float> CpuForward::step(int32_t token, int pos) {
    if (token < 0 || token >= hp_.n_vocab) {
        throw ptxsmith::Error(fmt::format("token {} is outside the model's vocabulary of {} tokens", token, hp_.n_vocab));
    }
    if (pos < 0 || pos > filled_ || pos >= ctx_) {
        throw ptxsmith::Error(fmt::format("position {} cannot run: {} positions are cached, the context holds {}", pos, filled_, ctx_));
    }
    kernels::quant::dequantize(w_.token_embd.type, w_.token_embd.row(token).data(), x_.data(), hp_.n_embd);
    trace("embd", -1, x_);

    const auto hd = static_cast<size_t>(hp_.head_dim);
    for (size_t l = 0; l < w_.layers.size(); ++l) {
        const LayerWeights& lw = w_.layers[l];
        const LayerConst& lc = layer_const_[l];

        const int layer = static_cast<int>(l);
        cpu::rms_norm(x_, lc.attn_norm, hp_.norm_eps, xn_);
        trace("attn_in", layer, xn_);
        matvec(lw.wq, xn_.data(), q_.data());
        matvec(lw.wk, xn_.data(), k_.data());
        matvec(lw.wv, xn_.data(), v_.data());
        trace("q", layer, q_);
        trace("k", layer, k_);
        trace("v", layer, v_);
        if (!lc.bq.empty()) add_to(q_, lc.bq);
        if (!lc.bk.empty()) add_to(k_, lc.bk);
        if (!lc.bv.empty()) add_to(v_, lc.bv);
        for (size_t h = 0; h < static_cast<size_t>(hp_.n_head); ++h) cpu::rope(std::span(q_).subspan(h * hd, hd), pos, inv_freq_, hp_.rope_style);
        trace("q_rope", layer, q_);
        for (size_t h = 0; h < static_cast<size_t>(hp_.n_head_kv); ++h) cpu::rope(std::span(k_).subspan(h * hd, hd), pos, inv_freq_, hp_.rope_style);
        std::copy(k_.begin(), k_.end(), k_cache_[l].begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(pos) * k_.size()));
        std::copy(v_.begin(), v_.end(), v_cache_[l].begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(pos) * v_.size()));

        attention(layer, pos);
        trace("attn", layer, att_);
        matvec(lw.wo, att_.data(), xn_.data());
        add_to(x_, xn_);
        trace("x_attn", layer, x_);

        cpu::rms_norm(x_, lc.ffn_norm, hp_.norm_eps, xn_);
        trace("ffn_in", layer, xn_);
        matvec(lw.ffn_gate, xn_.data(), ffn_gate_.data());
        matvec(lw.ffn_up, xn_.data(), ffn_up_.data());
        cpu::swiglu(ffn_gate_, ffn_up_);
        trace("ffn_act", layer, ffn_gate_);
        matvec(lw.ffn_down, ffn_gate_.data(), xn_.data());
        add_to(x_, xn_);
        trace("x_ffn", layer, x_);
    }
    cpu::rms_norm(x_, output_norm_, hp_.norm_eps, xn_);
    trace("out_in", -1, xn_);
    matvec(w_.output, xn_.data(), logits_.data());
    trace("logits", -1, logits_);
    filled_ = pos + 1;
    return logits_;
}

std::span<const float> CpuForward::prefill(std::span<const int32_t> tokens, int start) {
    if (tokens.empty()) throw ptxsmith::Error("prefill needs at least one token");
    std::span<const float> logits;
    for (size_t i = 0; i < tokens.size(); ++i) logits = step(tokens[i], start + static_cast<int>(i));
    return logits;
}

}  // namespace llm::model
