#include "common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "ptxgen/error.hpp"
#include "ptxgen/ptxas.hpp"

namespace cli {

Chosen choose_kernel(const std::string& family, const kernels::ParamValues& overrides) {
    Chosen c;
    c.family = &kernels::find_family(family);
    c.overrides = overrides;
    c.instance = kernels::instantiate(*c.family, overrides);
    return c;
}

std::string command_for(const std::string& subcommand, const Chosen& c) {
    std::string s = fmt::format("ptxgen {} {}", subcommand, c.family->info.name);
    // In the family's parameter order rather than alphabetical, as `ptxgen list` shows them.
    for (const kernels::ParamSpec& p : c.family->info.params) {
        if (c.overrides.has(p.name)) s += fmt::format(" --{} {}", p.name, c.overrides.text(p.name));
    }
    return s;
}

ptxgen::Target parse_target(const std::string& option, const std::string& text) {
    try {
        return ptxgen::Target::parse(text);
    } catch (const ptxsmith::Error& e) {
        throw ptxsmith::Error(fmt::format("{}: {}", option, e.what()));
    }
}

std::vector<ptxgen::Target> parse_targets(const std::string* text) {
    if (!text) return {ptxgen::kValidationTargets.begin(), ptxgen::kValidationTargets.end()};
    std::vector<ptxgen::Target> out;
    size_t start = 0;
    while (start <= text->size()) {
        size_t end = text->find(',', start);
        if (end == std::string::npos) end = text->size();
        std::string item = text->substr(start, end - start);
        if (item.empty()) throw ptxsmith::Error(fmt::format("--targets '{}' has an empty entry", *text));
        ptxgen::Target t = parse_target("--targets", item);
        bool seen = false;
        for (const ptxgen::Target& o : out) seen = seen || o == t;
        if (!seen) out.push_back(t);
        start = end + 1;
    }
    return out;
}

std::string missing_ptxas_reason() {
    if (const char* env = std::getenv("PTXAS"); env && *env) {
        const bool path = std::string(env).find('/') != std::string::npos;
        return fmt::format("PTXAS={} {} (no fallback while PTXAS is set); install the CUDA toolkit and point PTXAS "
                           "at its bin/ptxas, or unset PTXAS",
                           env, path ? "is not an executable file" : "names no executable on PATH");
    }
    return "ptxas not found on PATH or at /usr/local/cuda/bin/ptxas; install the CUDA toolkit "
           "or set PTXAS=/path/to/ptxas";
}

std::optional<std::string> require_ptxas() {
    std::optional<std::string> p = ptxgen::find_ptxas();
    if (!p) fmt::print(stderr, "ptxgen: error: {}\n", missing_ptxas_reason());
    return p;
}

std::string rename_module(std::string log, const std::string& temp_path, const std::string& shown) {
    if (temp_path.empty()) return log;
    for (size_t at = 0; (at = log.find(temp_path, at)) != std::string::npos; at += shown.size()) {
        log.replace(at, temp_path.size(), shown);
    }
    return log;
}

unsigned default_workers() { return std::max(1u, std::thread::hardware_concurrency()); }

void run_ordered(size_t n, unsigned workers, const std::function<void(size_t)>& work,
                 const std::function<void(size_t)>& report) {
    std::mutex m;
    std::vector<bool> done(n, false);
    size_t next_job = 0;
    size_t next_report = 0;
    auto worker = [&] {
        for (;;) {
            size_t i;
            {
                std::lock_guard lock(m);
                if (next_job == n) return;
                i = next_job++;
            }
            work(i);
            // Whoever finishes the job that unblocks the front reports everything that is ready;
            // holding the lock meanwhile keeps the reports whole and in order.
            std::lock_guard lock(m);
            done[i] = true;
            while (next_report < n && done[next_report]) report(next_report++);
        }
    };
    std::vector<std::thread> threads;
    const size_t count = std::min<size_t>(std::max(1u, workers), n);
    for (size_t t = 1; t < count; ++t) threads.emplace_back(worker);
    worker();
    for (std::thread& t : threads) t.join();
}

}  // namespace cli
