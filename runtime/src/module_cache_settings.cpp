// The cache's environment variables, read in one place so that `ptxgen cache` and the runtime
// agree on them. XDG_CACHE_HOME follows the XDG base directory rules: a relative value is ignored.
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_settings.hpp"

namespace ptxsmith::runtime {

namespace {

// Empty counts as unset: `PTXSMITH_CACHE_DIR= cmd` is how shells unset for one command.
const char* env(const char* name) {
    const char* value = std::getenv(name);
    return value && *value ? value : nullptr;
}

std::string home_directory() {
    if (const char* home = env("HOME")) return home;
    // No HOME (a daemon, a stripped environment): ask the password database, as ~ would.
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::string buffer(size > 0 ? static_cast<size_t>(size) : 16384, '\0');
    struct passwd pw{};
    struct passwd* found = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_dir &&
        *found->pw_dir) {
        return found->pw_dir;
    }
    return "";
}

}  // namespace

void warn_on_stderr(const std::string& line) { std::fprintf(stderr, "ptxsmith: warning: %s\n", line.c_str()); }

CacheDirectory locate_cache_dir() {
    if (const char* dir = env("PTXSMITH_CACHE_DIR")) return {dir, "$PTXSMITH_CACHE_DIR"};
    if (const char* xdg = env("XDG_CACHE_HOME"); xdg && xdg[0] == '/') {
        return {std::filesystem::path(xdg) / "ptxsmith", "$XDG_CACHE_HOME"};
    }
    const std::string home = home_directory();
    if (home.empty()) {
        throw Error("module cache: no directory for it: HOME is unset and the user has no home directory; "
                    "set PTXSMITH_CACHE_DIR, or PTXSMITH_CACHE=off");
    }
    return {std::filesystem::path(home) / ".cache" / "ptxsmith", "the default (~/.cache)"};
}

std::filesystem::path default_cache_dir() { return locate_cache_dir().path; }

CacheMode parse_cache_mode(std::string_view text) {
    if (text == "on") return CacheMode::on;
    if (text == "readonly") return CacheMode::readonly;
    if (text == "off") return CacheMode::off;
    throw Error(fmt::format("PTXSMITH_CACHE='{}': expected on, readonly or off", text));
}

std::string_view to_string(CacheMode mode) {
    switch (mode) {
    case CacheMode::off: return "off";
    case CacheMode::readonly: return "readonly";
    case CacheMode::on: return "on";
    }
    return "?";
}

uint64_t parse_byte_size(std::string_view text) {
    const auto bad = [&] {
        return Error(fmt::format("PTXSMITH_CACHE_MAX_BYTES='{}': expected a number of bytes, optionally with "
                                 "K, M or G (powers of 1024), such as 1073741824 or 512M",
                                 text));
    };
    size_t i = 0;
    uint64_t value = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) throw bad();
        value = value * 10 + digit;
    }
    if (i == 0) throw bad();
    int shift = 0;
    if (i + 1 == text.size()) {
        switch (std::toupper(static_cast<unsigned char>(text[i]))) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        default: throw bad();
        }
    } else if (i != text.size()) {
        throw bad();
    }
    if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) throw bad();
    return value << shift;
}

CacheMode cache_mode_from_environment() {
    const char* mode = env("PTXSMITH_CACHE");
    return mode ? parse_cache_mode(mode) : CacheMode::on;
}

uint64_t cache_max_bytes_from_environment() {
    const char* limit = env("PTXSMITH_CACHE_MAX_BYTES");
    return limit ? parse_byte_size(limit) : kDefaultCacheMaxBytes;
}

CacheSettings cache_settings_from_environment() {
    CacheSettings s;
    s.mode = cache_mode_from_environment();
    s.max_bytes = cache_max_bytes_from_environment();
    try {
        s.dir = locate_cache_dir().path;
    } catch (const Error&) {
        if (s.mode != CacheMode::off) throw;
    }
    return s;
}

}  // namespace ptxsmith::runtime
