// The module cache under concurrency: threads of one process share compiles (single flight);
// processes sharing one directory never see a partial entry.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <latch>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "cache_test_support.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_entry.hpp"

using namespace cache_test;
namespace fs = std::filesystem;

TEST_CASE("module cache: 16 threads asking for the same 8 keys compile each key once") {
    constexpr int kThreads = 16, kKeys = 8;
    TempDir dir;
    Warnings w;
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    std::array<std::atomic<int>, kKeys> compiles{}, loads{};
    std::array<std::array<std::shared_ptr<Loaded>, kKeys>, kThreads> got;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int j = 0; j < kKeys; ++j) {
                const int k = (j + t) % kKeys;  // threads start on different keys, then collide
                const std::string key = key_for(k);
                got[t][k] = cache.get_or_load(
                    key,
                    [&, k, key] {
                        ++compiles[k];
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // others arrive meanwhile
                        return payload_for(key);
                    },
                    [&, k](const std::vector<uint8_t>& bytes) {
                        ++loads[k];
                        return load_bytes(bytes);
                    });
            }
        });
    }
    for (std::thread& t : threads) t.join();
    for (int k = 0; k < kKeys; ++k) {
        CAPTURE(k);
        CHECK(compiles[k] == 1);
        CHECK(loads[k] == 1);
        for (int t = 0; t < kThreads; ++t) CHECK(got[t][k] == got[0][k]);
        CHECK(got[0][k]->bytes == payload_for(key_for(k)));
    }
    const rt::CacheStats s = cache.stats();
    CHECK(s.misses == kKeys);
    CHECK(s.l1_hits == kThreads * kKeys - kKeys);
    CHECK(cache.summary().entries == kKeys);
    CHECK(w.count() == 0);
}

TEST_CASE("module cache: threads waiting on a failing compile all get its error, once") {
    constexpr int kThreads = 8;
    TempDir dir;
    Warnings w;
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    const std::string key = key_for(1);
    std::atomic<int> compiles{0}, failures{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            try {
                cache.get_or_load(
                    key,
                    [&]() -> std::vector<uint8_t> {
                        ++compiles;
                        std::this_thread::sleep_for(std::chrono::milliseconds(50));
                        throw ptxsmith::Error("JIT failed");
                    },
                    load_bytes);
            } catch (const ptxsmith::Error& e) {
                if (std::string(e.what()) == "JIT failed") ++failures;
            }
        });
    }
    for (std::thread& t : threads) t.join();
    CHECK(compiles == 1);
    CHECK(failures == kThreads);
    // Not remembered: the next request compiles again.
    CHECK(cache.get_or_load(key, [&] { return payload_for(key); }, load_bytes)->bytes == payload_for(key));
}

namespace {

// One child process: several rounds, each with a fresh cache (so that level 2 is read every
// round), over all keys in its own order. The compile appends "pid key" to the shared log.
// Any wrong byte, warning (a damaged entry seen) or exception fails the child.
int child(const fs::path& dir, const fs::path& log, int index, int keys, int rounds, size_t payload_size) {
    try {
        Warnings w;
        for (int round = 0; round < rounds; ++round) {
            rt::ModuleCache<Loaded> cache(settings_for(dir, w));
            for (int j = 0; j < keys; ++j) {
                const std::string key = key_for((j + index) % keys);
                const auto compile = [&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                    const std::string line = std::to_string(::getpid()) + " " + key + "\n";
                    const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
                        throw std::runtime_error("cannot append to the log");
                    }
                    ::close(fd);
                    return payload_for(key, payload_size);
                };
                const std::shared_ptr<Loaded> m = cache.get_or_load(key, compile, load_bytes);
                if (m->bytes != payload_for(key, payload_size)) {
                    std::fprintf(stderr, "child %d: wrong bytes for %s\n", index, key.c_str());
                    return 1;
                }
            }
        }
        if (w.count() != 0) {
            std::fprintf(stderr, "child %d: %s\n", index, w.lines()[0].c_str());
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", index, e.what());
        return 1;
    }
}

}  // namespace

TEST_CASE("module cache: processes sharing a directory get correct bytes and never a partial entry") {
    constexpr int kChildren = 6, kKeys = 8, kRounds = 4;
    constexpr size_t kPayload = 512 * 1024;  // large enough that writes take a while
    TempDir dir;
    const fs::path cache_dir = dir.path() / "cache";
    const fs::path log = dir.path() / "compiles.log";

    // The children wait on a pipe so that they all start at once.
    int go[2];
    REQUIRE(::pipe(go) == 0);
    std::fflush(nullptr);  // or the children inherit unwritten output and may write it again
    std::vector<pid_t> pids;
    for (int i = 0; i < kChildren; ++i) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(go[1]);
            char c;
            const bool started = ::read(go[0], &c, 1) == 0;  // end of file: the parent closed it
            ::_exit(started ? child(cache_dir, log, i, kKeys, kRounds, kPayload) : 2);
        }
        pids.push_back(pid);
    }
    ::close(go[0]);
    ::close(go[1]);
    for (pid_t pid : pids) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }

    // Every key compiled at least once and at most once per process (later rounds read the disk).
    std::map<std::string, int> compiles;
    std::map<std::string, int> per_process;
    std::ifstream in(log);
    for (std::string pid, key; in >> pid >> key;) {
        ++compiles[key];
        ++per_process[pid + " " + key];
    }
    CHECK(compiles.size() == kKeys);
    for (const auto& [key, n] : compiles) CHECK(n <= kChildren);
    for (const auto& [pid_key, n] : per_process) CHECK(n == 1);

    // What is left is whole: every entry valid, no temporary file.
    Warnings w;
    rt::DiskCache disk(settings_for(cache_dir, w));
    const rt::CacheSummary s = disk.summary();
    CHECK(s.entries == kKeys);
    CHECK(s.temporaries == 0);
    for (int k = 0; k < kKeys; ++k) CHECK(disk.read(key_for(k)) == payload_for(key_for(k), kPayload));
    CHECK(w.count() == 0);
}

namespace {

int rewriter(const fs::path& dir, int keys, int rounds, size_t payload_size) {
    try {
        Warnings w;
        rt::DiskCache disk(settings_for(dir, w));
        for (int round = 0; round < rounds; ++round) {
            for (int k = 0; k < keys; ++k) disk.write(key_for(k), payload_for(key_for(k), payload_size));
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "writer: %s\n", e.what());
        return 1;
    }
}

// Reads every key until `done` appears; fails on a damaged entry or wrong bytes.
int reader(const fs::path& dir, const fs::path& done, int keys, size_t payload_size) {
    try {
        Warnings w;
        rt::DiskCache disk(settings_for(dir, w));
        int hits = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        for (bool last = false; !last;) {
            last = fs::exists(done) || std::chrono::steady_clock::now() > deadline;
            for (int k = 0; k < keys; ++k) {
                std::optional<std::vector<uint8_t>> got = disk.read(key_for(k));
                if (!got) continue;
                if (*got != payload_for(key_for(k), payload_size)) {
                    std::fprintf(stderr, "reader: wrong bytes\n");
                    return 1;
                }
                ++hits;
            }
        }
        if (w.count() != 0 || hits == 0) {
            std::fprintf(stderr, "reader: %d hits; %s\n", hits, w.count() ? w.lines()[0].c_str() : "");
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "reader: %s\n", e.what());
        return 1;
    }
}

}  // namespace

TEST_CASE("module cache: readers never see an entry that another process is rewriting") {
    // Entries rewritten over and over while other processes read them: a write that were not
    // atomic would show up as a truncated entry.
    constexpr int kWriters = 2, kReaders = 4, kKeys = 8, kRounds = 30;
    constexpr size_t kPayload = 128 * 1024;
    TempDir dir;
    const fs::path cache_dir = dir.path() / "cache";
    const fs::path done = dir.path() / "writers-done";
    std::vector<pid_t> writers, readers;
    std::fflush(nullptr);
    for (int i = 0; i < kWriters + kReaders; ++i) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::_exit(i < kWriters ? rewriter(cache_dir, kKeys, kRounds, kPayload) : reader(cache_dir, done, kKeys, kPayload));
        }
        (i < kWriters ? writers : readers).push_back(pid);
    }
    const auto wait_all = [](const std::vector<pid_t>& pids) {
        for (pid_t pid : pids) {
            int status = 0;
            REQUIRE(::waitpid(pid, &status, 0) == pid);
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
        }
    };
    wait_all(writers);
    write_file(done, {});
    wait_all(readers);
    Warnings w;
    const rt::CacheSummary s = rt::DiskCache(settings_for(cache_dir, w)).summary();
    CHECK(s.entries == kKeys);
    CHECK(s.temporaries == 0);
}
