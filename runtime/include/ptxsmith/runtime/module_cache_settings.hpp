// Where the module cache keeps its files, how big it may grow and whether it may touch the disk.
// The environment decides, and nothing else does:
//   PTXSMITH_CACHE            on (default) | readonly (read entries; never write, touch or remove) | off (no disk)
//   PTXSMITH_CACHE_DIR        the directory; else $XDG_CACHE_HOME/ptxsmith; else ~/.cache/ptxsmith
//   PTXSMITH_CACHE_MAX_BYTES  the entries' size limit: bytes, or a number with K, M or G (powers of 1024);
//                             default 1G
// An empty variable counts as unset; a malformed one is an Error (a typo must not silently mean "on").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ptxsmith::runtime {

enum class CacheMode { off, readonly, on };

inline constexpr uint64_t kDefaultCacheMaxBytes = uint64_t{1} << 30;

// Receives one line (no newline) about something the cache recovered from: a damaged entry
// dropped, a write that failed. It may be called from any thread that uses the cache. The default
// prints "ptxsmith: warning: LINE" on stderr.
using CacheWarningHook = std::function<void(const std::string& line)>;
void warn_on_stderr(const std::string& line);

struct CacheSettings {
    CacheMode mode = CacheMode::on;
    std::filesystem::path dir;
    uint64_t max_bytes = kDefaultCacheMaxBytes;
    CacheWarningHook warn = warn_on_stderr;
};

// The directory the environment names, and which rule chose it ("$PTXSMITH_CACHE_DIR", ...), so
// that `ptxgen cache path` can say why. Throws Error when none can be found (no HOME, no passwd entry).
struct CacheDirectory {
    std::filesystem::path path;
    std::string chosen_by;
};
CacheDirectory locate_cache_dir();
std::filesystem::path default_cache_dir();  // locate_cache_dir().path

// The variables above, parsed; each throws Error naming the variable and the accepted values.
CacheMode cache_mode_from_environment();
uint64_t cache_max_bytes_from_environment();
// All of them. With PTXSMITH_CACHE=off, dir stays empty when no directory can be found.
CacheSettings cache_settings_from_environment();

CacheMode parse_cache_mode(std::string_view text);  // "on", "readonly", "off"
uint64_t parse_byte_size(std::string_view text);    // "1073741824", "512M", "1G"
std::string_view to_string(CacheMode mode);

}  // namespace ptxsmith::runtime
