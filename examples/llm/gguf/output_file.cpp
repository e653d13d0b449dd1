#include "gguf/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "gguf/gguf.hpp"

namespace llm::gguf {

namespace {

std::string folder_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

OutputFile OutputFile::create(const std::string& path) {
    // The process id and a counter make the name unique among writers; O_EXCL makes sure of it.
    static std::atomic<uint64_t> counter{0};
    for (int attempt = 0;; ++attempt) {
        std::string temp = fmt::format("{}.tmp-{}-{}", path, ::getpid(), counter.fetch_add(1));
        // 0666 before the umask, as for any file a program creates.
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) return OutputFile(path, std::move(temp), fd);
        if (errno != EEXIST || attempt == 100) {
            throw GgufError(fmt::format("{}: cannot write: creating {} failed: {}", path, temp, std::strerror(errno)));
        }
    }
}

OutputFile::OutputFile(OutputFile&& o) noexcept
    : path_(std::move(o.path_)), temp_(std::move(o.temp_)), fd_(std::exchange(o.fd_, -1)) {}

OutputFile::~OutputFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(temp_.c_str());
    }
}

void OutputFile::fail(const std::string& what, int err) const {
    throw GgufError(fmt::format("{}: cannot write: {}: {}", path_, what, std::strerror(err)));
}

void OutputFile::write(const uint8_t* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail(fmt::format("writing {} failed", temp_), errno);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void OutputFile::commit() {
    if (::fsync(fd_) != 0) fail(fmt::format("fsync of {} failed", temp_), errno);
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp_.c_str());
        fail(fmt::format("closing {} failed", temp_), err);
    }
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp_.c_str());
        fail(fmt::format("renaming {} failed", temp_), err);
    }
    // The rename itself reaches the disk with the folder; a folder that cannot be synced (some
    // file systems refuse) leaves the file complete all the same.
    const int dir = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

}  // namespace llm::gguf
