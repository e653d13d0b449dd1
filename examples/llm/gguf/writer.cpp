// The GGUF writer: metadata and tensor infos serialised in memory, tensor data streamed after them.
#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "gguf/detail.hpp"
#include "gguf/gguf.hpp"
#include "gguf/output_file.hpp"

namespace llm::gguf {

using detail::quoted;

struct Writer::Pending {
    std::string name;
    std::vector<uint64_t> ne;
    GgmlType type = GgmlType::f32;
    uint64_t bytes = 0;
    std::vector<uint8_t> data;                 // an ordinary tensor
    std::function<void(uint8_t* out)> fill;    // a deferred one
};

namespace {

// Bytes past a deferred tensor's end, poisoned before `fill` runs and checked after it, so that a
// callback writing too much is caught (as far as these bytes reach) rather than left unnoticed.
constexpr size_t guard_bytes = 64;
constexpr uint8_t guard_value = 0xA5;

uint64_t round_up(uint64_t n, uint64_t alignment) {
    const uint64_t r = n % alignment;
    return r == 0 ? n : n + (alignment - r);
}

class Bytes {
public:
    template <class T>
    void put(T v) {
        const auto at = out_.size();
        out_.resize(at + sizeof(T));
        std::memcpy(out_.data() + at, &v, sizeof(T));
    }
    void put_string(std::string_view s) {
        put<uint64_t>(s.size());
        out_.insert(out_.end(), s.begin(), s.end());
    }
    // A value without its type tag (the tag precedes top-level values only).
    void put_value(const Value& v) {
        switch (v.type) {
            case ValueType::u8: return put(static_cast<uint8_t>(std::get<uint64_t>(v.data)));
            case ValueType::i8: return put(static_cast<int8_t>(std::get<int64_t>(v.data)));
            case ValueType::u16: return put(static_cast<uint16_t>(std::get<uint64_t>(v.data)));
            case ValueType::i16: return put(static_cast<int16_t>(std::get<int64_t>(v.data)));
            case ValueType::u32: return put(static_cast<uint32_t>(std::get<uint64_t>(v.data)));
            case ValueType::i32: return put(static_cast<int32_t>(std::get<int64_t>(v.data)));
            case ValueType::u64: return put(std::get<uint64_t>(v.data));
            case ValueType::i64: return put(std::get<int64_t>(v.data));
            case ValueType::f32: return put(static_cast<float>(std::get<double>(v.data)));   // checked exact by set()
            case ValueType::f64: return put(std::get<double>(v.data));
            case ValueType::boolean: return put(static_cast<uint8_t>(std::get<bool>(v.data) ? 1 : 0));
            case ValueType::string: return put_string(std::get<std::string>(v.data));
            case ValueType::array: {
                const auto& a = std::get<Array>(v.data);
                put(static_cast<uint32_t>(a.element_type));
                put<uint64_t>(a.items.size());
                for (const Value& item : a.items) put_value(item);
                return;
            }
        }
    }
    void pad_to(uint64_t alignment) { out_.resize(static_cast<size_t>(round_up(out_.size(), alignment)), 0); }
    std::vector<uint8_t>& vector() { return out_; }

private:
    std::vector<uint8_t> out_;
};

// Runs a deferred tensor's callback into `out` (bytes + guard_bytes long) and checks the guard.
// The tensor's bytes start zeroed, so that a callback that writes too little leaves zeros (the same
// in every run) rather than an earlier tensor's bytes.
void run_fill(const std::function<void(uint8_t*)>& fill, uint8_t* out, uint64_t bytes, const std::string& name) {
    std::memset(out, 0, static_cast<size_t>(bytes));
    std::memset(out + bytes, guard_value, guard_bytes);
    fill(out);
    const bool intact = std::all_of(out + bytes, out + bytes + guard_bytes, [](uint8_t b) { return b == guard_value; });
    if (!intact) {
        throw GgufError(fmt::format("tensor {}: the deferred fill wrote past the tensor's {} bytes", quoted(name), bytes));
    }
}

}  // namespace

Writer::Writer(uint32_t alignment, uint32_t version) : alignment_(default_alignment), version_(version) {
    if (version != 2 && version != 3) throw GgufError(fmt::format("cannot write GGUF version {} (2 or 3)", version));
    if (alignment != default_alignment) set("general.alignment", Value::u32(alignment));
}

void Writer::set(std::string key, Value v) {
    if (key.size() > max_key_bytes) {
        throw GgufError(fmt::format("metadata key {} is {} bytes long, more than {}", quoted(key), key.size(), max_key_bytes));
    }
    detail::check_value(v, "metadata " + quoted(key));
    if (key == "general.alignment") {
        if (v.type != ValueType::u32) {
            throw GgufError(fmt::format("general.alignment must be a u32, not a {}", value_type_name(v.type)));
        }
        const uint64_t a = std::get<uint64_t>(v.data);
        if (!detail::is_power_of_two(a)) throw GgufError(fmt::format("alignment {} is not a power of two", a));
        alignment_ = static_cast<uint32_t>(a);
    }
    for (auto& [k, old] : metadata_) {
        if (k == key) {
            old = std::move(v);
            return;
        }
    }
    metadata_.emplace_back(std::move(key), std::move(v));
}

void Writer::check_new_tensor(const std::string& name, const std::vector<uint64_t>& ne, GgmlType type) const {
    if (name.size() > max_written_tensor_name_bytes) {
        throw GgufError(fmt::format("tensor name {} is {} bytes long; ggml reads at most {}", quoted(name), name.size(),
                                    max_written_tensor_name_bytes));
    }
    for (const auto& t : tensors_) {
        if (t->name == name) throw GgufError(fmt::format("tensor {} is added twice", quoted(name)));
    }
    try {
        (void)tensor_bytes(type, ne);
    } catch (const GgufError& e) {
        throw GgufError(fmt::format("tensor {}: {}", quoted(name), e.what()));
    }
}

void Writer::add_tensor(std::string name, std::vector<uint64_t> ne, GgmlType type, std::vector<uint8_t> data) {
    check_new_tensor(name, ne, type);
    const uint64_t bytes = tensor_bytes(type, ne);
    if (data.size() != bytes) {
        throw GgufError(fmt::format("tensor {}: {} bytes of data given, its shape and type need {}", quoted(name),
                                    data.size(), bytes));
    }
    auto p = std::make_shared<Pending>();
    *p = Pending{std::move(name), std::move(ne), type, bytes, std::move(data), {}};
    tensors_.push_back(std::move(p));
}

void Writer::add_tensor_deferred(std::string name, std::vector<uint64_t> ne, GgmlType type,
                                 std::function<void(uint8_t* out)> fill) {
    check_new_tensor(name, ne, type);
    if (!fill) throw GgufError(fmt::format("tensor {}: the deferred fill is empty", quoted(name)));
    const uint64_t bytes = tensor_bytes(type, ne);
    auto p = std::make_shared<Pending>();
    *p = Pending{std::move(name), std::move(ne), type, bytes, {}, std::move(fill)};
    tensors_.push_back(std::move(p));
}

std::vector<uint8_t> Writer::header_bytes() const {
    Bytes out;
    for (uint8_t b : detail::magic) out.put(b);
    out.put(version_);
    out.put<uint64_t>(tensors_.size());
    out.put<uint64_t>(metadata_.size());
    for (const auto& [key, v] : metadata_) {
        out.put_string(key);
        out.put(static_cast<uint32_t>(v.type));
        out.put_value(v);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        out.put_string(t->name);
        out.put(static_cast<uint32_t>(t->ne.size()));
        for (uint64_t d : t->ne) out.put(d);
        out.put(static_cast<uint32_t>(t->type));
        out.put(offset);
        const uint64_t padded = round_up(t->bytes, alignment_);
        if (padded > (uint64_t{1} << 62) - offset) throw GgufError("the tensors add up to more than 2^62 bytes");
        offset += padded;
    }
    out.pad_to(alignment_);
    return std::move(out.vector());
}

std::vector<uint8_t> Writer::to_bytes() const {
    std::vector<uint8_t> out = header_bytes();
    for (const auto& t : tensors_) {
        const size_t at = out.size();
        if (t->fill) {
            out.resize(at + t->bytes + guard_bytes);
            run_fill(t->fill, out.data() + at, t->bytes, t->name);
            out.resize(at + t->bytes);
        } else {
            out.insert(out.end(), t->data.begin(), t->data.end());
        }
        out.resize(static_cast<size_t>(round_up(out.size(), alignment_)), 0);
    }
    return out;
}

void Writer::write(const std::string& path, const std::function<void(uint64_t, uint64_t)>& progress) const {
    // Progress comes at least every `chunk` bytes, so that multi-GB tensors still show movement.
    constexpr uint64_t chunk = uint64_t{64} << 20;
    const std::vector<uint8_t> header = header_bytes();
    uint64_t total = header.size();
    size_t largest_deferred = 0;
    for (const auto& t : tensors_) {
        total += round_up(t->bytes, alignment_);
        if (t->fill) largest_deferred = std::max(largest_deferred, static_cast<size_t>(t->bytes));
    }

    OutputFile file = OutputFile::create(path);
    uint64_t done = 0;
    auto put = [&](const uint8_t* p, uint64_t n) {
        while (n > 0) {
            const uint64_t step = std::min(n, chunk);
            file.write(p, static_cast<size_t>(step));
            p += step;
            n -= step;
            done += step;
            if (progress) progress(done, total);
        }
    };
    put(header.data(), header.size());
    std::vector<uint8_t> buffer;
    if (largest_deferred > 0) buffer.resize(largest_deferred + guard_bytes);
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (const auto& t : tensors_) {
        if (t->fill) {
            run_fill(t->fill, buffer.data(), t->bytes, t->name);
            put(buffer.data(), t->bytes);
        } else {
            put(t->data.data(), t->data.size());
        }
        put(zeros.data(), round_up(t->bytes, alignment_) - t->bytes);
    }
    file.commit();
}

}  // namespace llm::gguf
