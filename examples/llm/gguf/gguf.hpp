// GGUF files (v2 and v3): a reader over a memory-mapped file and a writer.
//
// Everything read from a file is untrusted: counts, lengths, offsets and sizes are checked for
// overflow and against the file's size before use, so a damaged or hostile file gives one
// GgufError naming the file, the field and its byte offset, never a crash, an over-read or a
// huge allocation. Layout: ../shared/formats.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kernels/quant.hpp"
#include "ptxgen/error.hpp"

namespace llm::gguf {

using kernels::quant::GgmlType;

// A malformed file, or a value of the wrong type asked for: "FILE: FIELD at offset N: what".
class GgufError : public ptxsmith::Error {
public:
    using ptxsmith::Error::Error;
};

enum class ValueType : uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
    string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
const char* value_type_name(ValueType t);

struct Value;
// An array's items all have one element type (which may itself be array: arrays nest).
struct Array {
    ValueType element_type = ValueType::u8;
    std::vector<Value> items;
};

struct Value {
    ValueType type = ValueType::u8;
    std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

    static Value u8(uint8_t v);
    static Value i8(int8_t v);
    static Value u16(uint16_t v);
    static Value i16(int16_t v);
    static Value u32(uint32_t v);
    static Value i32(int32_t v);
    static Value f32(float v);
    static Value boolean(bool v);
    static Value string(std::string v);
    static Value u64(uint64_t v);
    static Value i64(int64_t v);
    static Value f64(double v);
    static Value array(ValueType element_type, std::vector<Value> items);
    // Arrays of the common kinds.
    static Value strings(const std::vector<std::string>& v);
    static Value f32s(const std::vector<float>& v);
    static Value i32s(const std::vector<int32_t>& v);

    bool operator==(const Value& o) const;
};

struct TensorInfo {
    std::string name;
    std::vector<uint64_t> ne;   // ne[0] is the row length (contiguous)
    GgmlType type = GgmlType::f32;
    uint64_t offset = 0;        // from the start of the data section
    uint64_t bytes = 0;         // computed from ne and type
    uint64_t elements() const;
};

class Reader {
public:
    // Maps and parses `path`; throws GgufError on anything malformed.
    static Reader open(const std::string& path);
    // Parses bytes already in memory (tests, the fuzzer); `name` is used in error messages.
    static Reader parse(std::span<const uint8_t> bytes, std::string name);

    Reader(Reader&&) noexcept;
    Reader& operator=(Reader&&) noexcept;
    ~Reader();

    const std::string& path() const;
    uint32_t version() const;
    uint32_t alignment() const;
    uint64_t data_offset() const;   // where the data section starts in the file
    uint64_t file_size() const;

    // Metadata in file order.
    const std::vector<std::pair<std::string, Value>>& metadata() const;
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed access. Integer types convert where the value fits (u32 or u64 for get<uint32_t>,
    // any signedness in range); floats accept f32 or f64. A missing key or a wrong type throws
    // GgufError naming the key and the type found.
    template <class T> T get(std::string_view key) const;
    template <class T> std::optional<T> get_optional(std::string_view key) const;
    // Array accessors: strings, f32 (from f32 arrays), i32 (from any integer array in range).
    std::vector<std::string> get_strings(std::string_view key) const;
    std::vector<float> get_f32s(std::string_view key) const;
    std::vector<int32_t> get_i32s(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const;
    const TensorInfo* find_tensor(std::string_view name) const;
    // The tensor's bytes inside the mapping (checked at open: inside the data section).
    std::span<const uint8_t> tensor_data(const TensorInfo& t) const;

private:
    struct Impl;
    explicit Reader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Builds a GGUF file in memory or streams it to disk. Tensors are written in the order added,
// each at an offset aligned to `alignment` (general.alignment is written when not 32).
class Writer {
public:
    explicit Writer(uint32_t alignment = 32, uint32_t version = 3);
    void set(std::string key, Value v);   // replaces an existing key, keeps first-insertion order
    // Adds a tensor; `data` must be exactly the size ne and type imply (checked).
    void add_tensor(std::string name, std::vector<uint64_t> ne, GgmlType type, std::vector<uint8_t> data);
    // Adds a tensor whose bytes come later from a callback (the model maker quantises large
    // tensors on its worker threads while writing): `fill` writes exactly `bytes` bytes.
    void add_tensor_deferred(std::string name, std::vector<uint64_t> ne, GgmlType type,
                             std::function<void(uint8_t* out)> fill);
    std::vector<uint8_t> to_bytes() const;
    // Writes to `path` through a temporary file and a rename; calls progress(done, total) in bytes.
    void write(const std::string& path, const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

private:
    struct Pending;
    uint32_t alignment_;
    uint32_t version_;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::vector<std::shared_ptr<Pending>> tensors_;
};

}  // namespace llm::gguf
