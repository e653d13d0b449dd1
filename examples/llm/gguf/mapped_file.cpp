#include "gguf/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "gguf/gguf.hpp"

namespace llm::gguf {

namespace {

// Closes the descriptor on every path out of open(); the mapping stays valid without it.
struct Descriptor {
    int fd;
    ~Descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
    throw GgufError(fmt::format("{}: cannot open: {}{}{}", path, what, err ? ": " : "", err ? std::strerror(err) : ""));
}

}  // namespace

MappedFile MappedFile::open(const std::string& path) {
    Descriptor d{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (d.fd < 0) fail(path, "open() failed", errno);
    struct stat st {};
    if (::fstat(d.fd, &st) != 0) fail(path, "fstat() failed", errno);
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file", 0);
    MappedFile f;
    if (st.st_size == 0) return f;
    const auto size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, d.fd, 0);
    if (p == MAP_FAILED) fail(path, fmt::format("mmap() of {} bytes failed", size), errno);
    f.data_ = static_cast<const uint8_t*>(p);
    f.size_ = size;
    return f;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
    if (this != &o) {
        release();
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

}  // namespace llm::gguf
