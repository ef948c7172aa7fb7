// monkey/child_wait.cpp — the parked waits for child processes (child_wait.hpp): a
// pidfd (pidfd_open, Linux 5.3) waited on in the hub's poller when the caller waits for
// one child's exit, else WNOHANG tries with a pause that doubles from 1 ms to 16 ms.
// The pidfd is the hooks' own: forgotten by the poller and closed when the wait ends,
// however it ends.
#include "monkey/child_wait.hpp"

#include "monkey/original.hpp"
#include "monkey/wait.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace gev::monkey::detail {
namespace {

constexpr std::int64_t kChildPollFirstNs = 1'000'000;

// A pidfd for pid, or -1 (not a process, no pidfd_open, out of fds): then the pauses.
int open_pidfd(pid_t pid) noexcept {
    int saved = errno;
    long fd = ::syscall(SYS_pidfd_open, pid, 0);
    errno = saved;
    return fd < 0 ? -1 : static_cast<int>(fd);
}

// The hooks' own pidfd, released when the wait ends (returns or unwinds).
struct OwnedPidfd {
    Hub& hub;
    int fd;
    ~OwnedPidfd() {
        if (fd < 0) return;
        int saved = errno;
        hub.poller().forget(fd);
        original::close(fd);
        errno = saved;
    }
};

// Parks between tries until attempt() (one WNOHANG call) says the wait is over.
template <class Attempt>
void retry_parked(Hub& hub, int pidfd, Attempt attempt) {
    std::int64_t step = kChildPollFirstNs;
    while (!attempt()) {
        if (pidfd >= 0) {
            FdWait none;
            wait_fd(&hub, pidfd, POLLIN, FdView{}, none);
            continue;
        }
        park_until(hub, hub.deadline_after(std::chrono::nanoseconds(step)));
        step = std::min(step * 2, kChildPollMaxNs);
    }
}

}  // namespace

pid_t wait4_parked(Hub& hub, pid_t pid, int* status, int options, rusage* usage) {
    int saved = errno;
    pid_t r = 0;
    auto attempt = [&] {
        r = original::wait4(pid, status, options | WNOHANG, usage);
        return r != 0;
    };
    if (attempt()) return r;   // already over, or the C library's error (ECHILD, EINVAL)
    bool exit_only = (options & (WUNTRACED | WCONTINUED)) == 0;
    OwnedPidfd pidfd{hub, pid > 0 && exit_only ? open_pidfd(pid) : -1};
    retry_parked(hub, pidfd.fd, attempt);
    if (r > 0) errno = saved;
    return r;
}

int waitid_parked(Hub& hub, idtype_t type, id_t id, siginfo_t* info, int options) {
    int saved = errno;
    siginfo_t local{};
    siginfo_t* out = info != nullptr ? info : &local;   // the only way to tell "nothing yet"
    int r = 0;
    auto attempt = [&] {
        out->si_pid = 0;
        r = original::waitid(type, id, out, options | WNOHANG);
        return r != 0 || out->si_pid != 0;
    };
    if (attempt()) return r;
    bool exit_only = (options & (WSTOPPED | WCONTINUED)) == 0;
    int own = exit_only && type == P_PID ? open_pidfd(static_cast<pid_t>(id)) : -1;
    OwnedPidfd pidfd{hub, own};
    int fd = exit_only && static_cast<int>(type) == P_PIDFD ? static_cast<int>(id) : own;
    retry_parked(hub, fd, attempt);
    if (r == 0) errno = saved;
    return r;
}

}  // namespace gev::monkey::detail
