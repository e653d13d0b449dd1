// `ptxsmith-llm make-model`: writes a GGUF model with random weights (model/maker.hpp). Progress
// goes to stderr once the write has taken a second; the summary goes to stdout.
#include <fmt/format.h>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "model/maker.hpp"

namespace llm::cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxsmith-llm make-model --preset tiny|1b|8b [options] -o FILE

Writes a Llama-architecture GGUF model with random weights and a byte-level BPE vocabulary.

options:
  --preset NAME      tiny (2 layers, width 256, vocab 512), 1b (Llama-3.2-1B shapes, tied
                     output), 8b (Llama-3-8B shapes)
  --quant MIX        q4_k_m (default: llama.cpp's Q4_K_M mix), q4_k, q6_k, q8_0 or f16 (every
                     matrix in that type); norms are always f32
  --seed S           weights seed (default 0); the same seed gives the same file, byte for byte
  --threads N        worker threads (default 0: one per core)
  -o, --output FILE  the file to write (replaced only once complete)
)";

struct Options {
    llm::model::MakerOptions maker;
    std::string output;
    bool has_preset = false;
};

uint64_t parse_unsigned(const std::string& option, const std::string& text) {
    uint64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end) {
        throw UsageError{fmt::format("{} needs a non-negative integer, got '{}'", option, text)};
    }
    return v;
}

// Returns nullopt after printing --help.
std::optional<Options> parse(const Args& args) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::optional<std::string> inline_value;
        if (const size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg.resize(eq);
        }
        const auto value = [&]() -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= args.size()) throw UsageError{fmt::format("{} needs a value", arg)};
            return args[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kHelp, stdout);
            return std::nullopt;
        } else if (arg == "--preset") {
            o.maker.preset = value();
            o.has_preset = true;
        } else if (arg == "--quant") {
            o.maker.quant = value();
        } else if (arg == "--seed") {
            o.maker.seed = parse_unsigned(arg, value());
        } else if (arg == "--threads") {
            const uint64_t n = parse_unsigned(arg, value());
            if (n > 1024) throw UsageError{fmt::format("--threads {} is more than 1024", n)};
            o.maker.threads = static_cast<unsigned>(n);
        } else if (arg == "-o" || arg == "--output") {
            o.output = value();
        } else {
            throw UsageError{fmt::format("unknown option '{}'", args[i])};
        }
    }
    if (!o.has_preset) throw UsageError{"--preset is required"};
    if (o.output.empty()) throw UsageError{"-o FILE is required"};
    // Unknown names are usage errors, caught before any work starts.
    try {
        (void)llm::model::find_preset(o.maker.preset);
        (void)llm::model::find_quant_mix(o.maker.quant);
    } catch (const ptxsmith::Error& e) {
        throw UsageError{e.what()};
    }
    return o;
}

// Prints progress once a second has passed: rewritten in place on a terminal, a line every five
// seconds otherwise (logs stay short).
class ProgressPrinter {
public:
    ProgressPrinter() : start_(Clock::now()), tty_(isatty(fileno(stderr)) != 0) {}

    void operator()(const llm::model::MakerProgress& p) {
        const auto now = Clock::now();
        if (now - start_ < std::chrono::seconds(1)) return;
        if (printed_ && now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000))) return;
        last_ = now;
        printed_ = true;
        const double pct = p.bytes_total == 0 ? 0.0 : 100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total);
        const std::string line = fmt::format("tensor {}/{} {:<24} {:>7.0f} / {:.0f} MB ({:3.0f}%)", p.tensor, p.tensors, p.name,
                                             mb(p.bytes_done), mb(p.bytes_total), pct);
        if (tty_) {
            fmt::print(stderr, "\r{}\x1b[K", line);
        } else {
            fmt::print(stderr, "{}\n", line);
        }
        std::fflush(stderr);
    }

    void finish() const {
        if (printed_ && tty_) fmt::print(stderr, "\n");
    }
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
    static double mb(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

private:
    using Clock = std::chrono::steady_clock;
    Clock::time_point start_, last_;
    bool tty_;
    bool printed_ = false;
};

}  // namespace

int cmd_make_model(const Args& args) {
    const std::optional<Options> o = parse(args);
    if (!o) return 0;
    ProgressPrinter printer;
    llm::model::MakerSummary s;
    try {
        s = llm::model::make_model(o->maker, o->output, [&](const llm::model::MakerProgress& p) { printer(p); });
    } catch (...) {
        printer.finish();
        throw;
    }
    printer.finish();
    fmt::print("wrote {}: preset {}, mix {}, seed {}: {} tensors, {:.2f} M parameters, {:.1f} MB in {:.1f} s\n", o->output,
               o->maker.preset, o->maker.quant, o->maker.seed, s.tensors, static_cast<double>(s.parameters) / 1e6,
               ProgressPrinter::mb(s.bytes), printer.seconds());
    return 0;
}

}  // namespace llm::cli
