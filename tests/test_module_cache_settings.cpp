// The cache's environment variables, and `ptxgen cache` reading the same ones.
#include <doctest/doctest.h>

#include "run_command.hpp"
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <optional>

#include "cache_test_support.hpp"
#include "ptxgen/error.hpp"

using namespace cache_test;
namespace fs = std::filesystem;

namespace {

// Sets (or unsets, with nullopt) one variable for a scope, restoring it afterwards.
class EnvGuard {
public:
    EnvGuard(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) {
            ::setenv(name, value->c_str(), 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~EnvGuard() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

using Output = CommandOutput;
Output run(const std::string& command) { return run_command(command); }

}  // namespace

TEST_CASE("cache settings: the directory comes from PTXSMITH_CACHE_DIR, XDG_CACHE_HOME, then HOME") {
    EnvGuard home("HOME", "/home/someone");
    {
        EnvGuard dir("PTXSMITH_CACHE_DIR", "/tmp/explicit");
        EnvGuard xdg("XDG_CACHE_HOME", "/xdg");
        CHECK(rt::default_cache_dir() == "/tmp/explicit");
        CHECK(rt::locate_cache_dir().chosen_by == "$PTXSMITH_CACHE_DIR");
    }
    {
        EnvGuard dir("PTXSMITH_CACHE_DIR", "");  // empty counts as unset
        EnvGuard xdg("XDG_CACHE_HOME", "/xdg");
        CHECK(rt::default_cache_dir() == "/xdg/ptxsmith");
    }
    {
        EnvGuard dir("PTXSMITH_CACHE_DIR", std::nullopt);
        EnvGuard xdg("XDG_CACHE_HOME", "relative/dir");  // not absolute: ignored, as XDG says
        CHECK(rt::default_cache_dir() == "/home/someone/.cache/ptxsmith");
    }
    {
        EnvGuard dir("PTXSMITH_CACHE_DIR", std::nullopt);
        EnvGuard xdg("XDG_CACHE_HOME", std::nullopt);
        CHECK(rt::default_cache_dir() == "/home/someone/.cache/ptxsmith");
    }
}

TEST_CASE("cache settings: PTXSMITH_CACHE and PTXSMITH_CACHE_MAX_BYTES, with errors for bad values") {
    EnvGuard dir("PTXSMITH_CACHE_DIR", "/tmp/somewhere");
    {
        EnvGuard mode("PTXSMITH_CACHE", std::nullopt);
        EnvGuard max("PTXSMITH_CACHE_MAX_BYTES", std::nullopt);
        const rt::CacheSettings s = rt::cache_settings_from_environment();
        CHECK(s.mode == rt::CacheMode::on);
        CHECK(s.max_bytes == (uint64_t{1} << 30));
        CHECK(s.dir == "/tmp/somewhere");
    }
    for (auto [text, mode] : {std::pair{"on", rt::CacheMode::on}, {"readonly", rt::CacheMode::readonly}, {"off", rt::CacheMode::off}}) {
        EnvGuard m("PTXSMITH_CACHE", text);
        CHECK(rt::cache_settings_from_environment().mode == mode);
        CHECK(rt::to_string(mode) == text);
    }
    for (const char* bad : {"yes", "ON", "read-only", "0"}) {
        EnvGuard m("PTXSMITH_CACHE", bad);
        CHECK_THROWS_AS(rt::cache_settings_from_environment(), ptxsmith::Error);
    }
    CHECK(rt::parse_byte_size("0") == 0);
    CHECK(rt::parse_byte_size("1234") == 1234);
    CHECK(rt::parse_byte_size("64k") == 64 * 1024);
    CHECK(rt::parse_byte_size("512M") == 512ull << 20);
    CHECK(rt::parse_byte_size("2G") == 2ull << 30);
    for (const char* bad : {"", "G", "1.5G", "-1", "1GB", "1 G", "99999999999999999999", "17179869184G"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(rt::parse_byte_size(bad), ptxsmith::Error);
    }
    EnvGuard max("PTXSMITH_CACHE_MAX_BYTES", "10M");
    CHECK(rt::cache_settings_from_environment().max_bytes == 10ull << 20);
}

TEST_CASE("ptxgen cache path, stats and clear use the environment's directory") {
    TempDir dir;
    const std::string env = "PTXSMITH_CACHE_DIR='" + dir.path().string() + "' ";
    const std::string cli = std::string(PTXGEN_CLI) + " cache ";

    Output path = run(env + cli + "path");
    CHECK(path.status == 0);
    CHECK(path.text == dir.path().string() + "\n");

    Warnings w;
    rt::DiskCache disk(settings_for(dir.path(), w));
    disk.write(key_for(1), payload_for(key_for(1), 1000));
    disk.write(key_for(2), payload_for(key_for(2), 1000));
    Output stats = run(env + cli + "stats");
    INFO(stats.text);
    CHECK(stats.status == 0);
    CHECK(stats.text.find("entries      2\n") != std::string::npos);
    CHECK(stats.text.find(std::to_string(2 * (1000 + 84)) + " bytes") != std::string::npos);
    CHECK(stats.text.find("$PTXSMITH_CACHE_DIR") != std::string::npos);

    Output refused = run(env + "PTXSMITH_CACHE=readonly " + cli + "clear");
    CHECK(refused.status == 2);
    CHECK(disk.summary().entries == 2);

    Output cleared = run(env + cli + "clear");
    CHECK(cleared.status == 0);
    CHECK(cleared.text.find("removed 2 entries") != std::string::npos);
    CHECK(disk.summary().entries == 0);

    CHECK(run(cli + "--help").status == 0);
    CHECK(run(cli + "purge").status == 2);
    CHECK(run(cli).status == 2);
    CHECK(run(env + "PTXSMITH_CACHE=maybe " + cli + "stats").status == 2);
}
