// Bounded little-endian reads over untrusted bytes, each failure a GgufError
// "FILE: FIELD at offset N: what". Internal to the reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "gguf/gguf.hpp"

namespace llm::gguf::detail {

// The name of the field being read, as a chain of parts ("metadata \"k\"", "[3]", ".count") that
// is joined into a string only when an error is reported: arrays of a million items would
// otherwise format a million names.
struct Field {
    const Field* parent = nullptr;
    std::string_view part;
    int64_t index = -1;   // >= 0: an array item, printed "[index]" after `part`

    Field child(std::string_view p) const { return Field{this, p, -1}; }
    Field item(uint64_t i) const { return Field{this, {}, static_cast<int64_t>(i)}; }
    std::string str() const {
        std::string s = parent ? parent->str() : std::string();
        s += part;
        if (index >= 0) s += fmt::format("[{}]", index);
        return s;
    }
};

class Cursor {
public:
    Cursor(std::span<const uint8_t> bytes, std::string_view file) : bytes_(bytes), file_(file) {}

    uint64_t pos() const { return pos_; }
    uint64_t size() const { return bytes_.size(); }
    uint64_t left() const { return bytes_.size() - pos_; }

    [[noreturn]] void fail(const Field& f, uint64_t offset, std::string_view what) const {
        throw GgufError(fmt::format("{}: {} at offset {}: {}", file_, f.str(), offset, what));
    }

    void need(uint64_t n, const Field& f) const {
        if (n > left()) {
            fail(f, pos_, fmt::format("the file ends {} bytes on, inside this {}-byte field", left(), n));
        }
    }

    template <class T>
    T read(const Field& f) {
        need(sizeof(T), f);
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    // A GGUF string: a u64 length, then that many bytes. The length is checked against the bytes
    // left before anything is allocated.
    std::string string(const Field& f, uint64_t max_length = UINT64_MAX) {
        const uint64_t at = pos_;
        const auto length = read<uint64_t>(f);
        if (length > max_length) fail(f, at, fmt::format("length {} exceeds the limit of {} bytes", length, max_length));
        if (length > left()) {
            fail(f, at, fmt::format("string length {} exceeds the {} bytes left in the file", length, left()));
        }
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(length));
        pos_ += length;
        return s;
    }

private:
    std::span<const uint8_t> bytes_;
    std::string_view file_;
    uint64_t pos_ = 0;
};

}  // namespace llm::gguf::detail
