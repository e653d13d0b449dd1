// The module cache's key: what must differ for two compiled modules to differ. Only these inputs
// go in, so the same inputs give the same key in every process on every machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ptxsmith::runtime {

// Bumped whenever the key's serialisation or the entry file's layout changes, so that old entries
// are never read by code that would misread them (they just stop being found, and age out).
inline constexpr uint32_t kCacheFormatVersion = 1;

struct CacheKeyInputs {
    std::string ptx;     // the exact PTX text given to the JIT
    std::string target;  // the compiled-for architecture, the device's real one ("sm_90")
    // (CUjit_option, value) for every option that changes the generated code (optimisation level,
    // max registers, ...), not those that only shape diagnostics (log buffers, verbosity, wall
    // time). Order does not matter: the key sorts them. An option given twice is an Error.
    std::vector<std::pair<int, int64_t>> jit_options;
    int driver_version = 0;  // cuDriverGetVersion: a new driver may compile the same PTX differently
};

// 64 lower-case hex digits: SHA-256 of the serialisation below, with kCacheFormatVersion.
//   u32 format version
//   u64 byte length, then the PTX bytes
//   u64 byte length, then the target bytes
//   u64 option count, then per option (sorted by id, then value): i32 id, i64 value
//   i32 driver version
// Integers are little-endian; lengths make the fields unambiguous ("ab"+"c" differs from "a"+"bc").
std::string cache_key(const CacheKeyInputs& inputs);
// The same with another format version; for tests that show the version is part of the key.
std::string cache_key(const CacheKeyInputs& inputs, uint32_t format_version);

// True for a string cache_key could have returned; the disk layer accepts only these as names.
bool is_cache_key(std::string_view text);

}  // namespace ptxsmith::runtime
