// net/select.cpp — one non-blocking poll(2) over every fd; if none is ready, one
// watcher fiber per fd parks in the poller and the first to see readiness wakes the
// caller, which then stops the others and polls again for the full answer.
#include "net/select.hpp"

#include "net/errors.hpp"
#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"
#include "runtime/joinall.hpp"
#include "runtime/shield.hpp"

#include <algorithm>
#include <cerrno>

namespace gev::net {
namespace {

int poll_now(std::vector<pollfd>& fds) {
    int n = ::poll(fds.data(), fds.size(), 0);
    if (n < 0) throw SocketError(errno, "poll");
    for (const pollfd& p : fds)
        if (p.revents & POLLNVAL) throw SocketError(EBADF, "select: fd " + std::to_string(p.fd));
    return n;
}

}  // namespace

int poll(std::vector<pollfd>& fds, MaybeDuration timeout) {
    int n = poll_now(fds);
    if (n > 0 || (timeout && timeout->count() <= 0)) return n;
    detail::Hub& hub = detail::Hub::require("gev::net::poll");
    if (fds.empty()) {   // Python's select([], [], [], t): just a sleep
        hub.park(detail::WaitReason{detail::WaitKind::sleep, "sleep"}, timeout ? hub.deadline_after(*timeout) : -1);
        return 0;
    }
    detail::Fiber* self = detail::current_fiber();
    detail::Waiter waiter;
    waiter.fiber = self;
    waiter.epoch = self->epoch;
    // One watcher per distinct fd (an fd may appear in several lists, and two waits on
    // one side of an fd would collide), watching the union of the requested events.
    std::vector<pollfd> distinct;
    for (const pollfd& p : fds) {
        short events = p.events & POLLPRI ? POLLIN | POLLPRI : p.events;
        auto same = std::find_if(distinct.begin(), distinct.end(), [&](const pollfd& d) { return d.fd == p.fd; });
        if (same == distinct.end()) distinct.push_back(pollfd{p.fd, events, 0});
        else same->events |= events;
    }
    std::vector<Greenlet<>> watchers;
    watchers.reserve(distinct.size());
    for (const pollfd& p : distinct) {
        watchers.push_back(gev::spawn([&hub, &waiter, p] {
            detail::IoOp op;
            op.kind = detail::IoKind::poll;
            op.fd = p.fd;
            op.flags = p.events;
            op.use = detail::FdUse::raw;
            hub.poller().io(op, -1);
            if (!waiter.woken) {
                waiter.woken = true;
                detail::Hub::wake(waiter.fiber, waiter.epoch);
            }
        }));
    }
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    struct Stop {
        std::vector<Greenlet<>>& ws;
        ~Stop() {
            // killall waits for the watchers to die; a kill or Timeout arriving then must
            // not escape this destructor: it stays pending for the caller's next wait.
            Shield shield;
            killall(ws);
        }
    } stop{watchers};
    hub.park(detail::WaitReason{detail::WaitKind::object, "select", &fds}, deadline);
    return poll_now(fds);
}

SelectResult select(const std::vector<int>& r, const std::vector<int>& w, const std::vector<int>& x,
                    MaybeDuration timeout) {
    std::vector<pollfd> fds;
    for (int fd : r) fds.push_back(pollfd{fd, POLLIN, 0});
    for (int fd : w) fds.push_back(pollfd{fd, POLLOUT, 0});
    for (int fd : x) fds.push_back(pollfd{fd, POLLPRI, 0});
    poll(fds, timeout);
    SelectResult out;
    std::size_t i = 0;
    for (int fd : r)
        if (fds[i++].revents & (POLLIN | POLLHUP | POLLERR)) out.readable.push_back(fd);
    for (int fd : w)
        if (fds[i++].revents & (POLLOUT | POLLHUP | POLLERR)) out.writable.push_back(fd);
    for (int fd : x)
        if (fds[i++].revents & POLLPRI) out.exceptional.push_back(fd);
    return out;
}

}  // namespace gev::net
