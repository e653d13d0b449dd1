// The Reader's construction and its accessors: typed metadata, tensors and their bytes.
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "gguf/detail.hpp"
#include "gguf/reader_impl.hpp"

namespace llm::gguf {

using detail::quoted;

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Reader Reader::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->mapping = MappedFile::open(path);
    impl->bytes = impl->mapping.bytes();
    parse_gguf(*impl);
    return Reader(std::move(impl));
}

Reader Reader::parse(std::span<const uint8_t> bytes, std::string name) {
    auto impl = std::make_unique<Impl>();
    impl->path = std::move(name);
    impl->owned.assign(bytes.begin(), bytes.end());
    impl->bytes = impl->owned;
    parse_gguf(*impl);
    return Reader(std::move(impl));
}

const std::string& Reader::path() const { return impl_->path; }
uint32_t Reader::version() const { return impl_->version; }
uint32_t Reader::alignment() const { return impl_->alignment; }
uint64_t Reader::data_offset() const { return impl_->data_offset; }
uint64_t Reader::file_size() const { return impl_->bytes.size(); }
const std::vector<std::pair<std::string, Value>>& Reader::metadata() const { return impl_->metadata; }
const std::vector<TensorInfo>& Reader::tensors() const { return impl_->tensors; }

const Value* Reader::find(std::string_view key) const {
    auto it = impl_->key_index.find(key);
    return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].second;
}

const TensorInfo* Reader::find_tensor(std::string_view name) const {
    auto it = impl_->tensor_index.find(name);
    return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

std::span<const uint8_t> Reader::tensor_data(const TensorInfo& t) const {
    // The parser checked this for its own TensorInfos; a copy changed since could point anywhere.
    const uint64_t size = impl_->bytes.size();
    const uint64_t data_size = size > impl_->data_offset ? size - impl_->data_offset : 0;
    if (t.offset > data_size || t.bytes > data_size - t.offset) {
        throw GgufError(fmt::format("{}: tensor {}: {} bytes at data offset {} lie outside the data section of {} bytes",
                                    impl_->path, quoted(t.name), t.bytes, t.offset, data_size));
    }
    return impl_->bytes.subspan(static_cast<size_t>(impl_->data_offset + t.offset), static_cast<size_t>(t.bytes));
}

namespace {

template <class T> constexpr const char* wanted_name();
template <> constexpr const char* wanted_name<uint8_t>() { return "u8"; }
template <> constexpr const char* wanted_name<int8_t>() { return "i8"; }
template <> constexpr const char* wanted_name<uint16_t>() { return "u16"; }
template <> constexpr const char* wanted_name<int16_t>() { return "i16"; }
template <> constexpr const char* wanted_name<uint32_t>() { return "u32"; }
template <> constexpr const char* wanted_name<int32_t>() { return "i32"; }
template <> constexpr const char* wanted_name<uint64_t>() { return "u64"; }
template <> constexpr const char* wanted_name<int64_t>() { return "i64"; }
template <> constexpr const char* wanted_name<float>() { return "f32"; }
template <> constexpr const char* wanted_name<double>() { return "f64"; }
template <> constexpr const char* wanted_name<bool>() { return "bool"; }
template <> constexpr const char* wanted_name<std::string>() { return "string"; }

std::string describe(const Value& v) {
    if (const auto* u = std::get_if<uint64_t>(&v.data)) return fmt::format("{} {}", value_type_name(v.type), *u);
    if (const auto* i = std::get_if<int64_t>(&v.data)) return fmt::format("{} {}", value_type_name(v.type), *i);
    if (const auto* d = std::get_if<double>(&v.data)) return fmt::format("{} {}", value_type_name(v.type), *d);
    if (v.type == ValueType::array) {
        const auto& a = std::get<Array>(v.data);
        return fmt::format("array of {} {}", a.items.size(), value_type_name(a.element_type));
    }
    return value_type_name(v.type);
}

// Converts one value to T, or returns nullopt when its type or range does not allow it.
template <class T>
std::optional<T> convert(const Value& v) {
    if constexpr (std::is_same_v<T, bool>) {
        if (const auto* b = std::get_if<bool>(&v.data)) return *b;
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (const auto* s = std::get_if<std::string>(&v.data)) return *s;
    } else if constexpr (std::is_floating_point_v<T>) {
        if (const auto* d = std::get_if<double>(&v.data)) {
            if constexpr (std::is_same_v<T, float>) {
                // An f64 beyond float's range has no float (and converting it is undefined).
                if (std::isfinite(*d) && std::fabs(*d) > static_cast<double>(std::numeric_limits<float>::max())) {
                    return std::nullopt;
                }
            }
            return static_cast<T>(*d);
        }
    } else {
        if (const auto* u = std::get_if<uint64_t>(&v.data); u && std::in_range<T>(*u)) return static_cast<T>(*u);
        if (const auto* i = std::get_if<int64_t>(&v.data); i && std::in_range<T>(*i)) return static_cast<T>(*i);
    }
    return std::nullopt;
}

}  // namespace

template <class T>
std::optional<T> Reader::get_optional(std::string_view key) const {
    auto it = impl_->key_index.find(key);
    if (it == impl_->key_index.end()) return std::nullopt;
    const Value& v = impl_->metadata[it->second].second;
    if (auto x = convert<T>(v)) return x;
    throw GgufError(fmt::format("{}: metadata {} at offset {}: expected {}, found {}", impl_->path, quoted(key),
                                impl_->value_offsets[it->second], wanted_name<T>(), describe(v)));
}

template <class T>
T Reader::get(std::string_view key) const {
    if (auto x = get_optional<T>(key)) return *std::move(x);
    throw GgufError(fmt::format("{}: metadata {}: the key is missing (wanted a {})", impl_->path, quoted(key), wanted_name<T>()));
}

#define PTXSMITH_GGUF_GET(T)                                                     \
    template T Reader::get<T>(std::string_view key) const;                       \
    template std::optional<T> Reader::get_optional<T>(std::string_view key) const;
PTXSMITH_GGUF_GET(uint8_t)
PTXSMITH_GGUF_GET(int8_t)
PTXSMITH_GGUF_GET(uint16_t)
PTXSMITH_GGUF_GET(int16_t)
PTXSMITH_GGUF_GET(uint32_t)
PTXSMITH_GGUF_GET(int32_t)
PTXSMITH_GGUF_GET(uint64_t)
PTXSMITH_GGUF_GET(int64_t)
PTXSMITH_GGUF_GET(float)
PTXSMITH_GGUF_GET(double)
PTXSMITH_GGUF_GET(bool)
PTXSMITH_GGUF_GET(std::string)
#undef PTXSMITH_GGUF_GET

namespace {

// Whether items of type `t` can become T at all (ranges are checked item by item), so that an
// empty array of the wrong kind is refused too.
template <class T>
bool holds_kind(ValueType t) {
    if constexpr (std::is_same_v<T, std::string>) {
        return t == ValueType::string;
    } else if constexpr (std::is_floating_point_v<T>) {
        return t == ValueType::f32 || t == ValueType::f64;
    } else {
        return t != ValueType::string && t != ValueType::array && t != ValueType::boolean && t != ValueType::f32 &&
               t != ValueType::f64;
    }
}

// The items of an array converted to T; throws naming the key, the item and what it holds.
template <class T>
std::vector<T> array_of(const Reader& r, const Reader::Impl& impl, std::string_view key, const char* wanted) {
    auto it = impl.key_index.find(key);
    if (it == impl.key_index.end()) {
        throw GgufError(fmt::format("{}: metadata {}: the key is missing (wanted an array of {})", r.path(), quoted(key), wanted));
    }
    const Value& v = impl.metadata[it->second].second;
    const uint64_t at = impl.value_offsets[it->second];
    const auto* a = std::get_if<Array>(&v.data);
    if (!a) {
        throw GgufError(fmt::format("{}: metadata {} at offset {}: expected an array of {}, found {}", r.path(),
                                    quoted(key), at, wanted, describe(v)));
    }
    if (!holds_kind<T>(a->element_type)) {
        throw GgufError(fmt::format("{}: metadata {} at offset {}: expected an array of {}, found {}", r.path(),
                                    quoted(key), at, wanted, describe(v)));
    }
    std::vector<T> out;
    out.reserve(a->items.size());
    for (size_t i = 0; i < a->items.size(); ++i) {
        auto x = convert<T>(a->items[i]);
        if (!x) {
            throw GgufError(fmt::format("{}: metadata {} at offset {}: expected an array of {}, found {} at index {}",
                                        r.path(), quoted(key), at, wanted, describe(a->items[i]), i));
        }
        out.push_back(*std::move(x));
    }
    return out;
}

}  // namespace

std::vector<std::string> Reader::get_strings(std::string_view key) const {
    return array_of<std::string>(*this, *impl_, key, "string");
}

std::vector<float> Reader::get_f32s(std::string_view key) const { return array_of<float>(*this, *impl_, key, "f32"); }

std::vector<int32_t> Reader::get_i32s(std::string_view key) const { return array_of<int32_t>(*this, *impl_, key, "i32"); }

}  // namespace llm::gguf
