// A helper program for the GGUF tests outside doctest:
//   gguf_test_tool dump FILE        what our Reader sees in FILE, as JSON (the Python cross-check)
//   gguf_test_tool write FILE SEED  writes random content with our Writer, prints it as JSON
//   gguf_test_tool seed DIR         writes the fuzzer's seed files: every value type, every tensor type
// JSON: {"version", "alignment", "metadata": [{"key": HEX, "value": V}], "tensors": [{"name": HEX,
// "ne", "type", "offset", "data": HEX}]}, where V is {"type": NAME, "value": X} with X a number
// for integers, the hex of the bits for f32/f64 (as stored: 8 or 16 digits), true/false, the hex
// of a string's bytes, or for arrays {"type": "array", "element_type": NAME, "items": [V...]}.
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gguf/gguf.hpp"
#include "gguf_random.hpp"

using namespace llm::gguf;

namespace {

std::string hex(std::span<const uint8_t> bytes) {
    std::string s;
    s.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) s += fmt::format("{:02x}", b);
    return s;
}

std::string hex(std::string_view s) { return hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }

void value_json(std::string& out, const Value& v) {
    out += fmt::format("{{\"type\":\"{}\",", value_type_name(v.type));
    switch (v.type) {
        case ValueType::f32:
            out += fmt::format("\"value\":\"{:08x}\"}}", std::bit_cast<uint32_t>(static_cast<float>(std::get<double>(v.data))));
            return;
        case ValueType::f64:
            out += fmt::format("\"value\":\"{:016x}\"}}", std::bit_cast<uint64_t>(std::get<double>(v.data)));
            return;
        case ValueType::boolean: out += fmt::format("\"value\":{}}}", std::get<bool>(v.data)); return;
        case ValueType::string: out += fmt::format("\"value\":\"{}\"}}", hex(std::get<std::string>(v.data))); return;
        case ValueType::array: {
            const auto& a = std::get<Array>(v.data);
            out += fmt::format("\"element_type\":\"{}\",\"items\":[", value_type_name(a.element_type));
            for (size_t i = 0; i < a.items.size(); ++i) {
                if (i) out += ',';
                value_json(out, a.items[i]);
            }
            out += "]}";
            return;
        }
        default:
            if (const auto* u = std::get_if<uint64_t>(&v.data)) out += fmt::format("\"value\":{}}}", *u);
            else out += fmt::format("\"value\":{}}}", std::get<int64_t>(v.data));
            return;
    }
}

struct TensorView {
    std::string name;
    std::vector<uint64_t> ne;
    GgmlType type;
    uint64_t offset;
    std::span<const uint8_t> data;
};

std::string document_json(uint32_t version, uint32_t alignment, const std::vector<std::pair<std::string, Value>>& metadata,
                          const std::vector<TensorView>& tensors) {
    std::string out = fmt::format("{{\"version\":{},\"alignment\":{},\"metadata\":[", version, alignment);
    for (size_t i = 0; i < metadata.size(); ++i) {
        if (i) out += ',';
        out += fmt::format("{{\"key\":\"{}\",\"value\":", hex(metadata[i].first));
        value_json(out, metadata[i].second);
        out += '}';
    }
    out += "],\"tensors\":[";
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        if (i) out += ',';
        out += fmt::format("{{\"name\":\"{}\",\"ne\":[{}],\"type\":{},\"offset\":{},\"data\":\"{}\"}}", hex(t.name),
                           fmt::join(t.ne, ","), static_cast<uint32_t>(t.type), t.offset, hex(t.data));
    }
    out += "]}\n";
    return out;
}

int dump(const std::string& path) {
    const Reader r = Reader::open(path);
    std::vector<TensorView> tensors;
    for (const auto& t : r.tensors()) tensors.push_back({t.name, t.ne, t.type, t.offset, r.tensor_data(t)});
    std::cout << document_json(r.version(), r.alignment(), r.metadata(), tensors);
    return 0;
}

// Random metadata and one tensor of every type but Q8_1; odd tensors deferred. The alignment and the
// version come from the seed too.
int write(const std::string& path, uint64_t seed) {
    gguf_test::Rng rng(seed);
    const uint32_t alignments[] = {32, 64, 1, 256};
    const uint32_t alignment = alignments[seed % 4];
    const uint32_t version = seed % 3 == 0 ? 2 : 3;
    auto metadata = gguf_test::random_metadata(rng);
    // gguf-py still sizes Q8_1 blocks at 40 bytes (two f32 scales) where ggml's C code, and so this
    // project, uses 36 (two f16): the cross-check leaves Q8_1 out. No model file holds Q8_1.
    std::vector<GgmlType> types;
    for (GgmlType t : gguf_test::all_tensor_types) {
        if (t != GgmlType::q8_1) types.push_back(t);
    }
    const auto specs = gguf_test::random_tensors(rng, types);
    Writer w(alignment, version);
    for (const auto& [k, v] : metadata) w.set(k, v);
    std::vector<TensorView> tensors;
    for (size_t i = 0; i < specs.size(); ++i) {
        const auto& t = specs[i];
        if (i % 2) {
            w.add_tensor_deferred(t.name, t.ne, t.type, [&t](uint8_t* out) { std::memcpy(out, t.data.data(), t.data.size()); });
        } else {
            w.add_tensor(t.name, t.ne, t.type, t.data);
        }
        tensors.push_back({t.name, t.ne, t.type, 0, t.data});
    }
    w.write(path);
    if (alignment != default_alignment) metadata.insert(metadata.begin(), {"general.alignment", Value::u32(alignment)});
    std::cout << document_json(version, alignment, metadata, tensors);
    return 0;
}

// Small valid files for the fuzzer to start from: each value type as a scalar and as arrays
// (empty, short, nested), each tensor type, both versions, several alignments.
int seed(const std::string& dir) {
    std::filesystem::create_directories(dir);
    gguf_test::Rng rng(1);
    auto save = [&](const std::string& name, const Writer& w) {
        const auto bytes = w.to_bytes();
        std::FILE* f = std::fopen((std::filesystem::path(dir) / name).c_str(), "wb");
        if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
            throw GgufError("cannot write seed " + name);
        }
    };
    for (ValueType t : gguf_test::all_value_types) {
        Writer w;
        w.set("general.architecture", Value::string("llama"));
        w.set("k", gguf_test::random_value(rng, t, 1));
        if (t != ValueType::array) {
            w.set("a", Value::array(t, {gguf_test::random_value(rng, t, 1), gguf_test::random_value(rng, t, 1)}));
            w.set("e", Value::array(t, {}));
            w.set("n", Value::array(ValueType::array, {Value::array(t, {gguf_test::random_value(rng, t, 1)})}));
        }
        save(fmt::format("seed-value-{}.gguf", value_type_name(t)), w);
    }
    for (GgmlType type : gguf_test::all_tensor_types) {
        const auto& traits = *kernels::quant::find_traits(static_cast<uint32_t>(type));
        Writer w(type == GgmlType::q4_k ? 64 : 32, type == GgmlType::f16 ? 2 : 3);
        w.set("llama.block_count", Value::u32(1));
        auto specs = gguf_test::random_tensors(rng, {type, GgmlType::f32});
        for (auto& t : specs) {
            t.ne.resize(std::min<size_t>(t.ne.size(), 2));
            t.ne[0] = static_cast<uint64_t>(traits.block_elements == 1 ? 4 : traits.block_elements);
            if (t.type == GgmlType::f32) t.ne[0] = 8;
            t.data.resize(tensor_bytes(t.type, t.ne));
            w.add_tensor(t.name, t.ne, t.type, t.data);
        }
        save(fmt::format("seed-tensor-{}.gguf", traits.name), w);
    }
    Writer empty;
    save("seed-empty.gguf", empty);
    Writer aligned(1);
    aligned.set("tokenizer.ggml.tokens", Value::strings({"<s>", "", "\xe2\x96\x81the"}));
    aligned.add_tensor("t", {3}, GgmlType::f32, std::vector<uint8_t>(12, 0x3f));
    aligned.add_tensor("u", {2, 2, 1, 1}, GgmlType::f16, std::vector<uint8_t>(8, 0x3c));
    save("seed-align1.gguf", aligned);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage = "usage: gguf_test_tool dump FILE | write FILE SEED | seed DIR";
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "dump" && argc == 3) return dump(argv[2]);
        if (mode == "write" && argc == 4) return write(argv[2], std::stoull(argv[3]));
        if (mode == "seed" && argc == 3) return seed(argv[2]);
        std::cerr << usage << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "gguf_test_tool: " << e.what() << "\n";
        return 1;
    }
}
