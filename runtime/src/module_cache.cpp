// Level 1 and the single flight: one shared_future per key. The first request for a key puts an
// unfinished future in the map and does the work outside the lock; later requests find the future
// and wait on it, so a key is compiled once however many threads ask at the same time.
#include "ptxsmith/runtime/module_cache.hpp"

#include <fmt/format.h>

#include <chrono>

#include "ptxgen/error.hpp"

namespace ptxsmith::runtime {

namespace {

template <class F>
auto timed(double& seconds_total, std::mutex& mutex, F&& work) {
    const auto start = std::chrono::steady_clock::now();
    auto result = work();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::lock_guard lock(mutex);
    seconds_total += took.count();
    return result;
}

}  // namespace

AnyModuleCache::AnyModuleCache(CacheSettings settings) : disk_(std::move(settings)) {}

std::shared_ptr<void> AnyModuleCache::get_or_load(const std::string& key, const CompileFn& compile, const LoadFn& load) {
    if (!is_cache_key(key)) throw Error(fmt::format("module cache: '{}' is not a cache key (see cache_key())", key));
    std::promise<std::shared_ptr<void>> promise;
    {
        std::unique_lock lock(mutex_);
        if (auto it = loaded_.find(key); it != loaded_.end()) {
            ++stats_.l1_hits;
            std::shared_future<std::shared_ptr<void>> ready = it->second;
            lock.unlock();
            return ready.get();  // waits while another thread loads it; rethrows its failure
        }
        loaded_.emplace(key, promise.get_future().share());
    }
    try {
        std::shared_ptr<void> object = load_or_compile(key, compile, load);
        promise.set_value(object);
        return object;
    } catch (...) {
        {
            // Not remembered: the next request tries again (the failure may be passing).
            std::lock_guard lock(mutex_);
            loaded_.erase(key);
        }
        promise.set_exception(std::current_exception());
        throw;
    }
}

std::shared_ptr<void> AnyModuleCache::load_or_compile(const std::string& key, const CompileFn& compile, const LoadFn& load) {
    const auto checked_load = [&](const std::vector<uint8_t>& bytes) {
        std::shared_ptr<void> object = load(bytes);
        if (!object) throw Error(fmt::format("module cache: loading {} returned no object", key));
        return object;
    };
    if (std::optional<std::vector<uint8_t>> bytes = disk_.read(key)) {
        try {
            std::shared_ptr<void> object = timed(stats_.load_seconds, mutex_, [&] { return checked_load(*bytes); });
            std::lock_guard lock(mutex_);
            ++stats_.l2_hits;
            return object;
        } catch (const std::exception& e) {
            // The checksum held, so the bytes are what was written, yet they do not load (a driver
            // that the key did not tell apart, say): rebuild rather than fail for good.
            disk_.settings().warn(fmt::format("module cache: dropping entry {}: it did not load ({}); rebuilding",
                                              disk_.entry_path(key).string(), e.what()));
            disk_.remove(key);
            std::lock_guard lock(mutex_);
            ++stats_.unloadable_dropped;
        }
    }
    {
        std::lock_guard lock(mutex_);
        ++stats_.misses;
    }
    const std::vector<uint8_t> bytes = timed(stats_.compile_seconds, mutex_, compile);
    std::shared_ptr<void> object = timed(stats_.load_seconds, mutex_, [&] { return checked_load(bytes); });
    // Written after the load succeeded, so that bytes that do not load never reach the disk.
    try {
        disk_.write(key, bytes);
    } catch (const Error& e) {
        warn_write_failure(e.what());
    }
    return object;
}

void AnyModuleCache::warn_write_failure(const std::string& what) {
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        ++stats_.write_failures;
        first = !write_failure_reported_;
        write_failure_reported_ = true;
    }
    // Once per cache: a full or read-only disk would otherwise warn on every compile.
    if (first) disk_.settings().warn(what + "; continuing without writing to the cache");
}

CacheStats AnyModuleCache::stats() const {
    CacheStats s;
    {
        std::lock_guard lock(mutex_);
        s = stats_;
    }
    s.corrupt_dropped = disk_.damaged_found();
    s.evicted = disk_.evicted();
    return s;
}

void AnyModuleCache::clear() {
    disk_.clear();
    std::lock_guard lock(mutex_);
    std::erase_if(loaded_, [](const auto& entry) {
        return entry.second.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    });
}

}  // namespace ptxsmith::runtime
