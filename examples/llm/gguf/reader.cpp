// The GGUF parser: header, metadata, tensor infos, then the checks that need all of them (data
// inside the file, no overlaps). Every number read is untrusted; see cursor.hpp for the reads.
#include <algorithm>
#include <bit>
#include <limits>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "gguf/cursor.hpp"
#include "gguf/detail.hpp"
#include "gguf/reader_impl.hpp"

namespace llm::gguf {

using detail::Cursor;
using detail::Field;
using detail::quoted;

namespace {

constexpr uint64_t int64_limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// The fewest bytes of one key-value pair (key length, type, a 1-byte value) and of one tensor
// info (name length, n_dims, one dimension, type, offset): what bounds the counts in the header.
constexpr uint64_t min_kv_bytes = 8 + 4 + 1;
constexpr uint64_t min_tensor_info_bytes = 8 + 4 + 8 + 4 + 8;

struct Parser {
    Cursor c;
    uint64_t values_left = max_metadata_values;

    Value value(ValueType t, const Field& f, int depth);
    Value array(const Field& f, int depth);
};

Value Parser::value(ValueType t, const Field& f, int depth) {
    switch (t) {
        case ValueType::u8: return Value::u8(c.read<uint8_t>(f));
        case ValueType::i8: return Value::i8(c.read<int8_t>(f));
        case ValueType::u16: return Value::u16(c.read<uint16_t>(f));
        case ValueType::i16: return Value::i16(c.read<int16_t>(f));
        case ValueType::u32: return Value::u32(c.read<uint32_t>(f));
        case ValueType::i32: return Value::i32(c.read<int32_t>(f));
        case ValueType::u64: return Value::u64(c.read<uint64_t>(f));
        case ValueType::i64: return Value::i64(c.read<int64_t>(f));
        case ValueType::f32: return Value::f32(c.read<float>(f));
        case ValueType::f64: return Value::f64(c.read<double>(f));
        case ValueType::boolean: {
            const uint64_t at = c.pos();
            const auto b = c.read<uint8_t>(f);
            if (b > 1) c.fail(f, at, fmt::format("bool value {} is neither 0 nor 1", b));
            return Value::boolean(b == 1);
        }
        case ValueType::string: return Value::string(c.string(f));
        case ValueType::array: return array(f, depth);
    }
    c.fail(f, c.pos(), fmt::format("unknown value type {}", static_cast<uint32_t>(t)));
}

Value Parser::array(const Field& f, int depth) {
    const uint64_t at = c.pos();
    if (depth + 1 > max_array_depth) c.fail(f, at, fmt::format("arrays nest deeper than {} levels", max_array_depth));
    const Field type_field = f.child(".element_type");
    const auto raw_type = c.read<uint32_t>(type_field);
    if (raw_type > detail::last_value_type) c.fail(type_field, at, fmt::format("unknown value type {}", raw_type));
    const auto type = static_cast<ValueType>(raw_type);

    const Field count_field = f.child(".count");
    const uint64_t count_at = c.pos();
    const auto count = c.read<uint64_t>(count_field);
    const uint64_t min_size = detail::min_encoded_size(type);
    if (count > c.left() / min_size) {
        c.fail(count_field, count_at,
               fmt::format("{} items of type {} need at least {} bytes each, but only {} bytes are left", count,
                           value_type_name(type), min_size, c.left()));
    }
    if (count > values_left) {
        c.fail(count_field, count_at,
               fmt::format("{} more items exceed the limit of {} metadata values per file", count, max_metadata_values));
    }
    values_left -= count;

    Value v;
    v.type = ValueType::array;
    Array& a = v.data.emplace<Array>();
    a.element_type = type;
    a.items.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) a.items.push_back(value(type, f.item(i), depth + 1));
    return v;
}

void read_metadata(Parser& p, Reader::Impl& impl, uint64_t kv_count) {
    Cursor& c = p.c;
    for (uint64_t i = 0; i < kv_count; ++i) {
        const Field pair_field{nullptr, "metadata", static_cast<int64_t>(i)};
        const Field key_field = pair_field.child(".key");
        const uint64_t key_at = c.pos();
        std::string key = c.string(key_field, max_key_bytes);
        if (p.values_left == 0) {
            c.fail(key_field, key_at, fmt::format("more than {} metadata values in the file", max_metadata_values));
        }
        --p.values_left;

        const std::string name = "metadata " + quoted(key);
        const Field field{nullptr, name};
        if (auto it = impl.key_index.find(key); it != impl.key_index.end()) {
            c.fail(field, key_at, fmt::format("duplicate key (its first value is at offset {})", impl.value_offsets[it->second]));
        }
        const Field type_field = field.child(".type");
        const uint64_t type_at = c.pos();
        const auto raw_type = c.read<uint32_t>(type_field);
        if (raw_type > detail::last_value_type) c.fail(type_field, type_at, fmt::format("unknown value type {}", raw_type));
        const auto type = static_cast<ValueType>(raw_type);

        const uint64_t value_at = c.pos();
        Value v = p.value(type, field, 0);
        if (key == "general.alignment") {
            if (type != ValueType::u32) {
                c.fail(type_field, type_at, fmt::format("general.alignment must be a u32, not a {}", value_type_name(type)));
            }
            const uint64_t a = std::get<uint64_t>(v.data);
            if (!detail::is_power_of_two(a)) c.fail(field, value_at, fmt::format("alignment {} is not a power of two", a));
            impl.alignment = static_cast<uint32_t>(a);
        }
        impl.key_index.emplace(key, impl.metadata.size());
        impl.value_offsets.push_back(value_at);
        impl.metadata.emplace_back(std::move(key), std::move(v));
    }
}

// Reads the tensor infos; returns where each one's offset field is, for the later checks.
std::vector<uint64_t> read_tensor_infos(Cursor& c, Reader::Impl& impl, uint64_t tensor_count) {
    std::vector<uint64_t> offset_fields;
    for (uint64_t i = 0; i < tensor_count; ++i) {
        const Field info_field{nullptr, "tensor", static_cast<int64_t>(i)};
        const Field name_field = info_field.child(".name");
        const uint64_t name_at = c.pos();
        TensorInfo t;
        t.name = c.string(name_field, max_tensor_name_bytes);
        if (auto it = impl.tensor_index.find(t.name); it != impl.tensor_index.end()) {
            c.fail(name_field, name_at, fmt::format("duplicate tensor name {} (also tensor {})", quoted(t.name), it->second));
        }
        const std::string name = "tensor " + quoted(t.name);
        const Field field{nullptr, name};

        const Field dims_field = field.child(".n_dims");
        const uint64_t dims_at = c.pos();
        const auto n_dims = c.read<uint32_t>(dims_field);
        if (n_dims == 0 || n_dims > max_dims) {
            c.fail(dims_field, dims_at, fmt::format("{} dimensions: a tensor has 1 to {}", n_dims, max_dims));
        }
        const Field ne_field = field.child(".ne");
        const uint64_t ne_at = c.pos();
        uint64_t elements = 1;
        for (uint32_t j = 0; j < n_dims; ++j) {
            const Field dim_field = ne_field.item(j);
            const uint64_t at = c.pos();
            const auto d = c.read<uint64_t>(dim_field);
            if (d == 0) c.fail(dim_field, at, "dimension is 0: every dimension must be at least 1");
            if (d > int64_limit / elements) {
                c.fail(dim_field, at, fmt::format("dimension {} makes the element count overflow 2^63", d));
            }
            elements *= d;
            t.ne.push_back(d);
        }
        const Field type_field = field.child(".type");
        const uint64_t type_at = c.pos();
        const auto raw_type = c.read<uint32_t>(type_field);
        if (!kernels::quant::find_traits(raw_type)) {
            c.fail(type_field, type_at, fmt::format("unsupported tensor type {} in tensor {}", raw_type,
                                                    detail::escaped(t.name)));
        }
        t.type = static_cast<GgmlType>(raw_type);
        try {
            t.bytes = tensor_bytes(t.type, t.ne);
        } catch (const GgufError& e) {
            c.fail(ne_field, ne_at, e.what());
        }
        const Field offset_field = field.child(".offset");
        const uint64_t offset_at = c.pos();
        t.offset = c.read<uint64_t>(offset_field);
        if (t.offset % impl.alignment != 0) {
            c.fail(offset_field, offset_at,
                   fmt::format("offset {} is not a multiple of the alignment {}", t.offset, impl.alignment));
        }
        impl.tensor_index.emplace(t.name, impl.tensors.size());
        impl.tensors.push_back(std::move(t));
        offset_fields.push_back(offset_at);
    }
    return offset_fields;
}

// Every tensor's data inside the file, and no two tensors sharing a byte.
void check_tensor_data(const Cursor& c, const Reader::Impl& impl, const std::vector<uint64_t>& offset_fields) {
    const uint64_t size = impl.bytes.size();
    const uint64_t data_size = size > impl.data_offset ? size - impl.data_offset : 0;
    const auto& ts = impl.tensors;
    auto field_of = [&](size_t i) { return "tensor " + quoted(ts[i].name) + ".offset"; };
    for (size_t i = 0; i < ts.size(); ++i) {
        if (ts[i].offset > data_size || ts[i].bytes > data_size - ts[i].offset) {
            const std::string f = field_of(i);
            c.fail(Field{nullptr, f}, offset_fields[i],
                   fmt::format("{} bytes at offset {} of the data section (file offset {}) end past the end of the "
                               "file: the data section holds {} bytes",
                               ts[i].bytes, ts[i].offset, impl.data_offset, data_size));
        }
    }
    std::vector<size_t> order(ts.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ts[a].offset < ts[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
        const TensorInfo& prev = ts[order[k - 1]];
        const TensorInfo& cur = ts[order[k]];
        if (prev.offset + prev.bytes > cur.offset) {   // both sums were checked to fit in the file
            const std::string f = field_of(order[k]);
            c.fail(Field{nullptr, f}, offset_fields[order[k]],
                   fmt::format("data [{}, {}) overlaps tensor {}'s data [{}, {})", cur.offset, cur.offset + cur.bytes,
                               quoted(prev.name), prev.offset, prev.offset + prev.bytes));
        }
    }
}

}  // namespace

void parse_gguf(Reader::Impl& impl) {
    Parser p{Cursor(impl.bytes, impl.path)};
    Cursor& c = p.c;

    const Field magic_field{nullptr, "magic"};
    c.need(4, magic_field);
    if (!std::equal(impl.bytes.begin(), impl.bytes.begin() + 4, std::begin(detail::magic))) {
        c.fail(magic_field, 0, fmt::format("expected \"GGUF\" (47 47 55 46), found {:02x} {:02x} {:02x} {:02x}",
                                           impl.bytes[0], impl.bytes[1], impl.bytes[2], impl.bytes[3]));
    }
    c.read<uint32_t>(magic_field);

    const Field version_field{nullptr, "version"};
    impl.version = c.read<uint32_t>(version_field);
    if (impl.version != 2 && impl.version != 3) {
        const uint32_t swapped = __builtin_bswap32(impl.version);
        if (swapped == 2 || swapped == 3) {
            c.fail(version_field, 4, fmt::format("version reads as {:#x}: a big-endian GGUF file, and only "
                                                 "little-endian files are supported", impl.version));
        }
        if (impl.version == 1) {
            c.fail(version_field, 4, "GGUF version 1 (32-bit counts) is not supported: convert the model again");
        }
        c.fail(version_field, 4, fmt::format("unsupported GGUF version {} (versions 2 and 3 are)", impl.version));
    }

    const Field tensor_count_field{nullptr, "tensor_count"};
    const auto tensor_count = c.read<uint64_t>(tensor_count_field);
    if (tensor_count > c.left() / min_tensor_info_bytes) {
        c.fail(tensor_count_field, 8,
               fmt::format("{} tensors cannot fit in the {} bytes left (a tensor info takes at least {})", tensor_count,
                           c.left(), min_tensor_info_bytes));
    }
    const Field kv_count_field{nullptr, "metadata_kv_count"};
    const auto kv_count = c.read<uint64_t>(kv_count_field);
    if (kv_count > c.left() / min_kv_bytes) {
        c.fail(kv_count_field, 16,
               fmt::format("{} key-value pairs cannot fit in the {} bytes left (a pair takes at least {})", kv_count,
                           c.left(), min_kv_bytes));
    }

    read_metadata(p, impl, kv_count);
    if (tensor_count > c.left() / min_tensor_info_bytes) {
        c.fail(tensor_count_field, 8,
               fmt::format("{} tensors cannot fit in the {} bytes left after the metadata (a tensor info takes at "
                           "least {})", tensor_count, c.left(), min_tensor_info_bytes));
    }
    const std::vector<uint64_t> offset_fields = read_tensor_infos(c, impl, tensor_count);
    // Both terms are below 2^63 (a file size and a u32), so the sum cannot wrap.
    impl.data_offset = (c.pos() + impl.alignment - 1) / impl.alignment * impl.alignment;
    check_tensor_data(c, impl, offset_fields);
}

}  // namespace llm::gguf
