// tests/runtime/startup_test.cpp — what the test runner (tests/main.cpp) does when the
// runtime cannot start: only "this poller cannot exist here" skips (exit 77); every
// other startup failure fails. Each case re-runs this binary in a child whose system
// calls a seccomp filter makes fail with a chosen errno.
#include "support.hpp"

#include "runtime/poller.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

constexpr int kNoSeccomp = 99;   // the child could not install its filter
constexpr long kIoUringSetup = 425;   // the same number on every architecture

// Makes system call `nr` fail with `err` in this process and what it executes.
bool deny(long nr, int err) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<unsigned>(offsetof(seccomp_data, nr))),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

// Runs this test binary with GEV_POLLER=poller, listing no tests, with system call `nr`
// (0: none) failing with `err`. Returns its exit status, or -1 if it did not exit.
int child_status(const std::string& poller, long nr = 0, int err = 0) {
    std::vector<std::string> env{"GEV_POLLER=" + poller};
    for (char** e = environ; *e != nullptr; ++e)
        if (std::strncmp(*e, "GEV_POLLER=", 11) != 0) env.emplace_back(*e);
    std::vector<char*> envp;
    for (std::string& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    char arg0[] = "startup_child", arg1[] = "--list-test-names-only", arg2[] = "[no-such-tag]";
    char* argv[] = {arg0, arg1, arg2, nullptr};
    pid_t pid = ::fork();
    if (pid == 0) {
        if (nr != 0 && !deny(nr, err)) ::_exit(kNoSeccomp);
        ::execve("/proc/self/exe", argv, envp.data());
        ::_exit(127);
    }
    REQUIRE(pid > 0);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("a test binary whose runtime starts runs its tests", "[runtime][startup]") {
    REQUIRE(child_status("epoll") == 0);
}

TEST_CASE("a test binary asked for a poller the kernel lacks or forbids is skipped", "[runtime][startup]") {
    if (!gev::detail::uring_built()) {
        REQUIRE(child_status("io_uring") == 77);   // not built: skipped, whatever the kernel
        return;
    }
    for (int err : {ENOSYS, EPERM}) {
        int status = child_status("io_uring", kIoUringSetup, err);
        if (status == kNoSeccomp) {
            WARN("seccomp filters are not allowed here; not checked");
            return;
        }
        INFO("io_uring_setup failing with " << std::strerror(err));
        REQUIRE(status == 77);
    }
}

TEST_CASE("any other failure to start the runtime fails the test binary", "[runtime][startup]") {
    REQUIRE(child_status("no-such-poller") == 1);
    int status = child_status("epoll", SYS_epoll_create1, EMFILE);
    if (status == kNoSeccomp) {
        WARN("seccomp filters are not allowed here; only the unknown poller checked");
        return;
    }
    REQUIRE(status == 1);
    if (gev::detail::uring_built()) REQUIRE(child_status("io_uring", kIoUringSetup, ENOMEM) == 1);
}

TEST_CASE("an unavailable poller's error still compares equal to its errno", "[runtime][startup]") {
    std::error_code ec(ENOSYS, gev::detail::poller_unavailable_category());
    REQUIRE(ec == std::errc::function_not_supported);
    REQUIRE(std::system_error(ec, "gev: io_uring poller").what() ==
            std::string("gev: io_uring poller: ") + std::strerror(ENOSYS));
}
