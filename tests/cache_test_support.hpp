// What the module cache tests share: a private temporary directory per test (no test ever touches
// the user's cache), settings that collect warnings instead of printing them, and keys and
// payloads derived from a number.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptxsmith/runtime/module_cache.hpp"

namespace cache_test {

namespace rt = ptxsmith::runtime;

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ptxsmith-cache-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Thread-safe: the cache may warn from any thread.
class Warnings {
public:
    rt::CacheWarningHook hook() {
        return [this](const std::string& line) {
            std::lock_guard lock(mutex_);
            lines_.push_back(line);
        };
    }
    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    size_t count() const { return lines().size(); }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

inline rt::CacheSettings settings_for(const std::filesystem::path& dir, Warnings& warnings,
                                      rt::CacheMode mode = rt::CacheMode::on,
                                      uint64_t max_bytes = rt::kDefaultCacheMaxBytes) {
    rt::CacheSettings s;
    s.dir = dir;
    s.mode = mode;
    s.max_bytes = max_bytes;
    s.warn = warnings.hook();
    return s;
}

inline std::string key_for(int i) {
    rt::CacheKeyInputs in;
    in.ptx = ".version 8.0\n.target sm_80\n// kernel " + std::to_string(i) + "\n";
    in.target = "sm_90";
    in.jit_options = {{0, 64}, {7, 4}};
    in.driver_version = 12040;
    return rt::cache_key(in);
}

// Bytes that only this key compiles to, so a mixed-up entry cannot pass for the right one.
inline std::vector<uint8_t> payload_for(const std::string& key, size_t size = 100) {
    std::vector<uint8_t> out(size);
    uint32_t state = 2166136261u;
    for (char c : key) state = (state ^ static_cast<uint8_t>(c)) * 16777619u;
    for (size_t i = 0; i < size; ++i) {
        state = state * 1664525u + 1013904223u;
        out[i] = static_cast<uint8_t>(state >> 24);
    }
    return out;
}

// What level 1 holds in the tests: the bytes it was loaded from.
struct Loaded {
    std::vector<uint8_t> bytes;
};

inline std::shared_ptr<Loaded> load_bytes(const std::vector<uint8_t>& bytes) {
    return std::make_shared<Loaded>(Loaded{bytes});
}

inline std::vector<uint8_t> read_file(const std::filesystem::path& path) {
    std::vector<uint8_t> out(std::filesystem::file_size(path));
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path.string());
    const size_t n = std::fread(out.data(), 1, out.size(), f);
    std::fclose(f);
    out.resize(n);
    return out;
}

inline void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
    std::filesystem::create_directories(path.parent_path());
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot create " + path.string());
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
}

}  // namespace cache_test
