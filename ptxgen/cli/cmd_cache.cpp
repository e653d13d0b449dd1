// `ptxgen cache`: where the module cache lives and what it holds, and a way to empty it. It reads
// the same environment as the runtime, so it shows the directory a program would use.
#include <fmt/format.h>

#include <filesystem>

#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_disk.hpp"
#include "ptxsmith/runtime/module_cache_settings.hpp"

namespace cli {

namespace {

namespace rt = ptxsmith::runtime;

constexpr const char* kHelp = R"help(usage: ptxgen cache stats|clear|path

The module cache keeps the cubins the CUDA driver compiled from generated PTX, so that a later run
loads them instead of compiling again. Entries are checked when read; a damaged one is rebuilt.

  stats   the directory, mode and size limit, and how many entries it holds in how many bytes
  clear   remove every entry (only files named like cache entries; nothing else in the directory)
  path    print the directory (for scripts: du -sh "$(ptxgen cache path)")

environment:
  PTXSMITH_CACHE            on (default); readonly (use entries, never write or remove them;
                            `clear` refuses); off (programs use no disk cache)
  PTXSMITH_CACHE_DIR        the directory; else $XDG_CACHE_HOME/ptxsmith; else ~/.cache/ptxsmith
  PTXSMITH_CACHE_MAX_BYTES  size limit: bytes, or with K, M or G (powers of 1024); default 1G.
                            Past it, the least recently used entries are removed.

exit codes: 0 success, 2 bad command line or environment (or `clear` when readonly)
)help";

std::string human_bytes(uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {} ({} bytes)", value, kUnits[unit], bytes);
}

int print_stats(const rt::CacheSettings& settings, const std::string& chosen_by) {
    const rt::DiskCache disk(settings);
    const rt::CacheSummary s = disk.summary();
    const bool exists = std::filesystem::is_directory(settings.dir);
    fmt::print("directory    {} (chosen by {}{})\n", settings.dir.string(), chosen_by, exists ? "" : "; does not exist yet");
    fmt::print("mode         {}\n", rt::to_string(settings.mode));
    fmt::print("size limit   {}\n", human_bytes(settings.max_bytes));
    fmt::print("entries      {}\n", s.entries);
    fmt::print("size         {}\n", human_bytes(s.bytes));
    if (s.temporaries > 0) {
        fmt::print("unfinished   {} (writes in progress, or left by a process that died)\n", s.temporaries);
    }
    return kExitOk;
}

}  // namespace

int cmd_cache(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    ParsedArgs a = parse_args(args, {});
    if (!a.params.all().empty()) {
        throw ptxsmith::Error(fmt::format("cache: unknown option --{}", a.params.all().begin()->first));
    }
    if (a.positional.size() != 1) throw ptxsmith::Error("cache: expected one of stats, clear, path; try 'ptxgen cache --help'");
    const std::string& action = a.positional[0];
    if (action != "stats" && action != "clear" && action != "path") {
        throw ptxsmith::Error(fmt::format("cache: unknown action '{}'; expected stats, clear or path", action));
    }

    // The directory even when PTXSMITH_CACHE=off: the user may still want to see or empty it.
    const rt::CacheDirectory dir = rt::locate_cache_dir();
    rt::CacheSettings settings;
    settings.mode = rt::cache_mode_from_environment();
    settings.max_bytes = rt::cache_max_bytes_from_environment();
    settings.dir = dir.path;

    if (action == "path") {
        fmt::print("{}\n", dir.path.string());
        return kExitOk;
    }
    if (action == "stats") return print_stats(settings, dir.chosen_by);
    rt::DiskCache disk(settings);
    const uint64_t removed = disk.clear();
    fmt::print("removed {} entr{} from {}\n", removed, removed == 1 ? "y" : "ies", dir.path.string());
    return kExitOk;
}

}  // namespace cli
