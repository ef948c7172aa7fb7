// proc/reaper.cpp — orphaned children: one small fiber per child, on the hub that
// dropped it, parked on the child's pidfd (a readiness wait both pollers support).
// The fiber's state is an Orphan captured by value, so whichever way the fiber goes —
// it reaps, it is killed when its hub ends, or it never got to run — the destructor
// sees a child not yet reaped and hands it to a detached thread, which can block.
#include "proc/reaper.hpp"

#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace gev::subprocess::proc_detail {
namespace {

// The last resort, off any hub: a thread that blocks until the child ends.
void reap_in_thread(int pidfd) noexcept {
    try {
        std::thread([pidfd] {
            int status;
            while (reap(pidfd, 0, status) == -EINTR) {
            }
            ::close(pidfd);
        }).detach();
    } catch (const std::system_error&) {
        // No thread to be had: the child stays a zombie until this process ends, and its
        // pidfd stays open so that the kernel does not hand its number to anyone else.
    }
}

class Orphan {
public:
    explicit Orphan(int pidfd) noexcept : pidfd_(pidfd) {}
    Orphan(Orphan&& o) noexcept : pidfd_(std::exchange(o.pidfd_, -1)) {}
    Orphan& operator=(Orphan&&) = delete;
    ~Orphan() {
        if (pidfd_ < 0) return;
        gev::detail::forget_fd(pidfd_);
        reap_in_thread(pidfd_);
    }

    // Parks on the pidfd until the child ends, then reaps it and closes the pidfd.
    void watch() {
        gev::detail::Hub& hub = gev::detail::Hub::require("gev::subprocess reaper");
        int status;
        while (reap(pidfd_, WNOHANG, status) == 0) {
            gev::detail::IoOp op;
            op.kind = gev::detail::IoKind::poll;
            op.fd = pidfd_;
            op.flags = POLLIN;
            op.transient = true;
            hub.poller().io(op, -1);
        }
        gev::detail::forget_fd(pidfd_);
        ::close(std::exchange(pidfd_, -1));
    }

private:
    int pidfd_;
};

}  // namespace

int reap(int pidfd, int flags, int& status) noexcept {
    siginfo_t si{};
    if (::syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | flags, nullptr) < 0) {
        // ECHILD: someone else reaped it (SIGCHLD ignored, a waitpid(-1) elsewhere);
        // Python reports 0 then, and so do we.
        if (errno != ECHILD) return -errno;
        status = 0;
        return 1;
    }
    if (si.si_pid == 0) return 0;
    status = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
    return 1;
}

void reap_later(int pidfd) noexcept {
    int status;
    if (reap(pidfd, WNOHANG, status) != 0) {
        gev::detail::forget_fd(pidfd);
        ::close(pidfd);
        return;
    }
    if (gev::detail::Hub::current() == nullptr) {
        reap_in_thread(pidfd);
        return;
    }
    Orphan orphan(pidfd);
    try {
        gev::spawn(SpawnOptions{0, "subprocess reaper"}, [o = std::move(orphan)]() mutable { o.watch(); });
    } catch (...) {
        // Could not spawn (out of memory): `orphan`, or the task's copy, hands it on.
    }
}

}  // namespace gev::subprocess::proc_detail
