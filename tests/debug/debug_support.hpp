// tests/debug/debug_support.hpp — what the debugging tests share: capturing this
// process's stderr (fd 2) while a body runs, and running one hidden test case of this
// binary in a child process (with extra environment) to watch it die.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace gev::testing {

// Sends fd 2 to a temporary file until text() or destruction.
class CaptureStderr {
public:
    CaptureStderr() {
        std::fflush(stderr);
        file_ = std::tmpfile();
        REQUIRE(file_ != nullptr);
        saved_ = ::dup(2);
        ::dup2(::fileno(file_), 2);
    }
    CaptureStderr(const CaptureStderr&) = delete;
    CaptureStderr& operator=(const CaptureStderr&) = delete;
    ~CaptureStderr() { restore(); if (file_) std::fclose(file_); }
    // What was written so far (the capture goes on).
    std::string peek() const {
        std::string out;
        char buf[4096];
        ssize_t n;
        for (off_t off = 0; (n = ::pread(::fileno(file_), buf, sizeof buf, off)) > 0; off += n) out.append(buf, n);
        return out;
    }
    // Ends the capture and returns everything written.
    std::string text() {
        restore();
        return peek();
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    std::FILE* file_ = nullptr;
    int saved_ = -1;
};

struct ChildResult {
    int status = 0;       // as waitpid reports it
    std::string err;      // its stderr
};

// Runs this test binary's test case `name` (a hidden one: tag "[.]") in a child with
// `env` added to the environment; returns how it ended and what it wrote to stderr.
inline ChildResult run_test_in_child(const std::string& name, const std::vector<std::string>& env) {
    std::vector<std::string> envs(env);
    for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::vector<std::string> args{"child", name};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    REQUIRE(rc == 0);
    ChildResult r;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) r.err.append(buf, n);
    ::close(p[0]);
    REQUIRE(::waitpid(pid, &r.status, 0) == pid);
    return r;
}

inline bool died_of_signal(const ChildResult& r) {
    return WIFSIGNALED(r.status) && (WTERMSIG(r.status) == SIGABRT || WTERMSIG(r.status) == SIGSEGV);
}

}  // namespace gev::testing
