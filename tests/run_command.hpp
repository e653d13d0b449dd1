// Runs a shell command for a test and returns its exit status and what it printed (stdout and
// stderr together).
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

struct CommandOutput {
    int status = -1;  // the exit code, or -1 when the command did not exit normally
    std::string text;
};

inline CommandOutput run_command(const std::string& command) {
    CommandOutput o;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) o.text.append(buf, n);
    const int raw = pclose(p);
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return o;
}
