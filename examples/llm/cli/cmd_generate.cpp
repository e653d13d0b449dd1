// `ptxsmith-llm generate`: loads a GGUF model, runs the prompt through a forward pass and
// streams sampled tokens to stdout as they come. stdout holds the generated text only; the
// load, prompt and generation timings go to stderr.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "cli/commands.hpp"
#include "cli/forward_choice.hpp"
#include "gguf/gguf.hpp"
#include "model/hparams.hpp"
#include "model/sampler.hpp"
#include "model/tokenizer_from_gguf.hpp"
#include "model/weights.hpp"
#include "tokenizer/stream_decoder.hpp"

namespace llm::cli {

namespace {

using namespace llm::model;

constexpr const char* kHelp = R"(usage: ptxsmith-llm generate -m FILE -p TEXT [options]

Generates text from a prompt and streams it to stdout; timings go to stderr.

options:
  -m, --model FILE        the GGUF model
  -p, --prompt TEXT       the prompt (special tokens such as <|begin_of_text|> are recognised)
  -n, --n-predict N       tokens to generate at most (default 128); stops earlier at the end of
                          text or when the context is full
  --device D              where the forward pass runs: cuda (the generated kernels on the GPU),
                          interp (the same kernels on the CPU interpreter: slow, for checking),
                          cpu (the f32 reference forward on CPU threads) or auto (default: cuda
                          when there is a GPU, else interp for models of at most 8M parameters,
                          else cpu; it says which it picked)
  --no-graph              cuda/interp: launch the decode step's kernels one by one instead of
                          replaying a captured graph
  --chunk N               cuda/interp: prompt tokens per prefill pass, a power of two from 8 to
                          4096 (default 512)
  --ctx C                 positions the KV cache holds (default: the model's context length,
                          at most 4096)
  --threads N             CPU threads for the cpu device (default 0: all)
  --seed S                random seed (default: a random one, printed on stderr)
  --temp T                temperature; 0 is greedy (default 0.8)
  --top-k K               keep the K most likely tokens; 0 turns it off (default 40)
  --top-p P               keep the smallest set of tokens holding mass P; 1 turns it off (default 0.95)
  --min-p P               drop tokens less likely than P times the top one; 0 turns it off (default 0.05)
  --repeat-penalty R      penalise tokens among the last --repeat-last-n; 1 turns it off (default 1)
  --repeat-last-n N       tokens the penalty looks back over (default 64)
)";

constexpr int kDefaultMaxCtx = 4096;

struct Options {
    std::string model, prompt, device = "auto";
    bool has_prompt = false;
    int n_predict = 128;
    int ctx = 0;  // 0: the default
    unsigned threads = 0;
    int chunk = 512;
    bool graph = true;
    bool has_seed = false;
    SamplerSettings sampling;
};

template <class T>
T parse_number(const std::string& option, const std::string& text) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end) throw UsageError{fmt::format("{} needs a number, got '{}'", option, text)};
    return value;
}

template <>
float parse_number<float>(const std::string& option, const std::string& text) {
    char* end = nullptr;
    const float value = std::strtof(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) throw UsageError{fmt::format("{} needs a number, got '{}'", option, text)};
    return value;
}

// nullopt after printing --help.
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
        else if (a == "-p" || a == "--prompt") o.prompt = value(), o.has_prompt = true;
        else if (a == "-n" || a == "--n-predict") o.n_predict = parse_number<int>(a, value());
        else if (a == "--device") o.device = value();
        else if (a == "--ctx") o.ctx = parse_number<int>(a, value());
        else if (a == "--threads") o.threads = parse_number<unsigned>(a, value());
        else if (a == "--chunk") o.chunk = parse_number<int>(a, value());
        else if (a == "--no-graph") o.graph = false;
        else if (a == "--seed") o.sampling.seed = parse_number<uint64_t>(a, value()), o.has_seed = true;
        else if (a == "--temp") o.sampling.temperature = parse_number<float>(a, value());
        else if (a == "--top-k") o.sampling.top_k = parse_number<int>(a, value());
        else if (a == "--top-p") o.sampling.top_p = parse_number<float>(a, value());
        else if (a == "--min-p") o.sampling.min_p = parse_number<float>(a, value());
        else if (a == "--repeat-penalty") o.sampling.repeat_penalty = parse_number<float>(a, value());
        else if (a == "--repeat-last-n") o.sampling.repeat_last_n = parse_number<int>(a, value());
        else throw UsageError{fmt::format("unknown option '{}'", a)};
    }
    if (std::find(std::begin(kDevices), std::end(kDevices), o.device) == std::end(kDevices)) {
        throw UsageError{fmt::format("--device {} is not one of {}", o.device, fmt::join(kDevices, ", "))};
    }
    if (o.model.empty()) throw UsageError{"a model is needed: -m FILE"};
    if (!o.has_prompt) throw UsageError{"a prompt is needed: -p TEXT"};
    if (o.n_predict < 0) throw UsageError{fmt::format("-n {} is negative", o.n_predict)};
    if (o.ctx < 0) throw UsageError{fmt::format("--ctx {} is negative", o.ctx)};
    try {
        o.sampling.validate();
    } catch (const ptxsmith::Error& e) {
        throw UsageError{e.what()};
    }
    return o;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Reads one byte of every page of the weights, so that loading a cold file happens here (with
// progress once it takes over a second) rather than inside the first forward step.
void touch_weights(const Weights& w, Clock::time_point start) {
    const uint64_t total = w.total_bytes();
    uint64_t done = 0;
    unsigned sink = 0;
    bool shown = false;
    auto last = Clock::now();
    for (const TensorView* t : w.all()) {
        for (size_t i = 0; i < t->data.size(); i += 4096) sink += t->data[i];
        done += t->data.size();
        if (seconds_since(start) > 1.0 && seconds_since(last) > 0.25) {
            fmt::print(stderr, "\rloading {}: {:3.0f}%", w.reader->path(), 100.0 * static_cast<double>(done) / static_cast<double>(total));
            std::fflush(stderr);
            last = Clock::now();
            shown = true;
        }
    }
    if (shown) fmt::print(stderr, "\rloading {}: 100%\n", w.reader->path());
    volatile unsigned keep = sink;  // the reads must not be optimised away
    (void)keep;
}

}  // namespace

int cmd_generate(const Args& args) {
    const std::optional<Options> parsed = parse(args);
    if (!parsed) return 0;
    Options o = *parsed;
    if (o.prompt.empty()) throw ptxsmith::Error("the prompt is empty: give some text with -p");
    if (!o.has_seed) o.sampling.seed = std::random_device{}();

    const auto load_start = Clock::now();
    const gguf::Reader reader = gguf::Reader::open(o.model);
    const HParams hp = HParams::from_gguf(reader);
    const Weights weights = Weights::locate(reader, hp);
    const std::unique_ptr<Tokenizer> tokenizer = tokenizer_from_gguf(reader);
    if (tokenizer->vocab_size() > static_cast<size_t>(hp.n_vocab)) {
        throw ptxsmith::Error(fmt::format("{}: the tokenizer has {} tokens but the model only {} embeddings", o.model,
                                          tokenizer->vocab_size(), hp.n_vocab));
    }
    if (o.ctx > hp.n_ctx_train) {
        throw ptxsmith::Error(fmt::format("--ctx {} is larger than the model's context length of {}", o.ctx, hp.n_ctx_train));
    }
    const int ctx = o.ctx > 0 ? o.ctx : std::min(hp.n_ctx_train, kDefaultMaxCtx);
    ForwardSettings fs;
    fs.device = o.device;
    fs.ctx = ctx;
    fs.threads = o.threads;
    fs.max_chunk = o.chunk;
    fs.graph = o.graph;
    if (o.device == "cpu" || o.device == "auto") touch_weights(weights, load_start);
    ForwardChoice choice = make_forward(weights, fs);
    Forward* forward = choice.forward.get();
    const std::string& device = choice.described;
    const double load_s = seconds_since(load_start);
    fmt::print(stderr, "model: {} ({}, {} layers, {:.1f} MiB of weights), context {}, device {}\n", o.model, hp.arch, hp.n_layer,
               static_cast<double>(weights.total_bytes()) / (1024.0 * 1024.0), ctx, device);
    fmt::print(stderr, "seed: {}\n", o.sampling.seed);

    const std::vector<int32_t> prompt = tokenizer->encode(o.prompt);
    if (prompt.empty()) throw ptxsmith::Error("the prompt gives no tokens");
    if (prompt.size() >= static_cast<size_t>(ctx)) {
        throw ptxsmith::Error(fmt::format("the prompt is {} tokens long, which leaves no room in a context of {}", prompt.size(), ctx));
    }

    Sampler sampler(o.sampling);
    for (const int32_t t : prompt) sampler.accept(t);
    const auto prompt_start = Clock::now();
    std::span<const float> logits = forward->prefill(prompt, 0);
    const double prompt_s = seconds_since(prompt_start);

    // Ids past the tokenizer's vocabulary (padding rows of the embedding) are never picked.
    const size_t vocab = tokenizer->vocab_size();
    StreamDecoder decoder(*tokenizer);
    int pos = static_cast<int>(prompt.size());
    int generated = 0;
    const char* stop = "the token limit (-n)";
    const auto gen_start = Clock::now();
    // Greedy choice without a penalty needs no logits on the host: the device picks the token.
    const bool device_greedy = o.sampling.temperature <= 0 && o.sampling.repeat_penalty == 1.0f &&
                               vocab == static_cast<size_t>(forward->n_vocab());
    int32_t id = sampler.sample(logits.first(vocab));
    while (generated < o.n_predict) {
        if (tokenizer->is_end(id)) {
            stop = "end of text";
            break;
        }
        sampler.accept(id);
        ++generated;
        const std::string piece = decoder.feed(id);
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        if (generated == o.n_predict) break;
        if (pos >= ctx) {
            stop = "a full context";
            break;
        }
        if (device_greedy) {
            id = forward->step_greedy(id, pos++);
        } else {
            logits = forward->step(id, pos++);
            id = sampler.sample(logits.first(vocab));
        }
    }
    const double gen_s = seconds_since(gen_start);
    const std::string rest = decoder.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);

    const auto rate = [](int n, double s) { return s > 0 ? n / s : 0.0; };
    fmt::print(stderr, "load:      {:.3f} s\n", load_s);
    fmt::print(stderr, "prompt:    {} tokens in {:.3f} s ({:.2f} tokens/s)\n", prompt.size(), prompt_s, rate(static_cast<int>(prompt.size()), prompt_s));
    fmt::print(stderr, "generated: {} tokens in {:.3f} s ({:.2f} tokens/s), stopped at {}\n", generated, gen_s, rate(generated, gen_s), stop);
    return 0;
}

}  // namespace llm::cli
