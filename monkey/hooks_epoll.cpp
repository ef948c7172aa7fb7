// monkey/hooks_epoll.cpp — epoll_wait, epoll_pwait, epoll_pwait2 on the caller's own
// epoll fd. An epoll fd is itself pollable (readable while events are pending), so on
// a hub's fiber with a non-zero timeout the hook asks the kernel with a zero timeout,
// and if nothing is pending parks until the epoll fd is readable or the timeout
// passes, then asks again: every result and errno is the kernel's. A zero timeout, a
// signal mask, and every call off a fiber (the hub's own poller included) are the real
// call. A parked wait is never cut short by a signal (no EINTR).
#include "monkey/original.hpp"
#include "monkey/wait.hpp"

#include <sys/epoll.h>
#include <time.h>

#include <cerrno>
#include <limits>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;

int epoll_on(md::Hub& hub, int ep, epoll_event* ev, int max, std::int64_t ns) {
    int saved = errno;
    std::int64_t deadline = md::deadline_in(&hub, ns);
    for (;;) {
        int r = orig::epoll_wait(ep, ev, max, 0);
        if (r < 0) return r;   // EBADF, EINVAL, EFAULT: the kernel's own answer
        if (r > 0 || (deadline >= 0 && gev::detail::clock_ns() >= deadline)) {
            errno = saved;
            return r;
        }
        md::wait_poll(hub, ep, POLLIN, deadline, true);   // kept registered for the loop's next call
    }
}

md::Hub* parks(bool nonzero, const sigset_t* mask) noexcept {
    return nonzero && mask == nullptr ? md::cooperative(Patch::select) : nullptr;
}

std::int64_t ms_to_ns(int ms) noexcept { return ms < 0 ? -1 : static_cast<std::int64_t>(ms) * 1'000'000; }

}  // namespace

extern "C" {

int epoll_wait(int ep, epoll_event* ev, int max, int timeout) {
    md::Hub* hub = parks(timeout != 0, nullptr);
    if (hub == nullptr) return orig::epoll_wait(ep, ev, max, timeout);
    return epoll_on(*hub, ep, ev, max, ms_to_ns(timeout));
}

int epoll_pwait(int ep, epoll_event* ev, int max, int timeout, const sigset_t* mask) {
    md::Hub* hub = parks(timeout != 0, mask);
    if (hub == nullptr) return orig::epoll_pwait(ep, ev, max, timeout, mask);
    return epoll_on(*hub, ep, ev, max, ms_to_ns(timeout));
}

int epoll_pwait2(int ep, epoll_event* ev, int max, const timespec* timeout, const sigset_t* mask) {
    bool valid = timeout == nullptr || (timeout->tv_sec >= 0 && timeout->tv_nsec >= 0 && timeout->tv_nsec < kNsPerSec);
    bool zero = timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_nsec == 0;
    md::Hub* hub = valid ? parks(!zero, mask) : nullptr;
    if (hub == nullptr) return orig::epoll_pwait2(ep, ev, max, timeout, mask);
    std::int64_t ns = -1;
    if (timeout != nullptr)
        ns = timeout->tv_sec >= std::numeric_limits<std::int64_t>::max() / kNsPerSec - 1
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(timeout->tv_sec) * kNsPerSec + timeout->tv_nsec;
    return epoll_on(*hub, ep, ev, max, ns);
}

}  // extern "C"
