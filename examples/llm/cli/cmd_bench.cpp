// `ptxsmith-llm bench`: prompt processing and generation speed of a model, like llama-bench, with
// the ceiling measured in the same run: the weight bytes one generated token reads, over the
// device's copy bandwidth.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/forward_choice.hpp"
#include "engine/kernel_forward.hpp"
#include "gguf/gguf.hpp"
#include "kernels/registry.hpp"
#include "model/hparams.hpp"
#include "model/weights.hpp"
#include "ptxgen/error.hpp"

namespace llm::cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxsmith-llm bench -m FILE [options]

Measures prompt processing (pp) and generation (tg) speed in tokens/s, mean and standard deviation
over --reps runs after one warm-up run, on random prompt tokens:
  pp    a prompt of -p tokens from an empty cache, to its last token's logits
  tg    -n greedy tokens after a prompt of -p tokens (the device picks each token)
  ttft  time to first token: the prompt's time, as pp measures it
For the generated-kernel devices it also reports:
  jit   seconds to generate and compile every kernel the model needs, cold (an empty module
        cache) and warm (from the disk cache a first load left), each split into building the
        kernels and compiling or loading them
  bound the generation speed if every weight byte one token reads streamed at the copy
        bandwidth measured in the same run (read plus written bytes of a device-to-device copy,
        over its time), and the fraction of it tg reached

options:
  -m, --model FILE     the GGUF model
  -p, --n-prompt N     prompt tokens (default 512)
  -n, --n-gen N        generated tokens (default 128)
  --reps R             timed runs of each test (default 3)
  --device D           auto, cuda, interp or cpu, as for generate (default auto)
  --chunk N            prefill rows per pass, a power of two from 8 to 4096 (default 512)
  --no-graph           launch the decode step's kernels one by one instead of a graph
  --no-jit             skip the cold and warm JIT measurement (it loads the model twice more)
  --profile            per-kernel device times of one decode step, by family
  --json               print the results as one JSON object on stdout
)";

struct Options {
    std::string model, device = "auto";
    int n_prompt = 512, n_gen = 128, reps = 3, chunk = 512;
    bool graph = true, jit = true, profile = false, json = false;
};

int parse_int(const std::string& option, const std::string& text) {
    int value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end) throw UsageError{fmt::format("{} needs a number, got '{}'", option, text)};
    return value;
}

std::optional<Options> parse(const Args& args) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kHelp, stdout);
            return std::nullopt;
        }
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw UsageError{fmt::format("{} needs a value", a)};
            return args[++i];
        };
        if (a == "-m" || a == "--model") o.model = value();
        else if (a == "-p" || a == "--n-prompt") o.n_prompt = parse_int(a, value());
        else if (a == "-n" || a == "--n-gen") o.n_gen = parse_int(a, value());
        else if (a == "--reps") o.reps = parse_int(a, value());
        else if (a == "--device") o.device = value();
        else if (a == "--chunk") o.chunk = parse_int(a, value());
        else if (a == "--no-graph") o.graph = false;
        else if (a == "--no-jit") o.jit = false;
        else if (a == "--profile") o.profile = true;
        else if (a == "--json") o.json = true;
        else throw UsageError{fmt::format("unknown option '{}'", a)};
    }
    if (o.model.empty()) throw UsageError{"a model is needed: -m FILE"};
    if (o.n_prompt < 1) throw UsageError{fmt::format("-p {}: the prompt needs at least one token", o.n_prompt)};
    if (o.n_gen < 0) throw UsageError{fmt::format("-n {} is negative", o.n_gen)};
    if (o.reps < 1) throw UsageError{fmt::format("--reps {}: at least one run is needed", o.reps)};
    if (std::find(std::begin(kDevices), std::end(kDevices), o.device) == std::end(kDevices)) {
        throw UsageError{fmt::format("--device {} is not one of auto, cuda, interp, cpu", o.device)};
    }
    return o;
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Stat {
    std::vector<double> values;
    double mean() const {
        double s = 0;
        for (const double v : values) s += v;
        return values.empty() ? 0 : s / static_cast<double>(values.size());
    }
    double stdev() const {
        if (values.size() < 2) return 0;
        const double m = mean();
        double s = 0;
        for (const double v : values) s += (v - m) * (v - m);
        return std::sqrt(s / static_cast<double>(values.size() - 1));
    }
};

// Device-to-device copy bandwidth: read plus written bytes over the median time of a copy of
// four times the L2 (at least 256 MiB; 16 MiB on the interpreter).
double copy_gb_per_s(ptxsmith::runtime::Device& dev) {
    const ptxsmith::runtime::DeviceInfo& info = dev.info();
    const uint64_t bytes = info.kind == "interp" ? uint64_t{16} << 20 : std::max<uint64_t>(uint64_t{256} << 20, 4 * info.l2_bytes);
    ptxsmith::runtime::DeviceBuffer src(dev, bytes, "bench copy source"), dst(dev, bytes, "bench copy destination");
    dev.memset(src.address(), 0x5a, bytes);
    std::vector<double> ms;
    for (int i = 0; i < 11; ++i) ms.push_back(dev.measure_ms([&] { dev.copy(dst.address(), src.address(), bytes); }));
    std::sort(ms.begin() + 1, ms.end());  // the first is a warm-up
    return 2.0 * static_cast<double>(bytes) / (ms[6] * 1e-3) / 1e9;
}

// The registered family a kernel name belongs to (the longest family name it starts with).
std::string family_of(const std::string& kernel) {
    std::string best = kernel;
    size_t best_len = 0;
    for (const kernels::Family& f : kernels::registry()) {
        const std::string& n = f.info.name;
        if (n.size() > best_len && kernel.rfind(n + "_", 0) == 0) best = n, best_len = n.size();
    }
    return best;
}

// A JSON string literal of text (quotes, backslashes and control characters escaped).
std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\', out += c;
        else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else out += c;
    }
    return out + "\"";
}

// Removes a directory tree when it goes out of scope, errors ignored.
struct RemoveOnExit {
    std::filesystem::path dir;
    ~RemoveOnExit() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

std::string json_stat(const Stat& s) {
    return fmt::format("{{\"mean\": {:.3f}, \"stdev\": {:.3f}, \"runs\": [{:.3f}]}}", s.mean(), s.stdev(), fmt::join(s.values, ", "));
}

}  // namespace

int cmd_bench(const Args& args) {
    const std::optional<Options> parsed = parse(args);
    if (!parsed) return 0;
    const Options o = *parsed;

    const gguf::Reader reader = gguf::Reader::open(o.model);
    const model::HParams hp = model::HParams::from_gguf(reader);
    const model::Weights weights = model::Weights::locate(reader, hp);
    const int ctx = o.n_prompt + o.n_gen + 1;
    if (hp.n_ctx_train > 0 && ctx > hp.n_ctx_train) {
        throw ptxsmith::Error(fmt::format("-p {} and -n {} need {} positions; the model's context holds {}", o.n_prompt, o.n_gen, ctx,
                                          hp.n_ctx_train));
    }
    ForwardSettings fs;
    fs.device = o.device;
    fs.ctx = ctx;
    fs.max_chunk = o.chunk;
    fs.graph = o.graph;

    // Cold and warm JIT: two loads through a fresh, empty disk cache; the second is kept.
    // Each as {generating the kernels, compiling (cold) or loading them from the cache (warm)}.
    std::optional<std::pair<double, double>> jit_cold, jit_warm;
    auto jit_parts = [](const ForwardChoice& c) {
        return std::pair{c.kernels->kernels().generate_seconds(), c.kernels->kernels().jit_seconds()};
    };
    RemoveOnExit cache_dir;  // declared before `choice`, so removed after the forward is gone
    ForwardChoice choice;
    const bool kernel_device = o.device != "cpu";
    if (o.jit && kernel_device) {
        cache_dir.dir = std::filesystem::temp_directory_path() / fmt::format("ptxsmith-bench-cache-{}", std::random_device{}());
        std::filesystem::create_directories(cache_dir.dir);
        ::setenv("PTXSMITH_CACHE_DIR", cache_dir.dir.c_str(), 1);
        fs.quiet = true;
        {
            ForwardChoice cold = make_forward(weights, fs);
            if (cold.kernels) jit_cold = jit_parts(cold);
        }
        fs.quiet = false;
        choice = make_forward(weights, fs);
        if (choice.kernels) jit_warm = jit_parts(choice);
    } else {
        choice = make_forward(weights, fs);
    }
    model::Forward& f = *choice.forward;
    fmt::print(stderr, "model: {} ({}, {} layers), device {}\n", o.model, hp.arch, hp.n_layer, choice.described);

    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, hp.n_vocab - 1);
    std::vector<int32_t> prompt(static_cast<size_t>(o.n_prompt));
    for (int32_t& t : prompt) t = pick(rng);

    Stat pp, tg, ttft;
    for (int rep = 0; rep <= o.reps; ++rep) {  // rep 0 warms up
        f.reset();
        auto start = Clock::now();
        const std::span<const float> logits = f.prefill(prompt, 0);
        const double prompt_s = seconds_since(start);
        int32_t id = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        start = Clock::now();
        for (int i = 0; i < o.n_gen; ++i) id = f.step_greedy(id, o.n_prompt + i);
        const double gen_s = seconds_since(start);
        if (rep == 0) continue;
        pp.values.push_back(o.n_prompt / prompt_s);
        ttft.values.push_back(prompt_s * 1e3);
        if (o.n_gen > 0) tg.values.push_back(o.n_gen / gen_s);
        if (!o.json) fmt::print(stderr, "run {}/{}: pp {:.1f} tokens/s, tg {:.1f} tokens/s\n", rep, o.reps, pp.values.back(),
                                tg.values.empty() ? 0.0 : tg.values.back());
    }

    std::optional<double> copy_gbps;
    uint64_t token_bytes = 0;
    if (choice.kernels) {
        copy_gbps = copy_gb_per_s(*choice.device);
        token_bytes = choice.kernels->decode_weight_bytes();
    }
    const double bound = copy_gbps ? *copy_gbps * 1e9 / static_cast<double>(token_bytes) : 0;

    // The profile of one decode step, summed by kernel (one name: one shape) and by family.
    struct Row {
        std::string name;
        double ms = 0;
        int launches = 0;
        uint64_t bytes = 0;
    };
    std::vector<Row> by_kernel, by_family;
    double profiled_ms = 0;
    if (o.profile && choice.kernels) {
        f.reset();
        f.prefill(prompt, 0);
        std::map<std::string, Row> kernel_rows, family_rows;
        for (const engine::KernelTime& t : choice.kernels->profile_step(prompt[0], o.n_prompt)) {
            for (auto [rows, key] : {std::pair{&kernel_rows, t.kernel}, std::pair{&family_rows, family_of(t.kernel)}}) {
                Row& r = (*rows)[key];
                r.name = key;
                r.ms += t.ms;
                ++r.launches;
                r.bytes += t.weight_bytes;
            }
            profiled_ms += t.ms;
        }
        for (const auto& [_, r] : kernel_rows) by_kernel.push_back(r);
        for (const auto& [_, r] : family_rows) by_family.push_back(r);
        for (auto* rows : {&by_kernel, &by_family}) std::sort(rows->begin(), rows->end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
        f.reset();
    }
    const auto weight_rate = [&](const Row& r) {
        return r.bytes == 0 ? std::string() : fmt::format("{:6.0f} GB/s of weights ({:.0f}% of copy)", static_cast<double>(r.bytes) / (r.ms * 1e-3) / 1e9,
                                                         copy_gbps ? 100.0 * static_cast<double>(r.bytes) / (r.ms * 1e-3) / 1e9 / *copy_gbps : 0.0);
    };

    if (o.json) {
        std::string out = fmt::format("{{\"model\": {}, \"device\": {}, \"n_prompt\": {}, \"n_gen\": {}, \"reps\": {}, "
                                      "\"pp_tokens_per_s\": {}, \"tg_tokens_per_s\": {}, \"ttft_ms\": {}",
                                      json_string(o.model), json_string(choice.described), o.n_prompt, o.n_gen, o.reps, json_stat(pp), json_stat(tg), json_stat(ttft));
        if (jit_cold) {
            const auto warm = jit_warm.value_or(std::pair{0.0, 0.0});
            out += fmt::format(", \"jit_cold_s\": {:.4f}, \"jit_warm_s\": {:.4f}, \"jit_cold_generate_s\": {:.4f}, "
                               "\"jit_warm_generate_s\": {:.4f}",
                               jit_cold->first + jit_cold->second, warm.first + warm.second, jit_cold->first, warm.first);
        }
        if (copy_gbps) {
            out += fmt::format(", \"copy_gb_per_s\": {:.1f}, \"weight_bytes_per_token\": {}, \"bound_tokens_per_s\": {:.1f}, "
                               "\"tg_fraction_of_bound\": {:.4f}",
                               *copy_gbps, token_bytes, bound, tg.mean() / bound);
        }
        if (!by_kernel.empty()) {
            std::vector<std::string> parts;
            for (const Row& r : by_kernel) {
                parts.push_back(fmt::format("\"{}\": {{\"ms\": {:.4f}, \"launches\": {}, \"weight_bytes\": {}}}", r.name, r.ms, r.launches, r.bytes));
            }
            out += fmt::format(", \"decode_step_profile_ms\": {:.4f}, \"decode_step_profile\": {{{}}}", profiled_ms, fmt::join(parts, ", "));
        }
        fmt::print("{}}}\n", out);
    } else {
        fmt::print("model        {}\ndevice       {}\n", o.model, choice.described);
        fmt::print("pp{:<10} {:10.1f} ± {:.1f} tokens/s\n", o.n_prompt, pp.mean(), pp.stdev());
        if (o.n_gen > 0) fmt::print("tg{:<10} {:10.1f} ± {:.1f} tokens/s (after a {}-token prompt)\n", o.n_gen, tg.mean(), tg.stdev(), o.n_prompt);
        fmt::print("ttft         {:10.2f} ± {:.2f} ms\n", ttft.mean(), ttft.stdev());
        if (jit_cold) {
            const auto warm = jit_warm.value_or(std::pair{0.0, 0.0});
            fmt::print("jit          cold {:.3f} s (generate {:.3f} + compile {:.3f}), warm {:.3f} s (generate {:.3f} + load {:.3f}) "
                       "({} kernels)\n",
                       jit_cold->first + jit_cold->second, jit_cold->first, jit_cold->second, warm.first + warm.second, warm.first,
                       warm.second, choice.kernels->kernels().size());
        }
        if (copy_gbps) {
            fmt::print("bound        {:.1f} tokens/s: {:.1f} MB of weights per token at {:.1f} GB/s copy bandwidth; tg reaches {:.1f}%\n",
                       bound, static_cast<double>(token_bytes) / 1e6, *copy_gbps, 100.0 * tg.mean() / bound);
        }
        if (!by_family.empty()) {
            fmt::print("decode step at position {}, by kernel family (each kernel's launches in turn from a graph, at least 20):\n", o.n_prompt);
            for (const Row& r : by_family) {
                fmt::print("  {:<20} {:9.1f} us {:5.1f}%  {:4} launches  {}\n", r.name, r.ms * 1e3, 100.0 * r.ms / profiled_ms, r.launches, weight_rate(r));
            }
            fmt::print("  {:<20} {:9.1f} us (the step itself: {:.1f} us per token)\n", "sum", profiled_ms * 1e3, tg.values.empty() ? 0.0 : 1e6 / tg.mean());
            fmt::print("by kernel:\n");
            for (const Row& r : by_kernel) {
                fmt::print("  {:8.1f} us {:4} x {:7.2f} us  {}  {}\n", r.ms * 1e3, r.launches, r.ms * 1e3 / r.launches, r.name, weight_rate(r));
            }
        }
    }
    std::fflush(stdout);
    return 0;
}

}  // namespace llm::cli
