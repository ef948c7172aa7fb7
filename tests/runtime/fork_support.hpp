// tests/runtime/fork_support.hpp — helpers for the gev::fork tests: a child reports
// through its exit code (never through Catch, which would run on in the child), and
// the parent reaps it by parking on a pidfd, or with waitpid in a thread pool job.
#pragma once

#include "support.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace gev::testing {

// In a forked child: the first failed expectation's code becomes the exit status.
struct ChildChecks {
    int failed = 0;
    void expect(bool ok, int code) {
        if (!ok && failed == 0) failed = code;
    }
};

// Runs the child's part and ends the child with its code (99: it threw anything);
// _exit, so that neither Catch nor the parent's atexit handlers run twice.
template <class F>
[[noreturn]] void child_exits(F&& body) {
    int code = 99;
    try {
        code = body();
    } catch (...) {
    }
    ::_exit(code);
}

// Parks until the child has ended (on a pidfd) and returns its exit code, or 128 +
// the signal that ended it; -1 when it has not ended within 10 s.
inline int reap(pid_t pid) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        try {
            gev::net::wait_read(pidfd, std::chrono::seconds(10));
        } catch (const std::system_error&) {
            ::close(pidfd);
            return -1;
        }
        ::close(pidfd);
    }
    int status = 0;
    // Without pidfd_open (before Linux 5.3) this blocks the hub until the child ends.
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The same through a thread pool job (waitpid blocks a worker, not the hub).
inline int reap_in_thread(pid_t pid) {
    int status = 0;
    pid_t r = gev::run_in_thread([&] { return ::waitpid(pid, &status, 0); });
    if (r != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace gev::testing
