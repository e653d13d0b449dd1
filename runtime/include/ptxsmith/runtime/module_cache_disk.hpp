// Level 2 of the module cache: compiled bytes on disk, shared by every process of the user.
//
// Layout: <dir>/<first 2 hex digits of the key>/<key>.cubin, one file per entry in the format of
// module_cache_entry.hpp (256 subdirectories keep directories short). Writers create
// <key>.cubin.tmp.<pid>.<n>.<random> beside it and rename(2) it into place, so a reader sees the
// old file, the new one or none, never a half-written one; two processes that compile the same key
// both write, and the last rename wins with identical content. Readers verify every entry; a
// damaged, truncated or foreign one is reported once, removed and rebuilt by the caller.
// Least recently used eviction: a read refreshes an entry's mtime; after a write, the oldest
// entries go until the total is within the limit. An entry bigger than the limit is not written.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "ptxsmith/runtime/module_cache_settings.hpp"

namespace ptxsmith::runtime {

struct CacheSummary {
    uint64_t entries = 0;      // files named like entries, valid or not
    uint64_t bytes = 0;        // their total size
    uint64_t temporaries = 0;  // unfinished writes: in progress now, or left by a process that died
};

class DiskCache {
public:
    explicit DiskCache(CacheSettings settings);

    const CacheSettings& settings() const { return settings_; }
    const std::filesystem::path& path() const { return settings_.dir; }
    std::filesystem::path entry_path(const std::string& key) const;

    // The payload stored under `key`, or nullopt when there is none, the mode is off, or the entry
    // is damaged (reported once per key through settings().warn, counted, and removed unless the
    // mode is readonly). A hit refreshes the entry's mtime unless readonly.
    std::optional<std::vector<uint8_t>> read(const std::string& key);

    // Stores `payload` under `key` (mode on only), then evicts. Throws Error when the file cannot
    // be written; the cache is then unchanged.
    void write(const std::string& key, std::span<const uint8_t> payload);

    // Removes the entry for `key` if there is one (mode on only): bytes the caller could not use.
    void remove(const std::string& key);

    // Removes the least recently used entries, never `keep`, until the entries' total is within
    // the limit; also removes temporaries older than an hour (their writer died). Returns how many
    // entries went. Mode on only.
    uint64_t evict(const std::string& keep = "");

    CacheSummary summary() const;

    // Removes every entry and temporary, and then the empty subdirectories. Only files named like
    // ours are touched, so a mistaken PTXSMITH_CACHE_DIR=$HOME deletes nothing else. Throws Error
    // in readonly mode; works with the mode off (the directory is the user's to clean).
    uint64_t clear();

    uint64_t damaged_found() const { return damaged_.load(); }
    uint64_t evicted() const { return evicted_.load(); }

private:
    void report_once(const std::string& key, const std::string& line);
    void remove_if_same_file(const std::string& path, int fd) const;

    CacheSettings settings_;
    std::mutex reported_mutex_;
    std::set<std::string> reported_;  // keys with a problem already reported: once each
    std::atomic<uint64_t> damaged_{0};
    std::atomic<uint64_t> evicted_{0};
};

}  // namespace ptxsmith::runtime
