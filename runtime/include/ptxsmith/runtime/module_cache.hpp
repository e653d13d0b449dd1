// The module cache: compiled modules by key, in memory (level 1) and on disk (level 2).
//
// get_or_load(key, compile, load):
//   level 1 holds the loaded object: a hit returns it. Concurrent requests for one key share one
//   load (single flight): the first does the work, the others wait for its result or its error.
//   level 2 holds the compiled bytes: a hit loads them without compiling.
//   otherwise compile, load, and write the bytes to level 2.
// A failure (compile or load throwing) reaches every request that waited for it and is not
// remembered: the next request tries again. Disk bytes that load() rejects are dropped and rebuilt.
// A disk that cannot be written is reported once and otherwise ignored: the cache only saves time.
//
// Level 1 is generic (ModuleCache<T> holds std::shared_ptr<T>): for CUDA, a loaded module, which
// belongs to one context, so use one ModuleCache per context; they may share a directory.
// compile and load must not request the same key from the same cache (it would wait on itself).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ptxsmith/runtime/module_cache_disk.hpp"
#include "ptxsmith/runtime/module_cache_key.hpp"
#include "ptxsmith/runtime/module_cache_settings.hpp"

namespace ptxsmith::runtime {

struct CacheStats {
    uint64_t l1_hits = 0;             // answered from memory, including waits for another thread's load
    uint64_t l2_hits = 0;             // loaded from disk without compiling
    uint64_t misses = 0;              // compiled
    double compile_seconds = 0;       // total time in compile
    double load_seconds = 0;          // total time in load
    uint64_t corrupt_dropped = 0;     // disk entries found damaged, truncated or foreign (kept if readonly)
    uint64_t unloadable_dropped = 0;  // disk entries whose bytes load rejected
    uint64_t evicted = 0;             // disk entries removed to stay within the size limit
    uint64_t write_failures = 0;      // disk writes that failed (the module still loaded)
};

using CompileFn = std::function<std::vector<uint8_t>()>;

// The type-erased cache; ModuleCache<T> below is the typed face most code wants.
class AnyModuleCache {
public:
    using LoadFn = std::function<std::shared_ptr<void>(const std::vector<uint8_t>&)>;

    explicit AnyModuleCache(CacheSettings settings);

    // Throws Error for a key that is not a cache_key(); rethrows what compile or load threw.
    std::shared_ptr<void> get_or_load(const std::string& key, const CompileFn& compile, const LoadFn& load);

    CacheStats stats() const;
    const std::filesystem::path& path() const { return disk_.path(); }
    CacheSummary summary() const { return disk_.summary(); }
    const CacheSettings& settings() const { return disk_.settings(); }
    // Forgets every loaded object (callers keep the ones they hold) and clears the disk (see
    // DiskCache::clear). Loads in flight finish and stay.
    void clear();

private:
    std::shared_ptr<void> load_or_compile(const std::string& key, const CompileFn& compile, const LoadFn& load);
    void warn_write_failure(const std::string& what);

    DiskCache disk_;
    mutable std::mutex mutex_;  // guards loaded_ and stats_
    std::unordered_map<std::string, std::shared_future<std::shared_ptr<void>>> loaded_;
    CacheStats stats_;
    bool write_failure_reported_ = false;
};

template <class T>
class ModuleCache {
public:
    using Load = std::function<std::shared_ptr<T>(const std::vector<uint8_t>&)>;

    ModuleCache() : ModuleCache(cache_settings_from_environment()) {}
    explicit ModuleCache(CacheSettings settings) : any_(std::move(settings)) {}

    std::shared_ptr<T> get_or_load(const std::string& key, const CompileFn& compile, const Load& load) {
        auto erased = [&load](const std::vector<uint8_t>& bytes) -> std::shared_ptr<void> { return load(bytes); };
        return std::static_pointer_cast<T>(any_.get_or_load(key, compile, erased));
    }

    CacheStats stats() const { return any_.stats(); }
    const std::filesystem::path& path() const { return any_.path(); }
    CacheSummary summary() const { return any_.summary(); }
    const CacheSettings& settings() const { return any_.settings(); }
    void clear() { any_.clear(); }

private:
    AnyModuleCache any_;
};

}  // namespace ptxsmith::runtime
