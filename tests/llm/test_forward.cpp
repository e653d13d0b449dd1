// The CPU reference forward pass: its building blocks against hand-computed values, whole models
// against closed forms and against an independent double-precision recomputation, the KV cache
// against recomputing from scratch, and the weight checks' errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "model/cpu_forward.hpp"
#include "model/hparams.hpp"
#include "model/maker.hpp"
#include "model/weights.hpp"
#include "model_test_support.hpp"

using model_test::GgmlType;
using model_test::Model;
using model_test::Spec;

namespace {

using Vec = std::vector<double>;

// A model file parsed back, its hyper-parameters and its weights, kept together.
struct Loaded {
    llm::gguf::Reader reader;
    llm::model::HParams hp;
    llm::model::Weights weights;

    explicit Loaded(Model& m)
        : reader(llm::gguf::Reader::parse(m.to_gguf(), "test-model.gguf")),
          hp(llm::model::HParams::from_gguf(reader)),
          weights(llm::model::Weights::locate(reader, hp)) {}
    Loaded(const Loaded&) = delete;
};

std::vector<float> run_all(llm::model::CpuForward& f, const std::vector<int32_t>& tokens, int position) {
    std::span<const float> l;
    for (int p = 0; p <= position; ++p) l = f.step(tokens[static_cast<size_t>(p)], p);
    return {l.begin(), l.end()};
}

// --- an independent reference, in double, over the whole sequence at once -----------------

Vec matvec(const Model& m, const std::string& name, const Vec& x) {
    const auto& t = m.tensors.at(name);
    const size_t cols = t.ne[0], rows = t.ne.size() > 1 ? t.ne[1] : 1;
    REQUIRE(x.size() == cols);
    Vec y(rows, 0.0);
    for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < cols; ++c) y[r] += static_cast<double>(t.values[r * cols + c]) * x[c];
    }
    return y;
}

Vec rms_norm(const Vec& x, const std::vector<float>& w, double eps) {
    double ss = 0;
    for (const double v : x) ss += v * v;
    const double s = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
    return y;
}

void add_bias(const Model& m, const std::string& name, Vec& x) {
    if (!m.has(name)) return;
    for (size_t i = 0; i < x.size(); ++i) x[i] += m.at(name)[i];
}

// Rotates each listed pair of one head as a complex number by position * frequency.
void rope_head(double* head, int pos, const Spec& s, const std::vector<float>* freq_factors, bool neox) {
    const int pairs = s.n_rot / 2;
    for (int i = 0; i < pairs; ++i) {
        const int a = neox ? i : 2 * i, b = neox ? i + pairs : 2 * i + 1;
        double theta = pos * std::pow(static_cast<double>(s.rope_base), -2.0 * i / s.n_rot);
        if (freq_factors) theta /= (*freq_factors)[static_cast<size_t>(i)];
        const std::complex<double> z = std::complex<double>(head[a], head[b]) * std::polar(1.0, theta);
        head[a] = z.real();
        head[b] = z.imag();
    }
}

// The logits at every position of `tokens`.
std::vector<Vec> reference_logits(const Model& m, const std::vector<int32_t>& tokens, bool neox) {
    const Spec& s = m.spec;
    const size_t n = tokens.size(), hd = static_cast<size_t>(s.head_dim);
    const std::vector<float>* ff = m.has("rope_freqs.weight") ? &m.at("rope_freqs.weight") : nullptr;
    std::vector<Vec> x(n);
    for (size_t p = 0; p < n; ++p) {
        const auto& e = m.at("token_embd.weight");
        x[p].assign(e.begin() + static_cast<long>(static_cast<size_t>(tokens[p]) * static_cast<size_t>(s.n_embd)),
                    e.begin() + static_cast<long>(static_cast<size_t>(tokens[p] + 1) * static_cast<size_t>(s.n_embd)));
    }
    for (int l = 0; l < s.n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        std::vector<Vec> q(n), k(n), v(n);
        for (size_t p = 0; p < n; ++p) {
            const Vec h = rms_norm(x[p], m.at(b + "attn_norm.weight"), s.eps);
            q[p] = matvec(m, b + "attn_q.weight", h);
            k[p] = matvec(m, b + "attn_k.weight", h);
            v[p] = matvec(m, b + "attn_v.weight", h);
            add_bias(m, b + "attn_q.bias", q[p]);
            add_bias(m, b + "attn_k.bias", k[p]);
            add_bias(m, b + "attn_v.bias", v[p]);
            for (int h2 = 0; h2 < s.n_head; ++h2) rope_head(&q[p][static_cast<size_t>(h2) * hd], static_cast<int>(p), s, ff, neox);
            for (int h2 = 0; h2 < s.n_head_kv; ++h2) rope_head(&k[p][static_cast<size_t>(h2) * hd], static_cast<int>(p), s, ff, neox);
        }
        for (size_t p = 0; p < n; ++p) {
            Vec att(static_cast<size_t>(s.n_head) * hd, 0.0);
            for (int h2 = 0; h2 < s.n_head; ++h2) {
                const size_t qo = static_cast<size_t>(h2) * hd;
                const size_t ko = static_cast<size_t>(h2 / (s.n_head / s.n_head_kv)) * hd;
                Vec w(p + 1);
                for (size_t t = 0; t <= p; ++t) {
                    double d = 0;
                    for (size_t i = 0; i < hd; ++i) d += q[p][qo + i] * k[t][ko + i];
                    w[t] = d / std::sqrt(static_cast<double>(hd));
                }
                const double top = *std::max_element(w.begin(), w.end());
                double z = 0;
                for (double& wt : w) z += (wt = std::exp(wt - top));
                for (size_t t = 0; t <= p; ++t) {
                    for (size_t i = 0; i < hd; ++i) att[qo + i] += w[t] / z * v[t][ko + i];
                }
            }
            const Vec o = matvec(m, b + "attn_output.weight", att);
            for (size_t i = 0; i < o.size(); ++i) x[p][i] += o[i];
            const Vec h = rms_norm(x[p], m.at(b + "ffn_norm.weight"), s.eps);
            Vec g = matvec(m, b + "ffn_gate.weight", h);
            const Vec u = matvec(m, b + "ffn_up.weight", h);
            for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
            const Vec d = matvec(m, b + "ffn_down.weight", g);
            for (size_t i = 0; i < d.size(); ++i) x[p][i] += d[i];
        }
    }
    std::vector<Vec> logits;
    const std::string head = m.has("output.weight") ? "output.weight" : "token_embd.weight";
    for (size_t p = 0; p < n; ++p) logits.push_back(matvec(m, head, rms_norm(x[p], m.at("output_norm.weight"), s.eps)));
    return logits;
}

double max_abs_diff(std::span<const float> a, const Vec& b) {
    REQUIRE(a.size() == b.size());
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}

std::vector<int32_t> random_tokens(std::mt19937& rng, int n, int vocab) {
    std::uniform_int_distribution<int32_t> d(0, vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int32_t& x : t) x = d(rng);
    return t;
}

// Compares the forward's logits at every position with the reference.
void check_against_reference(Model m, bool neox, uint64_t seed, double tolerance = 1e-4) {
    std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
    const Loaded model(m);
    CHECK(model.hp.rope_style == (neox ? llm::model::RopeStyle::neox : llm::model::RopeStyle::normal));
    const std::vector<int32_t> tokens = random_tokens(rng, 7, m.spec.n_vocab);
    const std::vector<Vec> want = reference_logits(m, tokens, neox);
    llm::model::CpuForward f(model.weights, 16, 2);
    for (size_t p = 0; p < tokens.size(); ++p) {
        const std::span<const float> got = f.step(tokens[p], static_cast<int>(p));
        CAPTURE(p);
        CHECK(max_abs_diff(got, want[p]) < tolerance);
    }
}

// 1 x n_embd identity-like matrices for the closed-form models.
std::vector<float> identity(int n, float scale = 1.0f) {
    std::vector<float> v(static_cast<size_t>(n * n), 0.0f);
    for (int i = 0; i < n; ++i) v[static_cast<size_t>(i * n + i)] = scale;
    return v;
}

// One layer, n_embd = n_head * head_dim, n_vocab = n_embd; every norm weight 1, output the
// identity: logits = rmsnorm(final hidden state). The caller sets the attention and FFN.
Model closed_form_model(int n_embd, int n_head, int n_rot) {
    Model m;
    m.spec.n_embd = n_embd;
    m.spec.n_head = m.spec.n_head_kv = n_head;
    m.spec.head_dim = n_embd / n_head;
    m.spec.n_rot = n_rot;
    m.spec.n_ff = n_embd;
    m.spec.n_vocab = n_embd;
    const auto u = static_cast<uint64_t>(n_embd);
    std::mt19937 rng(std::random_device{}());
    m.set("token_embd.weight", {u, u}, model_test::random_values(rng, u * u, 1.0f));
    m.set("output_norm.weight", {u}, std::vector<float>(u, 1.0f));
    m.set("output.weight", {u, u}, identity(n_embd));
    m.set("blk.0.attn_norm.weight", {u}, std::vector<float>(u, 1.0f));
    m.set("blk.0.ffn_norm.weight", {u}, std::vector<float>(u, 1.0f));
    for (const char* t : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
        m.set(std::string("blk.0.") + t + ".weight", {u, u}, std::vector<float>(u * u, 0.0f));
    }
    return m;
}

Vec embedding(const Model& m, int32_t token) {
    const auto& e = m.at("token_embd.weight");
    const auto n = static_cast<size_t>(m.spec.n_embd);
    return Vec(e.begin() + static_cast<long>(static_cast<size_t>(token) * n), e.begin() + static_cast<long>(static_cast<size_t>(token + 1) * n));
}

Vec unit_norm(const Vec& x, double eps) { return rms_norm(x, std::vector<float>(x.size(), 1.0f), eps); }

}  // namespace

TEST_CASE("rms_norm, rope, softmax and swiglu on hand-computed values") {
    std::vector<float> out(4);
    llm::model::cpu::rms_norm(std::vector<float>{1, -1, 1, -1}, std::vector<float>{1, 2, 3, 4}, 0.0f, out);
    CHECK(out == std::vector<float>{1, -2, 3, -4});
    llm::model::cpu::rms_norm(std::vector<float>{3, 4, 0, 0}, std::vector<float>{1, 1, 1, 1}, 0.0f, out);  // rms 2.5
    CHECK(out[0] == doctest::Approx(1.2));
    CHECK(out[1] == doctest::Approx(1.6));

    // Frequencies of a quarter and a half turn per position.
    const std::vector<double> inv_freq = {std::numbers::pi / 2, std::numbers::pi};
    std::vector<float> normal = {1, 0, 1, 2, 5, 6};  // pairs (0,1) and (2,3); 4 and 5 untouched
    llm::model::cpu::rope(normal, 1, inv_freq, llm::model::RopeStyle::normal);
    const std::vector<double> want_normal = {0, 1, -1, -2, 5, 6};
    for (size_t i = 0; i < normal.size(); ++i) CHECK(normal[i] == doctest::Approx(want_normal[i]));
    std::vector<float> neox = {1, 1, 0, 2, 5, 6};  // pairs (0,2) and (1,3)
    llm::model::cpu::rope(neox, 1, inv_freq, llm::model::RopeStyle::neox);
    const std::vector<double> want_neox = {0, -1, 1, -2, 5, 6};
    for (size_t i = 0; i < neox.size(); ++i) CHECK(neox[i] == doctest::Approx(want_neox[i]));

    std::vector<float> s = {0.0f, std::log(3.0f), -INFINITY, 1000.0f};
    llm::model::cpu::softmax(std::span(s).first(3));
    CHECK(s[0] == doctest::Approx(0.25));
    CHECK(s[1] == doctest::Approx(0.75));
    CHECK(s[2] == 0.0f);
    std::vector<float> big = {1000.0f, 1000.0f};
    llm::model::cpu::softmax(big);
    CHECK(big[0] == doctest::Approx(0.5));

    std::vector<float> gate = {0.0f, 2.0f, -3.0f};
    llm::model::cpu::swiglu(gate, std::vector<float>{5.0f, 0.5f, 2.0f});
    CHECK(gate[0] == 0.0f);
    CHECK(gate[1] == doctest::Approx(2.0 / (1 + std::exp(-2.0)) * 0.5));
    CHECK(gate[2] == doctest::Approx(-3.0 / (1 + std::exp(3.0)) * 2.0));
}

TEST_CASE("zero queries and keys: attention is the running mean of the values") {
    // wq = wk = 0: every score is 0, so position p attends uniformly to 0..p. wv = wo = I and a
    // zero FFN leave x_p = e_p + mean_{s<=p} rmsnorm(e_s); the logits are rmsnorm(x_p).
    Model m = closed_form_model(8, 2, 4);
    m.set("blk.0.attn_v.weight", {8, 8}, identity(8));
    m.set("blk.0.attn_output.weight", {8, 8}, identity(8));
    const Loaded model(m);
    llm::model::CpuForward f(model.weights, 8, 1);
    const std::vector<int32_t> tokens = {3, 5, 3, 0, 7};
    Vec sum(8, 0.0);
    for (size_t p = 0; p < tokens.size(); ++p) {
        const Vec e = embedding(m, tokens[p]);
        const Vec n = unit_norm(e, m.spec.eps);
        for (size_t i = 0; i < 8; ++i) sum[i] += n[i];
        Vec x = e;
        for (size_t i = 0; i < 8; ++i) x[i] += sum[i] / static_cast<double>(p + 1);
        CAPTURE(p);
        CHECK(max_abs_diff(f.step(tokens[p], static_cast<int>(p)), unit_norm(x, m.spec.eps)) < 1e-5);
    }
}

TEST_CASE("zero attention and an identity FFN: the layer adds silu(a n) * n") {
    Model m = closed_form_model(8, 2, 4);
    const float a = 1.7f;
    m.set("blk.0.ffn_gate.weight", {8, 8}, identity(8, a));
    m.set("blk.0.ffn_up.weight", {8, 8}, identity(8));
    m.set("blk.0.ffn_down.weight", {8, 8}, identity(8));
    const Loaded model(m);
    llm::model::CpuForward f(model.weights, 4, 1);
    for (const int32_t token : {0, 6}) {
        f.reset();
        const Vec e = embedding(m, token);
        const Vec n = unit_norm(e, m.spec.eps);
        Vec x = e;
        for (size_t i = 0; i < 8; ++i) x[i] += a * n[i] / (1 + std::exp(-a * n[i])) * n[i];
        CHECK(max_abs_diff(f.step(token, 0), unit_norm(x, m.spec.eps)) < 1e-5);
    }
}

TEST_CASE("the forward matches an independent recomputation: llama, normal RoPE, GQA") {
    const uint64_t seed = std::random_device{}();
    CAPTURE(seed);
    Spec s;  // 4 query heads sharing 2 KV heads, full rotary
    check_against_reference(model_test::random_model(s, seed), false, seed);
    s.n_layer = 2;
    s.n_rot = 2;  // partial rotary: half of each head turns
    s.tied = true;
    check_against_reference(model_test::random_model(s, seed + 1), false, seed);
    s.rope_freqs = true;
    s.n_rot = 4;
    check_against_reference(model_test::random_model(s, seed + 2), false, seed);
}

TEST_CASE("the forward matches an independent recomputation: qwen2, neox RoPE, Q/K/V biases") {
    const uint64_t seed = std::random_device{}();
    CAPTURE(seed);
    Spec s;
    s.arch = "qwen2";
    s.biases = true;
    s.n_layer = 2;
    s.rope_base = 1000000.0f;
    check_against_reference(model_test::random_model(s, seed), true, seed);
    s.head_dim = 8;   // head_dim != n_embd / n_head, partial rotary
    s.n_rot = 4;
    check_against_reference(model_test::random_model(s, seed + 1), true, seed);
}

TEST_CASE("quantised weights: the forward reads every row where the file puts it") {
    const uint64_t seed = std::random_device{}();
    CAPTURE(seed);
    Spec s;
    s.n_embd = 256;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.head_dim = 64;
    s.n_rot = 64;
    s.n_ff = 512;
    s.n_vocab = 40;
    for (const GgmlType t : {GgmlType::q8_0, GgmlType::q4_k, GgmlType::q6_k, GgmlType::f16}) {
        s.matrix_type = t;
        CAPTURE(kernels::quant::traits(t).name);
        check_against_reference(model_test::random_model(s, seed), false, seed, 2e-4);
    }
}

TEST_CASE("the KV cache gives the logits of recomputing from scratch, on any thread count") {
    const uint64_t seed = std::random_device{}();
    CAPTURE(seed);
    std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
    Spec s;
    s.n_layer = 2;
    s.n_embd = 64;
    s.n_ff = 96;
    s.head_dim = 16;
    s.n_rot = 16;
    s.n_vocab = 300;
    Model m = model_test::random_model(s, seed);
    const Loaded model(m);
    const std::vector<int32_t> tokens = random_tokens(rng, 10, s.n_vocab);

    llm::model::CpuForward cached(model.weights, 16, 2);
    for (size_t p = 0; p < tokens.size(); ++p) {
        const std::span<const float> l = cached.step(tokens[p], static_cast<int>(p));
        const std::vector<float> got(l.begin(), l.end());
        for (const float v : got) REQUIRE(std::isfinite(v));
        llm::model::CpuForward fresh(model.weights, 16, p % 2 ? 1 : 3);
        const std::span<const float> want = fresh.prefill(std::span(tokens).first(p + 1), 0);
        CAPTURE(p);
        CHECK(std::equal(got.begin(), got.end(), want.begin(), want.end()));  // bit for bit
    }

    // Going back: position 4 again with another token, then on from there.
    std::vector<int32_t> other = tokens;
    other[4] = (tokens[4] + 1) % s.n_vocab;
    const std::span<const float> back = cached.step(other[4], 4);
    CHECK(cached.positions() == 5);
    llm::model::CpuForward fresh(model.weights, 16, 1);
    const std::vector<float> want = run_all(fresh, other, 4);
    CHECK(std::equal(back.begin(), back.end(), want.begin(), want.end()));

    cached.reset();
    CHECK(cached.positions() == 0);
    const std::span<const float> again = cached.prefill(tokens, 0);
    llm::model::CpuForward fresh2(model.weights, 16, 2);
    const std::vector<float> want2 = run_all(fresh2, tokens, static_cast<int>(tokens.size()) - 1);
    CHECK(std::equal(again.begin(), again.end(), want2.begin(), want2.end()));
}

TEST_CASE("the maker's tiny model: finite logits, the same on every run and thread count") {
    const std::filesystem::path dir = std::filesystem::path(PTXSMITH_BINARY_DIR) / "forward_tiny";
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "tiny.gguf").string();
    llm::model::MakerOptions options;
    options.seed = std::random_device{}();
    CAPTURE(options.seed);
    llm::model::make_model(options, path);
    const llm::gguf::Reader reader = llm::gguf::Reader::open(path);
    const llm::model::HParams hp = llm::model::HParams::from_gguf(reader);
    const llm::model::Weights weights = llm::model::Weights::locate(reader, hp);
    CHECK(weights.layers.size() == 2);

    std::mt19937 rng(static_cast<std::mt19937::result_type>(options.seed));
    const std::vector<int32_t> tokens = random_tokens(rng, 8, hp.n_vocab);
    llm::model::CpuForward one(weights, 64, 1), two(weights, 64, 2);
    for (size_t p = 0; p < tokens.size(); ++p) {
        const std::vector<float> a = [&] {
            const std::span<const float> l = one.step(tokens[p], static_cast<int>(p));
            return std::vector<float>(l.begin(), l.end());
        }();
        const std::span<const float> b = two.step(tokens[p], static_cast<int>(p));
        REQUIRE(a.size() == static_cast<size_t>(hp.n_vocab));
        CHECK(std::all_of(a.begin(), a.end(), [](float v) { return std::isfinite(v); }));
        CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
        // Not degenerate: the logits differ between tokens.
        CHECK(*std::max_element(a.begin(), a.end()) > *std::min_element(a.begin(), a.end()));
    }
}

TEST_CASE("the forward refuses tokens, positions and contexts out of range") {
    Model m = model_test::random_model(Spec{}, 1);
    const Loaded model(m);
    CHECK_THROWS_AS(llm::model::CpuForward(model.weights, 0), ptxsmith::Error);
    CHECK_THROWS_AS(llm::model::CpuForward(model.weights, m.spec.context + 1), ptxsmith::Error);
    llm::model::CpuForward f(model.weights, 4, 1);
    CHECK_THROWS_AS(f.step(-1, 0), ptxsmith::Error);
    CHECK_THROWS_AS(f.step(m.spec.n_vocab, 0), ptxsmith::Error);
    CHECK_THROWS_AS(f.step(0, 1), ptxsmith::Error);  // position 0 has not run
    for (int p = 0; p < 4; ++p) f.step(1, p);
    CHECK_THROWS_AS(f.step(1, 4), ptxsmith::Error);  // the context is full
}

TEST_CASE("the weights are checked: missing, misshapen and unsupported tensors are named") {
    const auto error_of = [](Model m) {
        llm::gguf::Reader r = llm::gguf::Reader::parse(m.to_gguf(), "bad.gguf");
        const llm::model::HParams hp = llm::model::HParams::from_gguf(r);
        try {
            (void)llm::model::Weights::locate(r, hp);
        } catch (const ptxsmith::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    Model missing = model_test::random_model(Spec{}, 2);
    missing.tensors.erase("blk.0.ffn_up.weight");
    CHECK(error_of(missing) == "bad.gguf: tensor blk.0.ffn_up.weight is missing");

    Model wrong = model_test::random_model(Spec{}, 3);
    wrong.set("blk.0.attn_k.weight", {16, 16}, std::vector<float>(256, 0.0f));
    CHECK(error_of(wrong) == "bad.gguf: tensor blk.0.attn_k.weight has shape [16, 16] but the hyper-parameters call for [16, 8] "
                             "(n_embd, n_head_kv * head_dim)");

    Spec qs;
    qs.arch = "qwen2";
    Model no_bias = model_test::random_model(qs, 4);  // qwen2 needs Q/K/V biases
    CHECK(error_of(no_bias) == "bad.gguf: tensor blk.0.attn_q.bias is missing");

    // A q5_1 tensor (a type the forward passes do not read), written by hand; rows of 32 so
    // that the shape is right and the type is what fails.
    Spec wide;
    wide.n_embd = 32;
    wide.head_dim = 8;
    Model m32 = model_test::random_model(wide, 6);
    llm::gguf::Reader src = llm::gguf::Reader::parse(m32.to_gguf(), "x");
    llm::gguf::Writer w32;
    for (const auto& [k, v] : src.metadata()) w32.set(k, v);
    for (const auto& t : src.tensors()) {
        const auto d = src.tensor_data(t);
        if (t.name == "blk.0.ffn_gate.weight") {
            w32.add_tensor(t.name, t.ne, GgmlType::q5_1, std::vector<uint8_t>(kernels::quant::traits(GgmlType::q5_1).block_bytes * 24, 0));
        } else {
            w32.add_tensor(t.name, t.ne, t.type, std::vector<uint8_t>(d.begin(), d.end()));
        }
    }
    llm::gguf::Reader r = llm::gguf::Reader::parse(w32.to_bytes(), "q51.gguf");
    const llm::model::HParams hp = llm::model::HParams::from_gguf(r);
    try {
        (void)llm::model::Weights::locate(r, hp);
        FAIL("a q5_1 tensor was accepted");
    } catch (const ptxsmith::Error& e) {
        const std::string msg = e.what();
        CHECK(msg.find("q51.gguf: tensor blk.0.ffn_gate.weight has type q5_1, which ptxsmith's forward passes do not support") == 0);
    }
}
