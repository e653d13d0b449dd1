// forward_check: runs a GGUF model on the generated kernels (a GPU, or the interpreter) beside
// the CPU reference and reports how far apart they are. The GPU script (tests/gpu/llm.sh) runs
// it on the tiny and 1b models, and once under compute-sanitizer.
//
//   forward_check MODEL [--device cuda|interp] [--steps S] [--tokens N] [--prompts P] [--no-graph]
//                       [--long-from POS]   (decode attention's long-cache variant from POS; default 24)
//
// 1. Layer by layer: S decode steps with every traced output (model/forward.hpp) of both passes
//    compared, max |kernel - reference| over max |reference| per point; worst per point printed.
// 2. Greedy: P random prompts (lengths 1, 5, 17, ...), N greedy tokens each, both passes fed the
//    reference's choice: the kernels' choice (argmax on the device) must be the reference's, or a
//    near tie (its reference logit within the logit tolerance of the best), and near ties rare.
// Exit status 0 when every point is within its tolerance and every compared token agrees.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/kernel_forward.hpp"
#include "gguf/gguf.hpp"
#include "model/cpu_forward.hpp"
#include "model/hparams.hpp"
#include "model/weights.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace {

// The same tolerances as tests/llm/test_kernel_forward.cpp (which says why), relative to the
// reference's largest value.
double tolerance(const std::string& point) { return point == "ffn_act" ? 0.08 : 0.05; }

double relative_error(std::span<const float> ref, std::span<const float> got) {
    if (ref.size() != got.size()) return INFINITY;
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (!std::isfinite(got[i]) || !std::isfinite(ref[i])) return INFINITY;
        worst = std::max(worst, std::abs(static_cast<double>(ref[i]) - got[i]));
        scale = std::max(scale, std::abs(static_cast<double>(ref[i])));
    }
    return worst / scale;
}

int argmax(std::span<const float> l) { return static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin()); }

int number(const std::string& option, const std::string& text) {
    int v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) throw ptxsmith::Error(fmt::format("{} needs a number, got '{}'", option, text));
    return v;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::fputs("usage: forward_check MODEL [--device cuda|interp] [--steps S] [--tokens N] [--prompts P] [--no-graph] [--long-from POS]\n", stderr);
        return 2;
    }
    std::string device = "cuda";
    int steps = 3, tokens = 32, prompts = 3;
    bool graph = true;
    int long_from = 24;  // both decode attention variants (and graphs) take turns in the greedy runs
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&] {
            if (i + 1 >= argc) throw ptxsmith::Error(a + " needs a value");
            return std::string(argv[++i]);
        };
        if (a == "--device") device = value();
        else if (a == "--steps") steps = number(a, value());
        else if (a == "--tokens") tokens = number(a, value());
        else if (a == "--prompts") prompts = number(a, value());
        else if (a == "--no-graph") graph = false;
        else if (a == "--long-from") long_from = number(a, value());
        else throw ptxsmith::Error("unknown option " + a);
    }
    const llm::gguf::Reader reader = llm::gguf::Reader::open(argv[1]);
    const llm::model::HParams hp = llm::model::HParams::from_gguf(reader);
    const llm::model::Weights weights = llm::model::Weights::locate(reader, hp);
    auto dev = device == "interp" ? ptxsmith::runtime::open_interp_device()
                                  : ptxsmith::runtime::open_device(ptxsmith::runtime::parse_device_kind(device));
    const int ctx = std::min(hp.n_ctx_train, 128);
    llm::engine::KernelForwardOptions options;
    options.ctx = ctx;
    options.max_chunk = 16;
    options.graph = graph;
    options.long_attention_from = long_from;
    llm::engine::KernelForward kf(*dev, weights, options);
    llm::model::CpuForward cpu(weights, ctx);
    fmt::print("{}: {} layers, device {} ({})\n", argv[1], hp.n_layer, dev->info().kind, dev->info().name);
    bool ok = true;

    // 1. Layer by layer.
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int32_t> pick(0, hp.n_vocab - 1);
    std::map<std::string, double> worst;  // point -> worst relative error over layers and steps
    int compared_points = 0;
    for (int pos = 0; pos < steps; ++pos) {
        std::map<std::string, std::vector<float>> ref;
        cpu.set_trace([&](std::string_view p, int layer, std::span<const float> v) { ref[fmt::format("{}/{}", p, layer)].assign(v.begin(), v.end()); });
        kf.set_trace([&](std::string_view p, int layer, std::span<const float> v) {
            const std::string key = fmt::format("{}/{}", p, layer);
            const auto it = ref.find(key);
            if (it == ref.end()) {
                fmt::print("step {}: {} has no reference point\n", pos, key);
                ok = false;
                return;
            }
            const double e = relative_error(it->second, v);
            double& w = worst[std::string(p)];
            w = std::max(w, e);
            ++compared_points;
            if (!(e <= tolerance(std::string(p)))) {
                fmt::print("step {}: {} differs by {:.4g} of its scale (tolerance {})\n", pos, key, e, tolerance(std::string(p)));
                ok = false;
            }
        });
        const int32_t t = pick(rng);
        cpu.step(t, pos);  // first: the kernel forward's trace compares against these values
        kf.step(t, pos);
    }
    cpu.set_trace(nullptr);
    kf.set_trace(nullptr);
    fmt::print("layer by layer: {} points over {} steps; worst relative error per point:\n", compared_points, steps);
    for (const auto& [p, e] : worst) fmt::print("  {:<8} {:.5f} (tolerance {})\n", p, e, tolerance(p));
    if (compared_points != steps * (hp.n_layer * 10 + 3)) {
        fmt::print("expected {} points\n", steps * (hp.n_layer * 10 + 3));
        ok = false;
    }

    // 2. Greedy tokens, both passes continuing with the reference's choice.
    int steps_compared = 0, same = 0;
    for (int pi = 0; pi < prompts; ++pi) {
        const int len = 1 + 4 * pi + (pi > 1 ? 4 * pi : 0);
        std::vector<int32_t> prompt(static_cast<size_t>(len));
        for (int32_t& t : prompt) t = pick(rng);
        cpu.reset();
        kf.reset();
        std::span<const float> rl = cpu.prefill(prompt, 0);
        std::vector<float> ref(rl.begin(), rl.end());
        const std::span<const float> gl = kf.prefill(prompt, 0);
        const double e = relative_error(ref, gl);
        if (!(e <= tolerance("logits"))) {
            fmt::print("prompt {} ({} tokens): prefill logits differ by {:.4g}\n", pi, len, e);
            ok = false;
        }
        int got_id = argmax(gl);
        for (int i = 0; i < tokens && len + i < ctx; ++i) {
            const int ref_id = argmax(ref);
            double scale = 1e-30;
            for (const float v : ref) scale = std::max(scale, std::abs(static_cast<double>(v)));
            if (got_id < 0 || got_id >= hp.n_vocab ||
                ref[static_cast<size_t>(ref_id)] - ref[static_cast<size_t>(got_id)] > tolerance("logits") * scale) {
                fmt::print("prompt {} token {}: kernels chose {}, the reference {} (not a near tie)\n", pi, i, got_id, ref_id);
                ok = false;
            }
            same += got_id == ref_id;
            ++steps_compared;
            rl = cpu.step(ref_id, len + i);
            ref.assign(rl.begin(), rl.end());
            got_id = kf.step_greedy(ref_id, len + i);
        }
    }
    fmt::print("greedy: {} of {} choices are the reference's own, the rest near ties\n", same, steps_compared);
    if (same < steps_compared * 9 / 10) {
        fmt::print("too many near ties\n");
        ok = false;
    }
    fmt::print("{}\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "forward_check: {}\n", e.what());
    return 1;
}
