// `ptxsmith-llm info FILE`: what a GGUF file holds: the model's architecture and
// hyper-parameters (model/hparams.hpp), its tokenizer, and a table of its tensors. A file that
// cannot be read is one error line and exit 1 (main prints it); an architecture ptxsmith does not
// run is said so, and the rest is still described.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>

#include "cli/commands.hpp"
#include "gguf/gguf.hpp"
#include "model/hparams.hpp"

namespace llm::cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxsmith-llm info FILE [--metadata]

Describes a GGUF file: architecture, hyper-parameters, tokenizer, and every tensor with its type,
shape and size.

options:
  --metadata   also list every metadata key with its type and value (arrays: length and the
               first items)
)";

using gguf::Reader;
using gguf::Value;
using gguf::ValueType;

std::string count_text(uint64_t n) {
    if (n >= 1'000'000'000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
    if (n >= 1'000'000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
    return fmt::format("{}", n);
}

std::string size_text(uint64_t bytes) {
    if (bytes >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1 << 30));
    if (bytes >= (uint64_t{1} << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(bytes) / (1 << 20));
    if (bytes >= (uint64_t{1} << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / (1 << 10));
    return fmt::format("{} B", bytes);
}

// A printable form of a string value: control characters escaped, long texts cut.
std::string printable(const std::string& s, size_t limit = 60) {
    std::string out;
    for (const char c : s) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
        else out += c;
    }
    return out;
}

std::string value_text(const Value& v) {
    switch (v.type) {
        case ValueType::string: return fmt::format("\"{}\"", printable(std::get<std::string>(v.data)));
        case ValueType::boolean: return std::get<bool>(v.data) ? "true" : "false";
        case ValueType::f32: return fmt::format("{}", static_cast<float>(std::get<double>(v.data)));  // shortest f32 form
        case ValueType::f64: return fmt::format("{}", std::get<double>(v.data));
        case ValueType::array: {
            const auto& a = std::get<gguf::Array>(v.data);
            std::string s = fmt::format("[{} x {}]", a.items.size(), gguf::value_type_name(a.element_type));
            for (size_t i = 0; i < a.items.size() && i < 3; ++i) s += (i == 0 ? " " : ", ") + value_text(a.items[i]);
            if (a.items.size() > 3) s += ", ...";
            return s;
        }
        default:
            if (const auto* u = std::get_if<uint64_t>(&v.data)) return fmt::format("{}", *u);
            return fmt::format("{}", std::get<int64_t>(v.data));
    }
}

// general.file_type: llama.cpp's llama_ftype names for the common values.
const char* file_type_name(uint32_t t) {
    switch (t) {
        case 0: return "all F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K";
        case 11: return "Q3_K_S";
        case 12: return "Q3_K_M";
        case 13: return "Q3_K_L";
        case 14: return "Q4_K_S";
        case 15: return "Q4_K_M";
        case 16: return "Q5_K_S";
        case 17: return "Q5_K_M";
        case 18: return "Q6_K";
        case 32: return "BF16";
        default: return "?";
    }
}

size_t array_length(const Reader& r, std::string_view key) {
    const Value* v = r.find(key);
    const auto* a = v == nullptr ? nullptr : std::get_if<gguf::Array>(&v->data);
    return a == nullptr ? 0 : a->items.size();
}

void print_model(const Reader& r) {
    const auto arch = r.get_optional<std::string>("general.architecture");
    fmt::print("name          {}\n", printable(r.get_optional<std::string>("general.name").value_or("(none)")));
    if (const auto ft = r.get_optional<uint32_t>("general.file_type")) fmt::print("file type     {} ({})\n", *ft, file_type_name(*ft));
    if (!arch) {
        fmt::print("architecture  (general.architecture is missing)\n");
        return;
    }
    std::optional<model::HParams> hp;
    try {
        hp = model::HParams::from_gguf(r);
    } catch (const ptxsmith::Error& e) {
        fmt::print("architecture  {} (ptxsmith-llm cannot run it: {})\n", printable(*arch), e.what());
        return;
    }
    fmt::print("architecture  {} (rope {}, {})\n", hp->arch, model::rope_style_name(hp->rope_style),
               hp->qkv_bias ? "Q/K/V biases" : "no Q/K/V biases");
    fmt::print("layers        {}\n", hp->n_layer);
    fmt::print("embedding     {}\n", hp->n_embd);
    fmt::print("heads         {} of width {}; {} key/value heads of width {} (group of {})\n", hp->n_head, hp->head_dim,
               hp->n_head_kv, hp->head_dim_v, hp->gqa_group());
    fmt::print("feed-forward  {}\n", hp->n_ff);
    fmt::print("rope          {} dims, base {}{}\n", hp->n_rot, hp->rope_base,
               hp->rope_scaling_type.empty() ? ""
                                             : fmt::format(", scaling {} x{}", printable(hp->rope_scaling_type), hp->rope_scaling_factor));
    fmt::print("norm epsilon  {}\n", hp->norm_eps);
    fmt::print("context       {}\n", hp->n_ctx_train);
    fmt::print("vocabulary    {}\n", hp->n_vocab);
    fmt::print("output        {}\n", hp->tied_output ? "tied to token_embd" : "output.weight");
}

void print_tokenizer(const Reader& r) {
    const auto model = r.get_optional<std::string>("tokenizer.ggml.model");
    if (!model) {
        fmt::print("tokenizer     (none)\n");
        return;
    }
    const auto pre = r.get_optional<std::string>("tokenizer.ggml.pre");
    const Value* tokens_value = r.find("tokenizer.ggml.tokens");
    const auto* tokens = tokens_value == nullptr ? nullptr : std::get_if<gguf::Array>(&tokens_value->data);
    fmt::print("tokenizer     {}{}, {} tokens, {} merges\n", printable(*model), pre ? fmt::format(", pre {}", printable(*pre)) : std::string(),
               tokens == nullptr ? 0 : tokens->items.size(), array_length(r, "tokenizer.ggml.merges"));
    for (const char* which : {"bos", "eos", "eot"}) {
        const auto id = r.get_optional<int64_t>(fmt::format("tokenizer.ggml.{}_token_id", which));
        if (!id) continue;
        std::string text;
        if (tokens != nullptr && *id >= 0 && static_cast<uint64_t>(*id) < tokens->items.size()) {
            if (const auto* s = std::get_if<std::string>(&tokens->items[static_cast<size_t>(*id)].data)) text = fmt::format(" {}", printable(*s));
        }
        fmt::print("  {}         {}{}\n", which, *id, text);
    }
    if (const auto add_bos = r.get_optional<bool>("tokenizer.ggml.add_bos_token")) {
        fmt::print("  add bos     {}\n", *add_bos);
    }
}

void print_tensors(const Reader& r) {
    const auto& tensors = r.tensors();
    size_t name_width = 4;
    for (const auto& t : tensors) name_width = std::max(name_width, t.name.size());
    fmt::print("\n{:<{}}  {:<5}  {:<22}  {:>14}\n", "tensor", name_width, "type", "shape (ne0 first)", "bytes");
    uint64_t bytes = 0, parameters = 0;
    for (const auto& t : tensors) {
        std::string shape;
        for (size_t i = 0; i < t.ne.size(); ++i) shape += fmt::format("{}{}", i ? " x " : "", t.ne[i]);
        fmt::print("{:<{}}  {:<5}  {:<22}  {:>14}\n", printable(t.name, 80), name_width, kernels::quant::traits(t.type).name,
                   shape, t.bytes);
        bytes += t.bytes;
        parameters += t.elements();
    }
    fmt::print("\n{} tensors, {} parameters, {} of tensor data ({:.2f} bits per parameter)\n", tensors.size(),
               count_text(parameters), size_text(bytes),
               parameters == 0 ? 0.0 : 8.0 * static_cast<double>(bytes) / static_cast<double>(parameters));
}

void print_metadata(const Reader& r) {
    fmt::print("\nmetadata ({} keys)\n", r.metadata().size());
    for (const auto& [key, value] : r.metadata()) {
        fmt::print("  {:<44} {:<6} {}\n", printable(key, 80), gguf::value_type_name(value.type), value_text(value));
    }
}

}  // namespace

int cmd_info(const Args& args) {
    std::optional<std::string> path;
    bool metadata = false;
    for (const std::string& a : args) {
        if (a == "-h" || a == "--help") {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (a == "--metadata") {
            metadata = true;
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError{fmt::format("unknown option '{}'", a)};
        } else if (path) {
            throw UsageError{fmt::format("one file at a time ('{}' and '{}' given)", *path, a)};
        } else {
            path = a;
        }
    }
    if (!path) throw UsageError{"FILE is required"};

    const Reader r = Reader::open(*path);
    fmt::print("file          {} (GGUF v{}, {}, alignment {})\n", *path, r.version(), size_text(r.file_size()), r.alignment());
    print_model(r);
    print_tokenizer(r);
    if (metadata) print_metadata(r);
    print_tensors(r);
    return 0;
}

}  // namespace llm::cli
