// ptxas is run with posix_spawn (no shell, so no quoting of paths or names can go wrong), its
// stdout and stderr both into one pipe so that messages keep their order.
#include "ptxgen/ptxas.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ptxgen/error.hpp"

extern char** environ;

namespace ptxgen {

namespace {

bool is_executable_file(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> search_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (!path) return std::nullopt;
    std::string dirs = path;
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;  // "" means "." in PATH
        if (is_executable_file(candidate)) return candidate;
        start = end + 1;
    }
    return std::nullopt;
}

// A pipe whose ends are close-on-exec, so that a ptxas spawned by another thread meanwhile does
// not inherit our write end (which would keep our read from seeing end-of-file until it exits).
bool make_pipe(int fds[2]) {
#ifdef __linux__
    return ::pipe2(fds, O_CLOEXEC) == 0;
#else
    if (::pipe(fds) != 0) return false;
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return true;
#endif
}

// Removes the temporary directory and what ptxas left in it, whatever happens in between.
struct TempDir {
    std::string path;
    std::vector<std::string> files;
    ~TempDir() {
        for (const std::string& f : files) ::unlink(f.c_str());
        if (!path.empty()) ::rmdir(path.c_str());
    }
};

// Runs argv, returning (exit code, combined output). Exit code 127 with a message in the output
// when the program cannot be started at all, as a shell would report it.
std::pair<int, std::string> run_capture(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    int fds[2];
    if (!make_pipe(fds)) return {127, fmt::format("cannot create a pipe: {}\n", std::strerror(errno))};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    pid_t pid = 0;
    int err = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (err != 0) {
        ::close(fds[0]);
        return {127, fmt::format("cannot run {}: {}\n", args[0], std::strerror(err))};
    }

    std::string output;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) output.append(buf, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR) break;
    }
    ::close(fds[0]);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) return {WEXITSTATUS(status), output};
    if (WIFSIGNALED(status)) {
        output += fmt::format("{} was killed by signal {}\n", args[0], WTERMSIG(status));
        return {128 + WTERMSIG(status), output};
    }
    return {-1, output};
}

// The number just before `word` in `line` ("32 registers" -> 32), or -1.
int number_before(const std::string& line, const std::string& word) {
    size_t at = line.find(word);
    if (at == std::string::npos) return -1;
    size_t end = at;
    while (end > 0 && line[end - 1] == ' ') --end;
    size_t begin = end;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(line[begin - 1]))) --begin;
    if (begin == end) return -1;
    return std::stoi(line.substr(begin, end - begin));
}

// The text between the first pair of single quotes after `after`, or "".
std::string quoted(const std::string& line, size_t after) {
    size_t a = line.find('\'', after);
    if (a == std::string::npos) return {};
    size_t b = line.find('\'', a + 1);
    return b == std::string::npos ? std::string() : line.substr(a + 1, b - a - 1);
}

}  // namespace

std::optional<std::string> find_ptxas() {
    if (const char* env = std::getenv("PTXAS"); env && *env) {
        std::string chosen = env;
        if (chosen.find('/') != std::string::npos) {
            return is_executable_file(chosen) ? std::optional<std::string>(chosen) : std::nullopt;
        }
        return search_path(chosen);
    }
    if (auto on_path = search_path("ptxas")) return on_path;
    if (is_executable_file("/usr/local/cuda/bin/ptxas")) return std::string("/usr/local/cuda/bin/ptxas");
    return std::nullopt;
}

PtxasResult run_ptxas(const std::string& ptxas, const std::string& ptx_text, const Target& target, bool verbose) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/ptxgen-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    TempDir dir;
    if (!::mkdtemp(pattern.data())) {
        throw ptxsmith::Error(fmt::format("cannot create a temporary directory {}: {}", pattern, std::strerror(errno)));
    }
    dir.path = pattern;
    const std::string ptx_path = dir.path + "/module.ptx";
    const std::string cubin_path = dir.path + "/module.cubin";
    dir.files = {ptx_path, cubin_path};
    {
        std::ofstream f(ptx_path, std::ios::binary);
        f << ptx_text;
        if (!f.flush()) throw ptxsmith::Error(fmt::format("cannot write {}", ptx_path));
    }

    std::vector<std::string> args{ptxas, "-arch=" + target.str()};
    if (verbose) args.emplace_back("-v");
    args.insert(args.end(), {"-o", cubin_path, ptx_path});

    auto start = std::chrono::steady_clock::now();
    auto [code, output] = run_capture(args);
    PtxasResult r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.exit_code = code;
    r.ok = code == 0;
    r.log = std::move(output);
    r.ptx_path = ptx_path;
    return r;
}

std::vector<PointedLine> pointed_lines(const std::string& log, const std::string& ptx_text) {
    std::vector<std::string> lines;
    {
        std::istringstream in(ptx_text);
        for (std::string l; std::getline(in, l);) lines.push_back(l);
    }
    std::vector<PointedLine> out;
    std::istringstream in(log);
    for (std::string msg; std::getline(in, msg);) {
        // "ptxas /tmp/ptxgen-ab12/module.ptx, line 42; error   : Unknown symbol 'x'"
        size_t at = msg.find(", line ");
        if (msg.rfind("ptxas ", 0) != 0 || at == std::string::npos) continue;
        size_t num = at + 7;
        size_t end = num;
        while (end < msg.size() && std::isdigit(static_cast<unsigned char>(msg[end]))) ++end;
        if (end == num) continue;
        int line = std::stoi(msg.substr(num, end - num));
        bool seen = false;
        for (const PointedLine& p : out) seen = seen || p.line == line;
        if (seen) continue;
        size_t rest = msg.find_first_not_of("; ", end);
        PointedLine p;
        p.line = line;
        p.text = line >= 1 && static_cast<size_t>(line) <= lines.size() ? lines[static_cast<size_t>(line) - 1] : "";
        p.message = rest == std::string::npos ? std::string() : msg.substr(rest);
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<PtxasUsage> parse_ptxas_usage(const std::string& log) {
    // ptxas info    : Compiling entry function 'saxpy' for 'sm_90'
    // ptxas info    : Function properties for saxpy
    //     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
    // ptxas info    : Used 8 registers, used 1 barriers, 32 bytes smem, 372 bytes cmem[0]
    std::vector<PtxasUsage> out;
    auto entry = [&](const std::string& name) -> PtxasUsage& {
        for (PtxasUsage& u : out) {
            if (u.function == name) return u;
        }
        out.push_back(PtxasUsage{});
        out.back().function = name;
        return out.back();
    };
    PtxasUsage* current = nullptr;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        if (size_t at = line.find("Compiling entry function "); at != std::string::npos) {
            current = &entry(quoted(line, at));
            size_t for_at = line.find(" for ", at);
            if (for_at != std::string::npos) current->arch = quoted(line, for_at);
        } else if (size_t props = line.find("Function properties for "); props != std::string::npos) {
            std::string name = line.substr(props + 24);
            while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.pop_back();
            current = &entry(name);
        } else if (current && line.find("bytes stack frame") != std::string::npos) {
            current->stack_frame = std::max(0, number_before(line, "bytes stack frame"));
            current->spill_stores = std::max(0, number_before(line, "bytes spill stores"));
            current->spill_loads = std::max(0, number_before(line, "bytes spill loads"));
        } else if (current && line.find("Used ") != std::string::npos && line.find(" registers") != std::string::npos) {
            current->registers = std::max(0, number_before(line, "registers"));
            current->barriers = std::max(0, number_before(line, "barriers"));
            current->shared_bytes = std::max(0, number_before(line, "bytes smem"));
            current->constant_bytes = std::max(0, number_before(line, "bytes cmem[0]"));
        }
    }
    return out;
}

}  // namespace ptxgen
