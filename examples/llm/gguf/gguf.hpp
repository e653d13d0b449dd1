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
// Writer mistakes (a wrong data size, a duplicate tensor) and I/O failures are GgufErrors too.
class GgufError : public ptxsmith::Error {
public:
    using ptxsmith::Error::Error;
};

// Limits of the format as this project reads and writes it.
inline constexpr uint32_t default_alignment = 32;
inline constexpr size_t max_dims = 4;
// The GGUF specification allows tensor names of up to 64 bytes and the reader accepts them; ggml
// itself refuses names of 64 bytes or more, so the writer stays within 63.
inline constexpr size_t max_tensor_name_bytes = 64;
inline constexpr size_t max_written_tensor_name_bytes = 63;
inline constexpr size_t max_key_bytes = 65535;        // the specification's limit
inline constexpr int max_array_depth = 8;              // arrays of arrays, nested this deep at most
// Every metadata value (array items included) becomes a Value of ~48 bytes, so a file could make
// the reader allocate ~48x its own size; this cap bounds that (real tokenizers hold < 1M values).
inline constexpr uint64_t max_metadata_values = uint64_t{1} << 24;

enum class ValueType : uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
    string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
// "u8", "i8", ..., "bool", "string", "array", ...; "unknown" for an id outside the enum.
const char* value_type_name(ValueType t);

struct Value;
// An array's items all have one element type (which may itself be array: arrays nest).
struct Array {
    ValueType element_type = ValueType::u8;
    std::vector<Value> items;
};

// One metadata value. Unsigned integers live in the uint64_t alternative, signed ones in int64_t,
// f32 and f64 in double (every f32 is exact there), bool in bool, string in std::string (bytes,
// not checked for UTF-8), array in Array.
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
    // Throws GgufError when an item's type is not `element_type`.
    static Value array(ValueType element_type, std::vector<Value> items);
    // Arrays of the common kinds.
    static Value strings(const std::vector<std::string>& v);
    static Value f32s(const std::vector<float>& v);
    static Value i32s(const std::vector<int32_t>& v);

    // Same type and same value; floats compare by their bits (a NaN equals the same NaN, and
    // 0.0 differs from -0.0), so that round trips can be checked exactly.
    bool operator==(const Value& o) const;
};

struct TensorInfo {
    std::string name;
    std::vector<uint64_t> ne;   // ne[0] is the row length (contiguous); 1 to 4 dims, each >= 1
    GgmlType type = GgmlType::f32;
    uint64_t offset = 0;        // from the start of the data section
    uint64_t bytes = 0;         // computed from ne and type
    uint64_t elements() const;
};

// Bytes of a tensor of shape `ne` and type `type`; throws GgufError for an unknown type, an ne0
// that is not a multiple of the type's block size, a zero dimension, or a size past 2^63.
uint64_t tensor_bytes(GgmlType type, std::span<const uint64_t> ne);

class Reader {
public:
    // Maps `path` read-only and parses it; throws GgufError on anything malformed. The mapping
    // lives as long as the Reader (tensor_data points into it).
    static Reader open(const std::string& path);
    // Parses a copy of bytes already in memory (tests, the fuzzer); `name` stands for the file in
    // error messages.
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

    // Typed access, for T in uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, uint64_t,
    // int64_t, float, double, bool, std::string. Integer types convert from any integer value in
    // range (u32 or u64 for get<uint32_t>, any signedness); floats accept f32 or f64 (an f64
    // outside float's range is refused). A missing key or a wrong type throws GgufError naming
    // the key and the type found; get_optional gives nullopt only for a missing key.
    template <class T> T get(std::string_view key) const;
    template <class T> std::optional<T> get_optional(std::string_view key) const;
    // Array accessors: strings, f32 (from f32 or f64 arrays), i32 (from any integer array in range).
    std::vector<std::string> get_strings(std::string_view key) const;
    std::vector<float> get_f32s(std::string_view key) const;
    std::vector<int32_t> get_i32s(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const;
    const TensorInfo* find_tensor(std::string_view name) const;
    // The tensor's bytes inside the mapping (checked at open: inside the data section).
    std::span<const uint8_t> tensor_data(const TensorInfo& t) const;

    struct Impl;   // opaque: the parser's state (reader_impl.hpp)

private:
    explicit Reader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Builds a GGUF file in memory or streams it to disk. Tensors are written in the order added,
// each at an offset aligned to `alignment` and padded to it (general.alignment is written when
// not 32, or when set explicitly). Copies share deferred callbacks.
class Writer {
public:
    explicit Writer(uint32_t alignment = default_alignment, uint32_t version = 3);
    // Replaces an existing key, keeps first-insertion order. Setting general.alignment (a u32
    // power of two) changes the alignment. Throws GgufError for a value whose data does not match
    // its type (see Value) or that nests deeper than max_array_depth.
    void set(std::string key, Value v);
    // Adds a tensor; `data` must be exactly the size ne and type imply (checked).
    void add_tensor(std::string name, std::vector<uint64_t> ne, GgmlType type, std::vector<uint8_t> data);
    // Adds a tensor whose bytes come later from a callback (the model maker quantises large
    // tensors on its worker threads while writing): `fill` writes exactly tensor_bytes(type, ne)
    // bytes to `out`. It runs once per to_bytes() or write(); an exception from it stops the write
    // (no file is left behind) and reaches the caller unchanged.
    void add_tensor_deferred(std::string name, std::vector<uint64_t> ne, GgmlType type,
                             std::function<void(uint8_t* out)> fill);
    std::vector<uint8_t> to_bytes() const;
    // Writes to `path` through a temporary file in the same folder and a rename, so that `path`
    // is either the old file or the complete new one; calls progress(done, total) in bytes.
    // Memory: the header plus the largest deferred tensor.
    void write(const std::string& path, const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

private:
    struct Pending;
    uint32_t alignment_;
    uint32_t version_;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::vector<std::shared_ptr<Pending>> tensors_;
    std::vector<uint8_t> header_bytes() const;
    void check_new_tensor(const std::string& name, const std::vector<uint64_t>& ne, GgmlType type) const;
};

}  // namespace llm::gguf
