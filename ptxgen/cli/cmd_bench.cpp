// `ptxgen bench`: the benchmark every kernel's speed target is measured with. The measuring is in
// bench_measure.cpp; this file reads the command line and prints the figures (table or JSON).
#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <memory>
#include <optional>

#include "args.hpp"
#include "bench_measure.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace cli {

namespace {

namespace rt = ptxsmith::runtime;

constexpr const char* kHelp = R"(usage: ptxgen bench KERNEL [--PARAM VALUE]... [--device auto|cuda|interp] [--rotate N|auto]
                    [--iters N] [--warmup N] [--repeats N] [--launch graph|stream] [--vs-empty]
                    [--json]

Times one kernel on a GPU the way ptxsmith's speed targets are measured, and measures in the
same run the ceiling it is compared with: the device's device-to-device copy bandwidth.

measurements:
  rotated      each launch reads the next of N copies of the kernel's weight buffers, round
               robin (the arguments its family marks as weights; for a kernel without any,
               every buffer it reads). By default N is the fewest copies whose total exceeds
               twice the L2 cache, so the weights come from device memory, as in a model.
               Other buffers (activations, outputs) have one copy.
  L2-resident  every launch uses the same copy, which stays in L2 when it fits there.
  copy         a device-to-device copy of max(256 MiB, 4x L2) bytes.
  empty        an empty kernel (only `ret`) with the kernel's parameters, grid, block and
               shared memory, launched and timed the same way: the floor of a launch. Measured
               for kernels that move under 1 MB (counted, see below), or for any with --vs-empty
  companions   kernels the family times beside this one (for example the standalone activation
               quantiser whose work a dp4a GEMV expects the preceding kernel to have fused),
               each measured like the kernel.
Each measurement: warm-up launches, then REPEATS timings, each of ITERS back-to-back launches
between two CUDA events, with nothing on the host waiting in between. By default the launches
are captured once into a CUDA graph and replayed, so that the host's cost per launch does not
hide the time of a short kernel; --launch stream issues every launch from the host instead.
The copy is timed the same way, always from the host (copies are not captured).

figures:
  us           time per launch in microseconds: median, min and max over the REPEATS timings
  launches     ITERS, the launches in each timing
  GB/s         the counted bytes of one launch over its median time (1 GB = 1e9 bytes). Counted
               are the bytes the family says a launch must move (its bench_work(): attention
               counts the K and V rows it attends to, not the whole cache), else the weight
               buffers, each read once, else every buffer: inputs read, outputs written, in/out
               buffers read and written. The "counted" line says which
  TFLOP/s      for families that count their flops (flash_attention): flops over the median time
  % of copy    that GB/s over the copy bandwidth: how near a memory-bound kernel comes to the
               ceiling the memory system reaches in practice
  copy GB/s    bytes read plus bytes written by the copy, over its median time
  x empty      the kernel's median time over the empty kernel's

options:
  --PARAM VALUE     a kernel parameter (also --PARAM=VALUE); unset ones take their defaults
  --device D        cuda (the first GPU), interp (the CPU interpreter) or auto (default: CUDA when
                    a driver and a GPU are present, else the interpreter)
  --rotate N|auto   copies of the rotated buffers, 1 to 1024 (default auto: over 2x L2, at most
                    1024; 1 on the interpreter)
  --iters N         launches per timing (default: about 20 ms of work, at least 10; 3 on the
                    interpreter); with graphs, rounded up to whole replays of the graph, which
                    holds up to 128 launches and at least one per copy
  --warmup N        launches before the timings (default 20; 1 on the interpreter); with graphs,
                    whole replays, at least one
  --repeats N       timings per measurement (default 5; 3 on the interpreter)
  --launch L        graph (default) or stream, as above
  --vs-empty        time the empty kernel whatever the kernel moves
  --json            the same figures as one JSON object, instead of the table

On the interpreter every step runs, but the times are the CPU's wall-clock time for simulating
the kernel: they say nothing about GPU performance, and neither do the GB/s and % derived
from them.

exit codes: 0 measured, 1 the device failed (or --device cuda where there is no GPU),
            2 bad command line or kernel shape

examples:
  ptxgen bench saxpy --n 16777216
  ptxgen bench rmsnorm --rotate 1 --repeats 9
  ptxgen bench saxpy --n 4096 --device interp --iters 3 --json
)";

constexpr const char* kInterpreterWarning =
    "the CPU interpreter: these times are CPU wall-clock times of a simulation, not GPU performance";

uint64_t parse_number(const std::string& option, const std::string& text, uint64_t min, uint64_t max) {
    try {
        size_t used = 0;
        const unsigned long long v = std::stoull(text, &used);
        if (used == text.size() && text[0] != '-' && v >= min && v <= max) return v;
    } catch (const std::exception&) {
    }
    throw ptxsmith::Error(fmt::format("{}: '{}' is not an integer from {} to {}", option, text, min, max));
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

std::string one_line(std::string s) {
    for (char& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return s;
}

// What the user typed, to print beside the figures.
std::string command_line(const Args& args) {
    std::string s = "ptxgen bench";
    for (const std::string& a : args) s += " " + a;
    return s;
}

std::string driver_text(const rt::DeviceInfo& i) {
    if (i.driver_version == 0) return "none";
    return fmt::format("CUDA {}.{}", i.driver_version / 1000, i.driver_version % 1000 / 10);
}

double fraction(double gbs, double copy_gbs) { return copy_gbs > 0 ? gbs / copy_gbs : 0.0; }

double empty_ratio(const bench::Timing& t, const bench::EmptyResult& empty) {
    return empty.timing.median_us > 0 ? t.median_us / empty.timing.median_us : 0.0;
}

// Decimal units, as GB/s is: "113.2 MB", "52.5 kB".
std::string size_text(uint64_t bytes) {
    const auto b = static_cast<double>(bytes);
    if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
    if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
    if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
    return fmt::format("{} bytes", bytes);
}

std::string rotated_label(const bench::KernelResult& r) {
    return fmt::format("rotated ({} {}, {}{})", r.copies, r.copies == 1 ? "copy" : "copies", size_text(r.rotated_bytes),
                       r.copies_capped ? ", under 2x L2" : "");
}

std::string counted_text(const bench::KernelResult& r) {
    if (r.counts_family) {
        std::string flops = r.flops ? fmt::format(", {} flops", r.flops) : "";
        return fmt::format("{} bytes{} per launch (the family's count: {})", r.counted_bytes, flops, r.counted_how);
    }
    return fmt::format("{} bytes per launch ({})", r.counted_bytes,
                       r.counts_weights ? "the weights, read once" : "no weights: every buffer, in/out ones twice");
}

const char* counted_key(const bench::KernelResult& r) {
    return r.counts_family ? "family" : r.counts_weights ? "weights" : "all buffers";
}

// ---- the table ----------------------------------------------------------------------------

void print_rows(const bench::KernelResult& r, double copy_gbs, const bench::EmptyResult* empty) {
    const bool flops = r.flops != 0;
    fmt::print("{:<36} {:>10} {:>10} {:>10} {:>9} {:>10} {:>9}{}{}\n", "", "median us", "min us", "max us", "launches", "GB/s",
               "% of copy", flops ? fmt::format(" {:>9}", "TFLOP/s") : "", empty ? fmt::format(" {:>8}", "x empty") : "");
    auto row = [&](const std::string& label, const bench::Timing& t) {
        const double gbs = bench::gb_per_s(r.counted_bytes, t.median_us);
        const std::string tflops = flops ? fmt::format(" {:>9.1f}", bench::tflop_per_s(r.flops, t.median_us)) : "";
        const std::string ratio = empty ? fmt::format(" {:>7.2f}x", empty_ratio(t, *empty)) : "";
        fmt::print("{:<36} {:>10.3f} {:>10.3f} {:>10.3f} {:>9} {:>10.1f} {:>8.1f}%{}{}\n", label, t.median_us, t.min_us, t.max_us,
                   t.iters, gbs, 100 * fraction(gbs, copy_gbs), tflops, ratio);
    };
    row(rotated_label(r), r.rotated);
    row("L2-resident", r.resident);
    if (empty) {
        const bench::Timing& t = empty->timing;
        fmt::print("{:<36} {:>10.3f} {:>10.3f} {:>10.3f} {:>9}\n", "empty kernel, same launch", t.median_us, t.min_us, t.max_us,
                   t.iters);
    }
}

struct Report {
    std::string family;
    std::string notes;
    std::string command;
    std::string date;
    rt::DeviceInfo device;
    bench::Settings settings;
    bench::CopyResult copy;
    bench::KernelResult main;
    std::optional<bench::EmptyResult> empty;  // the empty kernel launched like main
    std::vector<std::pair<std::string, bench::KernelResult>> companions;  // label, result
};

void print_table(const Report& r) {
    const rt::DeviceInfo& d = r.device;
    const bool interp = d.kind == "interp";
    fmt::print("kernel      {}\n", r.main.name);
    if (!r.notes.empty()) fmt::print("choice      {}\n", r.notes);
    if (interp) {
        fmt::print("device      {}\n", d.name);
        fmt::print("WARNING     {}\n", kInterpreterWarning);
    } else {
        fmt::print("device      {} (sm_{}{}, {} SMs, {:.1f} MiB L2), driver {}\n", d.name, d.cc_major, d.cc_minor, d.sm_count,
                   static_cast<double>(d.l2_bytes) / (1 << 20), driver_text(d));
    }
    fmt::print("date        {}\n", r.date);
    fmt::print("command     {}\n", r.command);
    fmt::print("timing      {}, {}; {} timings per measurement, median shown\n",
               interp ? "wall clock" : "CUDA events",
               r.settings.graph ? "launches replayed from a captured graph" : "launches issued from the host", r.settings.repeats);
    fmt::print("counted     {}\n\n", counted_text(r.main));
    print_rows(r.main, r.copy.gb_per_s, r.empty ? &*r.empty : nullptr);
    fmt::print("\ncopy        {:.1f} GB/s: device-to-device copy of {:.1f} MiB, read + written; median {:.3f} us over {} "
               "timings of {} copies\n",
               r.copy.gb_per_s, static_cast<double>(r.copy.bytes) / (1 << 20), r.copy.timing.median_us, r.copy.timing.us.size(),
               r.copy.timing.iters);
    for (const auto& [label, c] : r.companions) {
        fmt::print("\ncompanion   {}: {}\ncounted     {}\n", label, c.name, counted_text(c));
        print_rows(c, r.copy.gb_per_s, nullptr);
    }
    if (r.empty) {
        fmt::print("\nempty       {}: only `ret`, the kernel's parameters, grid, block and shared memory, launched the "
                   "same way; x empty = the kernel's median over its median\n",
                   r.empty->name);
    }
    if (interp) fmt::print("\nWARNING     {}\n", kInterpreterWarning);
}

// ---- JSON ---------------------------------------------------------------------------------

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

std::string json_timing(const bench::Timing& t) {
    std::string us;
    for (double v : t.us) us += (us.empty() ? "" : ", ") + json_number(v);
    return fmt::format("\"iters\": {}, \"warmup\": {}, \"median_us\": {}, \"min_us\": {}, \"max_us\": {}, \"us\": [{}]", t.iters,
                       t.warmup, json_number(t.median_us), json_number(t.min_us), json_number(t.max_us), us);
}

std::string json_kernel(const bench::KernelResult& r, double copy_gbs, const bench::EmptyResult* empty) {
    auto measured = [&](const bench::Timing& t) {
        const double gbs = bench::gb_per_s(r.counted_bytes, t.median_us);
        std::string s = fmt::format("{}, \"gb_per_s\": {}, \"fraction_of_copy\": {}", json_timing(t), json_number(gbs),
                                    json_number(fraction(gbs, copy_gbs)));
        if (r.flops) s += fmt::format(", \"tflop_per_s\": {}", json_number(bench::tflop_per_s(r.flops, t.median_us)));
        if (empty) s += fmt::format(", \"x_empty\": {}", json_number(empty_ratio(t, *empty)));
        return s;
    };
    return fmt::format("\"kernel\": {}, \"counted\": {}, \"counted_how\": {}, \"counted_bytes\": {}, \"flops\": {}, "
                       "\"rotated\": {{\"copies\": {}, \"bytes\": {}, \"capped\": {}, {}}}, \"l2_resident\": {{{}}}",
                       json_string(r.name), json_string(counted_key(r)), json_string(r.counted_how), r.counted_bytes, r.flops,
                       r.copies, r.rotated_bytes, r.copies_capped ? "true" : "false", measured(r.rotated), measured(r.resident));
}

void print_json(const Report& r) {
    const rt::DeviceInfo& d = r.device;
    const bool interp = d.kind == "interp";
    std::string companions;
    for (const auto& [label, c] : r.companions) {
        companions += fmt::format("{}{{\"label\": {}, {}}}", companions.empty() ? "" : ", ", json_string(label),
                                  json_kernel(c, r.copy.gb_per_s, nullptr));
    }
    fmt::print("{{\"family\": {}, {}, \"notes\": {}, \"command\": {}, \"date\": {}, ", json_string(r.family),
               json_kernel(r.main, r.copy.gb_per_s, r.empty ? &*r.empty : nullptr), json_string(r.notes), json_string(r.command), json_string(r.date));
    fmt::print("\"device\": {{\"kind\": {}, \"name\": {}, \"compute_capability\": \"{}.{}\", \"sm_count\": {}, \"l2_bytes\": {}, "
               "\"driver_version\": {}}}, ",
               json_string(d.kind), json_string(d.name), d.cc_major, d.cc_minor, d.sm_count, d.l2_bytes, d.driver_version);
    fmt::print("\"timing\": {{\"clock\": {}, \"launch\": {}, \"repeats\": {}}}, ", json_string(interp ? "wall clock" : "cuda events"),
               json_string(r.settings.graph ? "graph" : "stream"), r.settings.repeats);
    const std::string empty =
        r.empty ? fmt::format("{{\"kernel\": {}, {}}}", json_string(r.empty->name), json_timing(r.empty->timing)) : "null";
    fmt::print("\"copy\": {{\"bytes\": {}, \"gb_per_s\": {}, {}}}, \"empty\": {}, \"companions\": [{}], \"warning\": {}}}\n",
               r.copy.bytes, json_number(r.copy.gb_per_s), json_timing(r.copy.timing), empty, companions,
               interp ? json_string(kInterpreterWarning) : "null");
}

}  // namespace

int cmd_bench(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {{"--device", true, ""},
                                     {"--rotate", true, ""},
                                     {"--iters", true, ""},
                                     {"--warmup", true, ""},
                                     {"--repeats", true, ""},
                                     {"--launch", true, ""},
                                     {"--vs-empty", false, ""},
                                     {"--json", false, ""}});
    if (a.positional.empty()) throw ptxsmith::Error("bench needs a KERNEL; `ptxgen list --names` shows them");
    if (a.positional.size() > 1) throw ptxsmith::Error(fmt::format("bench: unexpected argument '{}'", a.positional[1]));
    const rt::DeviceKind kind = a.get("--device") ? rt::parse_device_kind(*a.get("--device")) : rt::DeviceKind::automatic;
    bench::Settings s;
    if (const std::string* v = a.get("--rotate"); v && *v != "auto") {
        s.copies = static_cast<size_t>(parse_number("--rotate", *v, 1, bench::kMaxCopies));
    }
    if (const std::string* v = a.get("--iters")) s.iters = parse_number("--iters", *v, 1, 100'000'000);
    std::optional<uint64_t> warmup, repeats;
    if (const std::string* v = a.get("--warmup")) warmup = parse_number("--warmup", *v, 0, 100'000'000);
    if (const std::string* v = a.get("--repeats")) repeats = parse_number("--repeats", *v, 1, 10'000);
    if (const std::string* v = a.get("--launch")) {
        if (*v != "graph" && *v != "stream") throw ptxsmith::Error(fmt::format("--launch: '{}' is neither graph nor stream", *v));
        s.graph = *v == "graph";
    }
    Chosen c = choose_kernel(a.positional[0], a.params);

    std::unique_ptr<rt::Device> dev;
    try {
        dev = rt::open_device(kind);
    } catch (const ptxsmith::Error& e) {
        // Asking for a GPU where there is none is a failed run, not a bad command line.
        fmt::print(stderr, "ptxgen: error: bench: cannot open the CUDA device: {}\n", one_line(e.what()));
        return kExitFailed;
    }
    const bool interp = dev->info().kind == "interp";
    s.warmup = warmup.value_or(interp ? 1 : 20);
    s.repeats = repeats.value_or(interp ? 3 : 5);
    if (interp && !s.iters) s.iters = 3;

    Report r;
    r.family = c.family->info.name;
    r.notes = c.instance->notes();
    r.command = command_line(args);
    r.date = utc_now();
    r.device = dev->info();
    r.settings = s;
    try {
        // The copy first: it also brings an idle GPU's clocks up before the kernel is timed.
        r.copy = bench::bench_copy(*dev, s);
        r.main = bench::bench_kernel(*dev, *c.instance, s);
        if (a.has("--vs-empty") || r.main.counted_bytes < bench::kEmptyBelowBytes) r.empty = bench::bench_empty(*dev, *c.instance, s);
        for (const kernels::Companion& comp : c.instance->companions()) {
            r.companions.emplace_back(comp.label, bench::bench_kernel(*dev, *comp.kernel, s));
        }
    } catch (const ptxsmith::Error& e) {
        fmt::print(stderr, "ptxgen: error: bench {} on {}: {}\n", c.instance->name(), dev->info().name, one_line(e.what()));
        return kExitFailed;
    }
    if (a.has("--json")) {
        print_json(r);
    } else {
        print_table(r);
    }
    return kExitOk;
}

}  // namespace cli
