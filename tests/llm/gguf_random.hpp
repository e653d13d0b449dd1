// Random GGUF content for the round-trip tests and the oracle tool: metadata of every value type
// (nested arrays, empty strings and arrays, non-ASCII text, extreme values) and tensors of every
// type the project knows, with random bytes.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf.hpp"

namespace gguf_test {

using llm::gguf::GgmlType;
using llm::gguf::Value;
using llm::gguf::ValueType;

using Rng = std::mt19937_64;
using Metadata = std::vector<std::pair<std::string, Value>>;

inline constexpr ValueType all_value_types[] = {
    ValueType::u8,  ValueType::i8,  ValueType::u16,    ValueType::i16,   ValueType::u32, ValueType::i32, ValueType::f32,
    ValueType::boolean, ValueType::string, ValueType::array, ValueType::u64, ValueType::i64, ValueType::f64,
};

inline constexpr GgmlType all_tensor_types[] = {
    GgmlType::f32,  GgmlType::f16,  GgmlType::q4_0, GgmlType::q4_1, GgmlType::q5_0, GgmlType::q5_1, GgmlType::q8_0,
    GgmlType::q8_1, GgmlType::q2_k, GgmlType::q3_k, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k, GgmlType::q8_k,
    GgmlType::bf16,
};

inline uint64_t below(Rng& rng, uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); }

// Text of several kinds: empty, ASCII, multi-byte UTF-8, and (when `raw` is allowed) arbitrary bytes
// including NUL, which GGUF strings may hold since they carry their length.
inline std::string random_string(Rng& rng, bool raw = true) {
    static const char* const pieces[] = {"a", "token", " ", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\xa6\x99",
                                         "<0x0A>", "\"", "\\", "\n"};
    std::string s;
    const uint64_t kind = below(rng, raw ? 4 : 3);
    if (kind == 0) return s;
    const uint64_t n = 1 + below(rng, 12);
    for (uint64_t i = 0; i < n; ++i) {
        if (kind == 3) {
            s += static_cast<char>(below(rng, 256));
        } else {
            s += pieces[below(rng, std::size(pieces))];
        }
    }
    return s;
}

// Integers favour the edges of their range, where encodings go wrong.
template <class T>
T random_integer(Rng& rng) {
    switch (below(rng, 4)) {
        case 0: return std::numeric_limits<T>::min();
        case 1: return std::numeric_limits<T>::max();
        case 2: return static_cast<T>(below(rng, 3));
        default: return static_cast<T>(rng());
    }
}

inline float random_f32(Rng& rng) {
    static const float special[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                    -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                                    std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(), 1.5f};
    if (below(rng, 3) == 0) return special[below(rng, std::size(special))];
    // Random bits, except signalling NaNs (converting one to double quiets it, changing its bits).
    float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    return f != f ? std::numeric_limits<float>::quiet_NaN() : f;
}

inline double random_f64(Rng& rng) {
    if (below(rng, 3) == 0) return -0.0;
    double d = std::bit_cast<double>(rng());
    return d != d ? std::numeric_limits<double>::quiet_NaN() : d;
}

inline Value random_value(Rng& rng, ValueType t, int depth, bool raw_strings = true) {
    switch (t) {
        case ValueType::u8: return Value::u8(random_integer<uint8_t>(rng));
        case ValueType::i8: return Value::i8(random_integer<int8_t>(rng));
        case ValueType::u16: return Value::u16(random_integer<uint16_t>(rng));
        case ValueType::i16: return Value::i16(random_integer<int16_t>(rng));
        case ValueType::u32: return Value::u32(random_integer<uint32_t>(rng));
        case ValueType::i32: return Value::i32(random_integer<int32_t>(rng));
        case ValueType::u64: return Value::u64(random_integer<uint64_t>(rng));
        case ValueType::i64: return Value::i64(random_integer<int64_t>(rng));
        case ValueType::f32: return Value::f32(random_f32(rng));
        case ValueType::f64: return Value::f64(random_f64(rng));
        case ValueType::boolean: return Value::boolean(below(rng, 2) == 1);
        case ValueType::string: return Value::string(random_string(rng, raw_strings));
        case ValueType::array: {
            // Nested arrays stay shallow and short; the outermost ones are sometimes long.
            const auto element = depth < 3 ? all_value_types[below(rng, std::size(all_value_types))]
                                           : all_value_types[below(rng, 9)];
            const uint64_t n = below(rng, depth == 0 && below(rng, 4) == 0 ? 300 : 5);
            std::vector<Value> items;
            for (uint64_t i = 0; i < n; ++i) items.push_back(random_value(rng, element, depth + 1, raw_strings));
            return Value::array(element, std::move(items));
        }
    }
    return Value::u8(0);
}

// Every value type at least twice, plus the cases that need saying: an empty string, an empty
// array, arrays nested three deep, the integer extremes.
inline Metadata random_metadata(Rng& rng, bool raw_strings = true) {
    Metadata m;
    m.emplace_back("general.architecture", Value::string("llama"));
    for (int round = 0; round < 2; ++round) {
        for (ValueType t : all_value_types) {
            m.emplace_back("test." + std::string(llm::gguf::value_type_name(t)) + "." + std::to_string(round),
                           random_value(rng, t, 0, raw_strings));
        }
    }
    m.emplace_back("test.empty_string", Value::string(""));
    m.emplace_back("test.unicode", Value::string("na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\xa6\x99"));
    m.emplace_back("test.empty_array", Value::array(ValueType::u32, {}));
    m.emplace_back("test.empty_strings", Value::strings({"", "", "x", ""}));
    m.emplace_back("test.u64_max", Value::u64(std::numeric_limits<uint64_t>::max()));
    m.emplace_back("test.i64_min", Value::i64(std::numeric_limits<int64_t>::min()));
    m.emplace_back("test.nested",
                   Value::array(ValueType::array,
                                {Value::array(ValueType::array, {Value::i32s({1, -2}), Value::i32s({})}),
                                 Value::array(ValueType::array, {Value::strings({"a", ""})}),
                                 Value::array(ValueType::array, {})}));
    return m;
}

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> ne;
    GgmlType type;
    std::vector<uint8_t> data;
};

// Small tensors of the given types: 1 to 4 dims, ne0 one to three blocks, random bytes.
inline std::vector<TensorSpec> random_tensors(Rng& rng, const std::vector<GgmlType>& types) {
    std::vector<TensorSpec> out;
    for (size_t i = 0; i < types.size(); ++i) {
        const auto& traits = *kernels::quant::find_traits(static_cast<uint32_t>(types[i]));
        TensorSpec t;
        t.name = "blk." + std::to_string(i) + "." + traits.name;
        t.type = types[i];
        t.ne.push_back(static_cast<uint64_t>(traits.block_elements) * (1 + below(rng, 3)));
        const uint64_t dims = 1 + below(rng, 4);
        while (t.ne.size() < dims) t.ne.push_back(1 + below(rng, 3));
        t.data.resize(llm::gguf::tensor_bytes(t.type, t.ne));
        for (auto& b : t.data) b = static_cast<uint8_t>(rng());
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace gguf_test
