// Metadata values: constructors, comparison, type checks; tensor sizes.
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "gguf/detail.hpp"
#include "gguf/gguf.hpp"

namespace llm::gguf {

const char* value_type_name(ValueType t) {
    switch (t) {
        case ValueType::u8: return "u8";
        case ValueType::i8: return "i8";
        case ValueType::u16: return "u16";
        case ValueType::i16: return "i16";
        case ValueType::u32: return "u32";
        case ValueType::i32: return "i32";
        case ValueType::f32: return "f32";
        case ValueType::boolean: return "bool";
        case ValueType::string: return "string";
        case ValueType::array: return "array";
        case ValueType::u64: return "u64";
        case ValueType::i64: return "i64";
        case ValueType::f64: return "f64";
    }
    return "unknown";
}

namespace {

template <class Data>
Value make(ValueType t, Data d) {
    Value v;
    v.type = t;
    v.data = std::move(d);
    return v;
}

}  // namespace

Value Value::u8(uint8_t v) { return make(ValueType::u8, uint64_t{v}); }
Value Value::i8(int8_t v) { return make(ValueType::i8, int64_t{v}); }
Value Value::u16(uint16_t v) { return make(ValueType::u16, uint64_t{v}); }
Value Value::i16(int16_t v) { return make(ValueType::i16, int64_t{v}); }
Value Value::u32(uint32_t v) { return make(ValueType::u32, uint64_t{v}); }
Value Value::i32(int32_t v) { return make(ValueType::i32, int64_t{v}); }
Value Value::f32(float v) { return make(ValueType::f32, double{v}); }
Value Value::boolean(bool v) { return make(ValueType::boolean, v); }
Value Value::string(std::string v) { return make(ValueType::string, std::move(v)); }
Value Value::u64(uint64_t v) { return make(ValueType::u64, v); }
Value Value::i64(int64_t v) { return make(ValueType::i64, v); }
Value Value::f64(double v) { return make(ValueType::f64, v); }

Value Value::array(ValueType element_type, std::vector<Value> items) {
    for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].type != element_type) {
            throw GgufError(fmt::format("array of {} holds an item of type {} at index {}",
                                        value_type_name(element_type), value_type_name(items[i].type), i));
        }
    }
    return make(ValueType::array, Array{element_type, std::move(items)});
}

Value Value::strings(const std::vector<std::string>& v) {
    std::vector<Value> items;
    items.reserve(v.size());
    for (const auto& s : v) items.push_back(Value::string(s));
    return make(ValueType::array, Array{ValueType::string, std::move(items)});
}

Value Value::f32s(const std::vector<float>& v) {
    std::vector<Value> items;
    items.reserve(v.size());
    for (float x : v) items.push_back(Value::f32(x));
    return make(ValueType::array, Array{ValueType::f32, std::move(items)});
}

Value Value::i32s(const std::vector<int32_t>& v) {
    std::vector<Value> items;
    items.reserve(v.size());
    for (int32_t x : v) items.push_back(Value::i32(x));
    return make(ValueType::array, Array{ValueType::i32, std::move(items)});
}

namespace {

struct SameValue {
    bool operator()(uint64_t a, uint64_t b) const { return a == b; }
    bool operator()(int64_t a, int64_t b) const { return a == b; }
    bool operator()(double a, double b) const {
        return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
    }
    bool operator()(bool a, bool b) const { return a == b; }
    bool operator()(const std::string& a, const std::string& b) const { return a == b; }
    bool operator()(const Array& a, const Array& b) const {
        return a.element_type == b.element_type && a.items == b.items;
    }
    template <class A, class B>
    bool operator()(const A&, const B&) const { return false; }
};

}  // namespace

bool Value::operator==(const Value& o) const {
    return type == o.type && std::visit(SameValue{}, data, o.data);
}

uint64_t TensorInfo::elements() const {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;   // the reader checked that this product fits
    return n;
}

uint64_t tensor_bytes(GgmlType type, std::span<const uint64_t> ne) {
    const auto* traits = kernels::quant::find_traits(static_cast<uint32_t>(type));
    if (!traits) throw GgufError(fmt::format("unsupported tensor type {}", static_cast<uint32_t>(type)));
    if (ne.empty() || ne.size() > max_dims) {
        throw GgufError(fmt::format("a tensor has 1 to {} dimensions, not {}", max_dims, ne.size()));
    }
    constexpr uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    uint64_t elements = 1;
    uint64_t rows = 1;
    for (size_t i = 0; i < ne.size(); ++i) {
        if (ne[i] == 0) throw GgufError(fmt::format("ne[{}] is 0: every dimension must be at least 1", i));
        if (ne[i] > limit / elements) {
            throw GgufError(fmt::format("the shape's element count overflows 2^63 at ne[{}] = {}", i, ne[i]));
        }
        elements *= ne[i];
        if (i > 0) rows *= ne[i];
    }
    const auto block = static_cast<uint64_t>(traits->block_elements);
    if (ne[0] % block != 0) {
        throw GgufError(fmt::format("ne[0] = {} is not a multiple of {}'s block of {} elements", ne[0],
                                    traits->name, block));
    }
    const uint64_t blocks = ne[0] / block;
    const auto block_bytes = static_cast<uint64_t>(traits->block_bytes);
    if (blocks > limit / block_bytes) {
        throw GgufError(fmt::format("a row of {} elements of {} takes more than 2^63 bytes", ne[0], traits->name));
    }
    const uint64_t row = blocks * block_bytes;
    if (rows > limit / row) {
        throw GgufError(fmt::format("the tensor's size overflows 2^63 bytes ({} rows of {} bytes)", rows, row));
    }
    return row * rows;
}

namespace detail {

uint64_t min_encoded_size(ValueType t) {
    switch (t) {
        case ValueType::u8:
        case ValueType::i8:
        case ValueType::boolean: return 1;
        case ValueType::u16:
        case ValueType::i16: return 2;
        case ValueType::u32:
        case ValueType::i32:
        case ValueType::f32: return 4;
        case ValueType::u64:
        case ValueType::i64:
        case ValueType::f64:
        case ValueType::string: return 8;    // the length alone
        case ValueType::array: return 12;    // element type and count
    }
    return 1;
}

std::string escaped(std::string_view s) {
    constexpr size_t shown = 80;
    std::string out;
    for (size_t i = 0; i < s.size() && i < shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > shown) out += "...";
    return out;
}

namespace {

// What is wrong with a value, as the tail of a message that starts with the value's name
// ("[3][1]: 300 does not fit in u8"), or an empty string. Names are built only on failure.
template <class T>
std::string integer_problem(const Value& v) {
    using Stored = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
    const auto* x = std::get_if<Stored>(&v.data);
    if (!x) {
        return fmt::format(": a {} value must hold a{} integer", value_type_name(v.type),
                           std::is_signed_v<T> ? " signed" : "n unsigned");
    }
    if (!std::in_range<T>(*x)) return fmt::format(": {} does not fit in {}", *x, value_type_name(v.type));
    return {};
}

std::string problem(const Value& v, int depth) {
    switch (v.type) {
        case ValueType::u8: return integer_problem<uint8_t>(v);
        case ValueType::i8: return integer_problem<int8_t>(v);
        case ValueType::u16: return integer_problem<uint16_t>(v);
        case ValueType::i16: return integer_problem<int16_t>(v);
        case ValueType::u32: return integer_problem<uint32_t>(v);
        case ValueType::i32: return integer_problem<int32_t>(v);
        case ValueType::u64: return integer_problem<uint64_t>(v);
        case ValueType::i64: return integer_problem<int64_t>(v);
        case ValueType::f32:
        case ValueType::f64: {
            const auto* x = std::get_if<double>(&v.data);
            if (!x) return fmt::format(": a {} value must hold a double", value_type_name(v.type));
            if (v.type == ValueType::f32 && std::isfinite(*x)) {
                // Checked before converting: a finite double outside float's range is undefined.
                constexpr double largest = std::numeric_limits<float>::max();
                if (std::fabs(*x) > largest || static_cast<double>(static_cast<float>(*x)) != *x) {
                    return fmt::format(": {} is not exactly an f32", *x);
                }
            }
            return {};
        }
        case ValueType::boolean:
            return std::holds_alternative<bool>(v.data) ? std::string() : ": a bool value must hold a bool";
        case ValueType::string:
            return std::holds_alternative<std::string>(v.data) ? std::string()
                                                               : ": a string value must hold a std::string";
        case ValueType::array: {
            const auto* a = std::get_if<Array>(&v.data);
            if (!a) return ": an array value must hold an Array";
            if (depth + 1 > max_array_depth) return fmt::format(": arrays nest deeper than {} levels", max_array_depth);
            if (!is_known(a->element_type)) {
                return fmt::format(": unknown array element type {}", static_cast<uint32_t>(a->element_type));
            }
            for (size_t i = 0; i < a->items.size(); ++i) {
                const Value& item = a->items[i];
                if (item.type != a->element_type) {
                    return fmt::format("[{}]: an item of type {} in an array of {}", i, value_type_name(item.type),
                                       value_type_name(a->element_type));
                }
                std::string p = problem(item, depth + 1);
                if (!p.empty()) return fmt::format("[{}]{}", i, p);
            }
            return {};
        }
    }
    return fmt::format(": unknown value type {}", static_cast<uint32_t>(v.type));
}

}  // namespace

void check_value(const Value& v, std::string_view what, int depth) {
    std::string p = problem(v, depth);
    if (!p.empty()) throw GgufError(fmt::format("{}{}", what, p));
}

}  // namespace detail
}  // namespace llm::gguf
