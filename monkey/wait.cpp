// monkey/wait.cpp — parking a fiber until fds are ready. One fd waits in the hub's
// poller as a watch, which any number of fibers may keep on one fd beside a socket's own
// waits: a managed fd stays registered there between waits (FdUse::shared; a close the
// hooks never see is caught by the tag, fd_stale having run before the first wait of
// each call); a poll's fd too, checked at the next wait (FdUse::watch), where the caller
// asks; any other fd only for the wait (raw). Several fds wait on a private epoll set that
// is itself waited on in the hub's poller; this is the one place outside the runtime's
// backends that uses epoll directly.
// Every hook's wait on a managed fd comes here (wait_fd), so the rule "a number whose
// file changed since the call first waited ends the call with EBADF" is kept once.
// A kill or Timeout thrown out of a park poisons the connections waited on (poison.hpp).
#include "monkey/wait.hpp"

#include "monkey/original.hpp"
#include "monkey/poison.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>

namespace gev::monkey::detail {
namespace {

using gev::detail::IoKind;
using gev::detail::IoOp;
using gev::detail::WaitOutcome;

std::int64_t now_ns() noexcept { return gev::detail::clock_ns(); }

// Waits in the real poll(2): the thread blocks, as the call it stands for would have.
int wait_blocking(int fd, short events, std::int64_t deadline) noexcept {
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            std::int64_t left = deadline - now_ns();
            if (left <= 0) return ETIMEDOUT;
            ms = static_cast<int>(std::min<std::int64_t>((left + 999'999) / 1'000'000, std::numeric_limits<int>::max()));
        }
        pollfd p{fd, events, 0};
        int n = original::poll(&p, 1, ms);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return 0;   // let the real call report it
    }
}

// wait_many without the poisoning.
int wait_set(Hub& hub, const pollfd* fds, nfds_t n, std::int64_t deadline) {
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return errno;
    struct Close {
        Hub& hub;
        int ep;
        ~Close() {
            hub.poller().forget(ep);
            original::close(ep);
        }
    } close{hub, ep};
    for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].fd < 0) continue;
        epoll_event ev{};
        ev.events = static_cast<std::uint16_t>(fds[i].events);   // POLL* and EPOLL* bits agree on Linux
        ev.data.u64 = i;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &ev) == 0 || errno != EEXIST) continue;
        for (nfds_t j = 0; j < i; ++j)   // the same fd twice: watch the union
            if (fds[j].fd == fds[i].fd) ev.events |= static_cast<std::uint16_t>(fds[j].events);
        ::epoll_ctl(ep, EPOLL_CTL_MOD, fds[i].fd, &ev);
    }
    IoOp op;
    op.kind = IoKind::poll;
    op.fd = ep;
    op.flags = POLLIN;
    op.use = gev::detail::FdUse::raw;
    return hub.poller().io(op, deadline).outcome == WaitOutcome::timed_out ? ETIMEDOUT : 0;
}

// wait_fd on a hub, without the poisoning. A managed fd (v.entry) stays registered
// in the hub's poller between waits, held by no hub; its tag changes whenever the
// number is found to name another file, so the poller registers the new one (a call
// whose number changed since its first wait waits no more: EBADF).
int wait_parked(Hub& hub, int fd, short events, const FdView& v, const FdWait& w) {
    IoOp op;
    op.kind = IoKind::poll;
    op.fd = fd;
    op.flags = events;
    if (v.entry != nullptr) {
        std::uint32_t files = v.entry->files.load(std::memory_order_acquire);
        if (files != w.files) return EBADF;
        op.use = gev::detail::FdUse::shared;
        op.tag = std::uint64_t{files} << 32 | v.gen;
    } else {
        op.use = gev::detail::FdUse::raw;
    }
    gev::detail::IoResult r = hub.poller().io(op, w.deadline);
    if (r.outcome == WaitOutcome::timed_out) return ETIMEDOUT;
    if (r.gone() && v.entry != nullptr && v.entry->gen.load(std::memory_order_acquire) != v.gen) return EBADF;
    return 0;   // ready, or an error the real call will report
}

}  // namespace

std::int64_t deadline_in(Hub* hub, std::int64_t ns) noexcept {
    if (ns < 0) return -1;
    if (hub != nullptr) return hub->deadline_after(std::chrono::nanoseconds(ns));
    std::int64_t now = now_ns();
    return ns > std::numeric_limits<std::int64_t>::max() - now ? std::numeric_limits<std::int64_t>::max() : now + ns;
}

bool wait_begin(Hub* hub, int fd, const FdView& v, bool send, FdWait& w) noexcept {
    if (fd_stale(fd, v)) return false;
    w.deadline = deadline_in(hub, fd_timeout(*v.desc, send));
    w.files = v.entry->files.load(std::memory_order_acquire);
    w.begun = true;
    return true;
}

int wait_fd(Hub* hub, int fd, short events, const FdView& v, FdWait& w) {
    if (v.entry != nullptr && !w.begun && !wait_begin(hub, fd, v, events == POLLOUT, w)) return ESTALE;
    int r;
    if (hub == nullptr) {
        r = wait_blocking(fd, events, w.deadline);
    } else {
        try {
            r = wait_parked(*hub, fd, events, v, w);
        } catch (...) {
            poison_interrupted(fd);
            throw;
        }
    }
    // Closed and reused behind the hooks' back while it waited (the hooks' table saw
    // the new file): the call's own file is gone, and the next try would use another.
    if (r == 0 && v.entry != nullptr && wait_moved(v, w)) return EBADF;
    return r;
}

int wait_poll(Hub& hub, int fd, short events, std::int64_t deadline, bool keep) {
    IoOp op;
    op.kind = IoKind::poll;
    op.fd = fd;
    op.flags = events;
    op.use = keep ? gev::detail::FdUse::watch : gev::detail::FdUse::raw;
    try {
        return hub.poller().io(op, deadline).outcome == WaitOutcome::timed_out ? ETIMEDOUT : 0;
    } catch (...) {
        poison_interrupted(fd);
        throw;
    }
}

int wait_many(Hub& hub, const pollfd* fds, nfds_t n, std::int64_t deadline) {
    try {
        return wait_set(hub, fds, n, deadline);
    } catch (...) {
        for (nfds_t i = 0; i < n; ++i) poison_interrupted(fds[i].fd);
        throw;
    }
}

void park_until(Hub& hub, std::int64_t deadline) {
    hub.park(gev::detail::WaitReason{gev::detail::WaitKind::sleep, "sleep"}, deadline);
}

}  // namespace gev::monkey::detail
