// Reading and writing one disk entry. POSIX calls rather than iostreams: the atomic publish needs
// O_EXCL and rename(2), and the damaged-entry removal needs to compare inodes.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_disk.hpp"
#include "ptxsmith/runtime/module_cache_entry.hpp"

namespace ptxsmith::runtime {

namespace {

// Reads up to `size` bytes, fewer only at end of file. -1 on an error (errno set).
ssize_t read_fully(int fd, uint8_t* out, size_t size) {
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::read(fd, out + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(done);
}

bool write_fully(int fd, const uint8_t* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Unique across threads (counter), processes (pid; a forked child inherits the counter and the
// random state) and hosts sharing a network directory (random).
std::string temporary_name(const std::string& key) {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 random{std::random_device{}()};
    return fmt::format("{}.cubin.tmp.{}.{}.{:08x}", key, ::getpid(), counter++, static_cast<uint32_t>(random()));
}

}  // namespace

DiskCache::DiskCache(CacheSettings settings) : settings_(std::move(settings)) {
    if (!settings_.warn) settings_.warn = warn_on_stderr;
    if (settings_.mode != CacheMode::off && settings_.dir.empty()) {
        throw Error("module cache: no directory given (mode is not off)");
    }
}

std::filesystem::path DiskCache::entry_path(const std::string& key) const {
    if (!is_cache_key(key)) throw Error(fmt::format("module cache: '{}' is not a cache key", key));
    return settings_.dir / key.substr(0, 2) / (key + ".cubin");
}

void DiskCache::report_once(const std::string& key, const std::string& line) {
    {
        std::lock_guard lock(reported_mutex_);
        if (!reported_.insert(key).second) return;
    }
    settings_.warn(line);
}

void DiskCache::remove_if_same_file(const std::string& path, int fd) const {
    // Another process may have replaced the damaged file with a good one since we opened it;
    // only the file we judged goes.
    struct stat opened{}, now{};
    if (::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &now) == 0 && opened.st_dev == now.st_dev &&
        opened.st_ino == now.st_ino) {
        ::unlink(path.c_str());
    }
}

std::optional<std::vector<uint8_t>> DiskCache::read(const std::string& key) {
    if (settings_.mode == CacheMode::off) return std::nullopt;
    const std::string path = entry_path(key).string();
    Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            report_once(key, fmt::format("module cache: cannot read {}: {}; compiling instead", path, std::strerror(errno)));
        }
        return std::nullopt;
    }

    std::string problem;
    std::vector<uint8_t> payload;
    struct stat st{};
    if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        problem = "not a regular file";
    } else {
        std::array<uint8_t, kEntryHeaderBytes> header{};
        const ssize_t got = read_fully(file.fd, header.data(), header.size());
        const uint64_t file_size = static_cast<uint64_t>(st.st_size);
        EntryHeader h;
        if (got < 0) {
            problem = fmt::format("read error: {}", std::strerror(errno));
        } else if (h = check_entry_header(std::span(header).first(static_cast<size_t>(got)), key, file_size);
                   !h.problem.empty()) {
            problem = h.problem;
        } else {
            // Sized from the header only after the header matched the file's size, so a foreign
            // file cannot make us allocate at will.
            payload.resize(h.payload_size);
            const ssize_t n = read_fully(file.fd, payload.data(), payload.size());
            if (n != static_cast<ssize_t>(payload.size())) {
                problem = "truncated while reading";
            } else if (sha256(payload) != h.payload_sha256) {
                problem = "checksum mismatch";
            }
        }
    }
    if (problem.empty()) {
        if (settings_.mode == CacheMode::on) ::futimens(file.fd, nullptr);  // its age for LRU eviction
        return payload;
    }

    damaged_.fetch_add(1);
    const bool removing = settings_.mode == CacheMode::on;
    report_once(key, fmt::format("module cache: {} entry {}: {}", removing ? "dropping damaged" : "ignoring damaged (readonly)",
                                 path, problem));
    if (removing) remove_if_same_file(path, file.fd);
    return std::nullopt;
}

void DiskCache::write(const std::string& key, std::span<const uint8_t> payload) {
    if (settings_.mode != CacheMode::on) return;
    if (kEntryHeaderBytes + payload.size() > settings_.max_bytes) return;  // could never stay
    const std::filesystem::path final_path = entry_path(key);
    const std::filesystem::path dir = final_path.parent_path();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(fmt::format("module cache: cannot create {}: {}", dir.string(), ec.message()));

    const EntryHeaderBytes header = encode_entry_header(key, payload);
    std::string temp;
    Fd out;
    for (int attempt = 0; out.fd < 0; ++attempt) {
        temp = (dir / temporary_name(key)).string();
        out.fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);  // umask applies
        if (out.fd >= 0) break;
        const int error = errno;
        // EEXIST: a name clash, so another name; ENOENT: a concurrent clear() removed the
        // subdirectory, so create it again.
        if ((error != EEXIST && error != ENOENT) || attempt == 8) {
            throw Error(fmt::format("module cache: cannot create {}: {}", temp, std::strerror(error)));
        }
        if (error == ENOENT) std::filesystem::create_directories(dir, ec);
    }
    // No fsync: after a power loss the entry may be garbage, but the checksum catches that and the
    // entry is rebuilt, which is cheaper than a sync on every compile.
    const bool written = write_fully(out.fd, header.data(), header.size()) &&
                         write_fully(out.fd, payload.data(), payload.size());
    const int write_errno = errno;
    const bool closed = ::close(out.fd) == 0;
    out.fd = -1;
    if (!written || !closed || ::rename(temp.c_str(), final_path.c_str()) != 0) {
        const int error = !written ? write_errno : errno;
        ::unlink(temp.c_str());
        throw Error(fmt::format("module cache: cannot write {}: {}", final_path.string(), std::strerror(error)));
    }
    evict(key);
}

void DiskCache::remove(const std::string& key) {
    if (settings_.mode != CacheMode::on) return;
    ::unlink(entry_path(key).c_str());
}

}  // namespace ptxsmith::runtime
