// monkey/hooks_poll.cpp — poll, ppoll, select, pselect (and the _FORTIFY_SOURCE
// entry points). On a hub's fiber with a non-zero timeout: the real call with a zero
// timeout gives the answer whenever something is ready; otherwise the fiber parks until
// one of the fds may be ready or the timeout passes, then asks the kernel again. So
// every result, revents bit and errno is the kernel's own. select updates the caller's
// timeval to the time left, as Linux does. A signal mask (ppoll, pselect) cannot be
// swapped for one fiber alone: those calls go to the C library unchanged.
#include "monkey/original.hpp"
#include "monkey/probe.hpp"
#include "monkey/wait.hpp"

#include <poll.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

extern "C" [[noreturn]] void __chk_fail(void);

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;

bool valid(const timespec* t) noexcept {
    return t == nullptr || (t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < kNsPerSec);
}
bool is_zero(const timespec* t) noexcept { return t != nullptr && t->tv_sec == 0 && t->tv_nsec == 0; }

std::int64_t to_ns(const timespec* t) noexcept {
    if (t == nullptr) return -1;
    if (t->tv_sec >= std::numeric_limits<std::int64_t>::max() / kNsPerSec - 1) return std::numeric_limits<std::int64_t>::max();
    return static_cast<std::int64_t>(t->tv_sec) * kNsPerSec + t->tv_nsec;
}

std::int64_t left_ns(std::int64_t deadline) noexcept {
    return deadline < 0 ? -1 : std::max<std::int64_t>(0, deadline - gev::detail::clock_ns());
}

// One fd in one direction waits in the hub's poller; anything else on a private set.
int wait_any(md::Hub& hub, const pollfd* fds, nfds_t n, std::int64_t deadline) {
    if (n == 0) {
        md::park_until(hub, deadline);
        return ETIMEDOUT;
    }
    if (n == 1 && fds[0].fd >= 0) {
        short e = fds[0].events;
        bool in = (e & ~(POLLIN | POLLRDNORM | POLLRDHUP)) == 0 && e != 0;
        bool out = (e & ~(POLLOUT | POLLWRNORM)) == 0 && e != 0;
        // A managed fd stays registered anyway: its watch is kept too.
        bool keep = md::fd_prepare(fds[0].fd, false).emulate;
        if (in || out) return md::wait_poll(hub, fds[0].fd, in ? POLLIN : POLLOUT, deadline, keep);
    }
    return md::wait_many(hub, fds, n, deadline);
}

int poll_on(md::Hub& hub, pollfd* fds, nfds_t n, std::int64_t ns) {
    int saved = errno;
    std::int64_t deadline = md::deadline_in(&hub, ns);
    for (;;) {
        int r = orig::poll(fds, n, 0);
        if (r < 0) return r;
        bool over = deadline >= 0 && gev::detail::clock_ns() >= deadline;
        if (r > 0 || over) {
            errno = saved;
            return r;
        }
        int w = wait_any(hub, fds, n, deadline);
        if (w != 0 && w != ETIMEDOUT) {   // no private epoll set could be made: block for real
            std::int64_t left = left_ns(deadline);
            int ms = left < 0 ? -1 : static_cast<int>(std::min<std::int64_t>((left + 999'999) / 1'000'000, 1 << 30));
            return orig::poll(fds, n, ms);
        }
    }
}

// The caller's fd sets, kept so each zero-timeout select starts from them again.
class FdSets {
public:
    FdSets(int nfds, fd_set* r, fd_set* w, fd_set* x) : words_((static_cast<std::size_t>(nfds) + 63) / 64) {
        fd_set* sets[3] = {r, w, x};
        for (int k = 0; k < 3; ++k) {
            sets_[k] = reinterpret_cast<unsigned long*>(sets[k]);
            if (sets_[k] != nullptr) saved_[k].assign(sets_[k], sets_[k] + words_);
        }
        static constexpr short events[3] = {POLLIN, POLLOUT, POLLPRI};
        for (int fd = 0; fd < nfds; ++fd) {
            short ev = 0;
            for (int k = 0; k < 3; ++k)
                if (sets_[k] != nullptr && (saved_[k][fd / 64] >> (fd % 64) & 1)) ev |= events[k];
            if (ev != 0) fds_.push_back(pollfd{fd, ev, 0});
        }
    }
    void restore() {
        for (int k = 0; k < 3; ++k)
            if (sets_[k] != nullptr) std::memcpy(sets_[k], saved_[k].data(), words_ * sizeof(unsigned long));
    }
    const std::vector<pollfd>& pollfds() const { return fds_; }

private:
    std::size_t words_;
    unsigned long* sets_[3]{};
    std::vector<unsigned long> saved_[3];
    std::vector<pollfd> fds_;
};

int select_on(md::Hub& hub, int nfds, fd_set* r, fd_set* w, fd_set* x, std::int64_t ns, timeval* tv) {
    int saved = errno;
    FdSets sets(nfds, r, w, x);
    std::int64_t deadline = md::deadline_in(&hub, ns);
    auto report_left = [&] {
        if (tv == nullptr) return;
        std::int64_t left = left_ns(deadline);
        tv->tv_sec = static_cast<time_t>(left / kNsPerSec);
        tv->tv_usec = static_cast<suseconds_t>(left % kNsPerSec / 1000);
    };
    for (;;) {
        sets.restore();
        timeval zero{0, 0};
        int n = orig::select(nfds, r, w, x, &zero);
        if (n < 0) return n;
        bool over = deadline >= 0 && gev::detail::clock_ns() >= deadline;
        if (n > 0 || over) {
            report_left();
            errno = saved;
            return n;
        }
        int e = wait_any(hub, sets.pollfds().data(), sets.pollfds().size(), deadline);
        if (e != 0 && e != ETIMEDOUT) {   // block for real
            sets.restore();
            std::int64_t left = left_ns(deadline);
            timeval t{static_cast<time_t>(left / kNsPerSec), static_cast<suseconds_t>(left % kNsPerSec / 1000)};
            n = orig::select(nfds, r, w, x, left < 0 ? nullptr : &t);
            if (tv != nullptr) *tv = t;
            return n;
        }
    }
}

}  // namespace

extern "C" {

// glibc declares poll's fds write-only (an access attribute for _FORTIFY_SOURCE), so g++
// takes fds[0].fd below for unset; poll reads each pollfd's fd and events, as here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
int poll(pollfd* fds, nfds_t n, int timeout) {
    if (timeout == 0) {
        if (n == 1 && fds[0].fd == md::kProbeFd) [[unlikely]] {
            md::probe_hit(2);
            fds[0].revents = 0;
            return 0;
        }
        return orig::poll(fds, n, 0);
    }
    md::Hub* hub = md::cooperative(Patch::select);
    if (hub == nullptr) return orig::poll(fds, n, timeout);
    return poll_on(*hub, fds, n, timeout < 0 ? -1 : static_cast<std::int64_t>(timeout) * 1'000'000);
}
#pragma GCC diagnostic pop

int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask) {
    md::Hub* hub = mask == nullptr && !is_zero(timeout) && valid(timeout) ? md::cooperative(Patch::select) : nullptr;
    if (hub == nullptr) return orig::ppoll(fds, n, timeout, mask);
    return poll_on(*hub, fds, n, to_ns(timeout));
}

int select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* tv) {
    bool zero = tv != nullptr && tv->tv_sec == 0 && tv->tv_usec == 0;
    bool ok = nfds >= 0 && (tv == nullptr || (tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1'000'000));
    md::Hub* hub = !zero && ok ? md::cooperative(Patch::select) : nullptr;
    if (hub == nullptr) return orig::select(nfds, r, w, x, tv);
    timespec ts{};
    if (tv != nullptr) ts = timespec{tv->tv_sec, tv->tv_usec * 1000};
    return select_on(*hub, nfds, r, w, x, to_ns(tv != nullptr ? &ts : nullptr), tv);
}

int pselect(int nfds, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout, const sigset_t* mask) {
    bool ok = nfds >= 0 && mask == nullptr && valid(timeout) && !is_zero(timeout);
    md::Hub* hub = ok ? md::cooperative(Patch::select) : nullptr;
    if (hub == nullptr) return orig::pselect(nfds, r, w, x, timeout, mask);
    return select_on(*hub, nfds, r, w, x, to_ns(timeout), nullptr);
}

int __poll_chk(pollfd* fds, nfds_t n, int timeout, size_t fdslen) {
    if (fdslen / sizeof(*fds) < n) __chk_fail();
    return poll(fds, n, timeout);
}

int __ppoll_chk(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask, size_t fdslen) {
    if (fdslen / sizeof(*fds) < n) __chk_fail();
    return ppoll(fds, n, timeout, mask);
}

}  // extern "C"
