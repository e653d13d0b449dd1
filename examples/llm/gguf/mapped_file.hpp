// A whole file mapped read-only into memory, unmapped when the object goes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace llm::gguf {

class MappedFile {
public:
    MappedFile() = default;
    // Throws GgufError ("PATH: cannot open: REASON") when the file cannot be opened, is not a
    // regular file or cannot be mapped. An empty file maps to an empty span.
    static MappedFile open(const std::string& path);

    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&& o) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return {data_, size_}; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    void release() noexcept;
};

}  // namespace llm::gguf
