// The whole-directory operations: summary, eviction, clear. Other processes add and remove files
// meanwhile, so a file that vanishes between listing and use is simply skipped.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_disk.hpp"
#include "ptxsmith/runtime/module_cache_key.hpp"

namespace ptxsmith::runtime {

namespace {

namespace fs = std::filesystem;

constexpr time_t kStaleTemporarySeconds = 3600;  // no writer takes an hour between open and rename

struct Listed {
    std::string path;
    std::string key;
    uint64_t size = 0;
    timespec mtime{};
    bool temporary = false;
};

bool is_shard_name(const std::string& name) {
    return name.size() == 2 && is_cache_key(name + std::string(62, '0'));
}

bool older(const timespec& a, const timespec& b) {
    return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec;
}

// Every file named like an entry or a temporary, in <dir>/<2 hex>/; nothing else.
std::vector<Listed> list_files(const fs::path& dir) {
    std::vector<Listed> out;
    std::error_code ec;
    for (fs::directory_iterator shard(dir, ec), end; !ec && shard != end; shard.increment(ec)) {
        const std::string shard_name = shard->path().filename().string();
        if (!is_shard_name(shard_name) || !shard->is_directory(ec)) continue;
        std::error_code inner;
        for (fs::directory_iterator f(shard->path(), inner); !inner && f != end; f.increment(inner)) {
            const std::string name = f->path().filename().string();
            if (name.size() < 70 || !is_cache_key(name.substr(0, 64)) || name.compare(0, 2, shard_name) != 0) continue;
            const std::string rest = name.substr(64);
            Listed l;
            if (rest == ".cubin") {
                l.temporary = false;
            } else if (rest.starts_with(".cubin.tmp.")) {
                l.temporary = true;
            } else {
                continue;
            }
            struct stat st{};
            if (::lstat(f->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
            l.path = f->path().string();
            l.key = name.substr(0, 64);
            l.size = static_cast<uint64_t>(st.st_size);
            l.mtime = st.st_mtim;
            out.push_back(std::move(l));
        }
    }
    return out;
}

// True when the file is gone afterwards, whoever removed it.
bool remove_file(const std::string& path) { return ::unlink(path.c_str()) == 0 || errno == ENOENT; }

}  // namespace

CacheSummary DiskCache::summary() const {
    CacheSummary s;
    if (settings_.dir.empty()) return s;
    for (const Listed& l : list_files(settings_.dir)) {
        if (l.temporary) {
            ++s.temporaries;
        } else {
            ++s.entries;
            s.bytes += l.size;
        }
    }
    return s;
}

uint64_t DiskCache::evict(const std::string& keep) {
    if (settings_.mode != CacheMode::on) return 0;
    std::vector<Listed> entries;
    uint64_t total = 0;
    const time_t stale_before = std::time(nullptr) - kStaleTemporarySeconds;
    for (Listed& l : list_files(settings_.dir)) {
        if (l.temporary) {
            if (l.mtime.tv_sec < stale_before) remove_file(l.path);
        } else {
            total += l.size;
            entries.push_back(std::move(l));
        }
    }
    if (total <= settings_.max_bytes) return 0;
    // Oldest first; the path breaks ties so that every process picks the same victims.
    std::sort(entries.begin(), entries.end(), [](const Listed& a, const Listed& b) {
        return older(a.mtime, b.mtime) || (!older(b.mtime, a.mtime) && a.path < b.path);
    });
    uint64_t removed = 0;
    for (const Listed& l : entries) {
        if (total <= settings_.max_bytes) break;
        if (l.key == keep || !remove_file(l.path)) continue;
        total -= l.size;
        ++removed;
    }
    evicted_.fetch_add(removed);
    return removed;
}

uint64_t DiskCache::clear() {
    if (settings_.mode == CacheMode::readonly) {
        throw Error(fmt::format("module cache: PTXSMITH_CACHE=readonly; not clearing {}", settings_.dir.string()));
    }
    if (settings_.dir.empty()) return 0;
    uint64_t removed = 0;
    for (const Listed& l : list_files(settings_.dir)) {
        if (remove_file(l.path) && !l.temporary) ++removed;
    }
    std::vector<fs::path> shards;
    std::error_code ec;
    for (fs::directory_iterator shard(settings_.dir, ec), end; !ec && shard != end; shard.increment(ec)) {
        if (is_shard_name(shard->path().filename().string())) shards.push_back(shard->path());
    }
    for (const fs::path& shard : shards) ::rmdir(shard.c_str());  // fails, as it should, unless empty
    return removed;
}

}  // namespace ptxsmith::runtime
