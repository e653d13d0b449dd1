// A file written under a temporary name in its final folder and renamed into place by commit(),
// so that readers see either the old file or the whole new one. Dropped without commit(), the
// temporary file is removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace llm::gguf {

class OutputFile {
public:
    // Throws GgufError ("PATH: cannot write: REASON").
    static OutputFile create(const std::string& path);
    OutputFile(OutputFile&& o) noexcept;
    OutputFile& operator=(OutputFile&&) = delete;
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile();

    void write(const uint8_t* p, size_t n);
    // Flushes to disk, renames over `path` and syncs the folder.
    void commit();

private:
    OutputFile(std::string path, std::string temp, int fd) : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
    [[noreturn]] void fail(const std::string& what, int err) const;
    std::string path_;
    std::string temp_;
    int fd_ = -1;
};

}  // namespace llm::gguf
