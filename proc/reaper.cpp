// proc/reaper.cpp — abandoned children are reaped by one thread per process, started the
// first time a child is abandoned: it poll(2)s the pidfds it was handed (plus an eventfd
// that announces new ones) and reaps each child as it exits. A thread, not a fiber on
// the hub that dropped the child: that hub may be ending (a Popen dropped while its fiber
// is killed at exit), and a wait there would never be served. A forked child starts its
// own reaper: the parent's thread does not exist there.
#include "proc/reaper.hpp"

#include "runtime/poller.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace gev::subprocess::proc_detail {
namespace {

class Reaper {
public:
    // Throws std::system_error when the eventfd or the thread cannot be had.
    Reaper() : owner_(::getpid()), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (wake_ < 0) throw std::system_error(errno, std::generic_category(), "gev::subprocess reaper: eventfd");
        std::thread([this] { loop(); }).detach();
    }

    pid_t owner() const noexcept { return owner_; }

    void add(int pidfd) noexcept {
        {
            std::lock_guard lock(mu_);
            incoming_.push_back(pidfd);
        }
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(wake_, &one, sizeof one);
    }

private:
    void loop() noexcept {
        std::vector<pollfd> fds{pollfd{wake_, POLLIN, 0}};
        for (;;) {
            if (::poll(fds.data(), fds.size(), -1) < 0) continue;   // EINTR
            for (std::size_t i = 1; i < fds.size();) {
                int status;
                if (fds[i].revents != 0 && reap(fds[i].fd, WNOHANG, status) != 0) {
                    ::close(fds[i].fd);
                    fds[i] = fds.back();
                    fds.pop_back();
                } else {
                    fds[i++].revents = 0;
                }
            }
            if (fds[0].revents != 0) {
                std::uint64_t n;
                [[maybe_unused]] ssize_t r = ::read(wake_, &n, sizeof n);
                std::lock_guard lock(mu_);
                for (int fd : incoming_) fds.push_back(pollfd{fd, POLLIN, 0});
                incoming_.clear();
            }
            fds[0].revents = 0;
        }
    }

    const pid_t owner_;
    const int wake_;
    std::mutex mu_;
    std::vector<int> incoming_;
};

std::atomic<Reaper*> g_current{nullptr};
std::mutex g_start;

// A fork waits while another thread starts a reaper: the child's copy of the mutex would
// otherwise stay locked by a thread the child does not have, and its first abandoned
// child would hang it. Registered when the library is loaded, before any thread can hold it.
[[maybe_unused]] const bool g_fork_safe = [] {
    ::pthread_atfork([] { g_start.lock(); }, [] { g_start.unlock(); }, [] { g_start.unlock(); });
    return true;
}();

// The reaper of this process (never destroyed: its thread runs until the process ends).
// nullptr when it could not start.
Reaper* reaper() noexcept {
    Reaper* r = g_current.load(std::memory_order_acquire);
    if (r != nullptr && r->owner() == ::getpid()) return r;
    std::lock_guard lock(g_start);
    r = g_current.load(std::memory_order_relaxed);
    if (r != nullptr && r->owner() == ::getpid()) return r;
    try {
        r = new Reaper;
    } catch (const std::exception&) {
        return nullptr;
    }
    g_current.store(r, std::memory_order_release);
    return r;
}

}  // namespace

std::mutex& reaper_start_mutex() noexcept { return g_start; }

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
    gev::detail::forget_fd(pidfd);   // no hub watches it from here on
    int status;
    if (reap(pidfd, WNOHANG, status) != 0) {
        ::close(pidfd);
        return;
    }
    if (Reaper* r = reaper()) r->add(pidfd);
    // Else (no thread to be had) the child stays a zombie until this process ends, and
    // its pidfd stays open so that its number is not anyone else's meanwhile.
}

}  // namespace gev::subprocess::proc_detail
