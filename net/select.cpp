// net/select.cpp — one non-blocking poll(2) over every fd; if none is ready, the fds
// are watched in the hub's poller (FdUse::watch: any number of watches share an fd with
// its socket's own waits, and a registration stays for the next wait). One distinct fd:
// the caller watches it itself, and the watch's poll is the answer. Several: one watcher
// fiber per fd; the first to see readiness wakes the caller, which stops the others and
// polls again for the full answer.
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

detail::IoOp watch_op(const pollfd& p) {
    detail::IoOp op;
    op.kind = detail::IoKind::poll;
    op.fd = p.fd;
    op.flags = p.events;
    op.use = detail::FdUse::watch;
    return op;
}

// Each fd once, watching the union of the events asked for it (an fd may appear in
// several lists); POLLPRI alone is watched as readable too.
std::vector<pollfd> distinct_fds(const std::vector<pollfd>& fds) {
    std::vector<pollfd> distinct;
    for (const pollfd& p : fds) {
        short events = p.events & POLLPRI ? POLLIN | POLLPRI : p.events;
        auto same = std::find_if(distinct.begin(), distinct.end(), [&](const pollfd& d) { return d.fd == p.fd; });
        if (same == distinct.end()) distinct.push_back(pollfd{p.fd, events, 0});
        else same->events |= events;
    }
    return distinct;
}

// One distinct fd, right after poll_now found nothing (no second try): the caller waits
// itself, and the revents its wait's poll reported answer each entry as poll(2) would,
// since each entry's events are a part of the union watched.
int wait_one(detail::Hub& hub, std::vector<pollfd>& fds, const pollfd& p, std::int64_t deadline) {
    detail::IoOp op = watch_op(p);
    detail::IoResult r = hub.poller().io_tried(op, deadline);
    if (!r.ready() || r.res < 0 || (r.res & POLLNVAL)) return poll_now(fds);   // the timeout, a close, an error
    int n = 0;
    for (pollfd& f : fds) {
        f.revents = static_cast<short>(r.res & (f.events | POLLERR | POLLHUP));
        n += f.revents != 0;
    }
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
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    std::vector<pollfd> distinct = distinct_fds(fds);
    if (distinct.size() == 1) return wait_one(hub, fds, distinct.front(), deadline);
    detail::Fiber* self = detail::current_fiber();
    detail::Waiter waiter;
    waiter.fiber = self;
    waiter.epoch = self->epoch;
    std::vector<Greenlet<>> watchers;
    watchers.reserve(distinct.size());
    for (const pollfd& p : distinct) {
        watchers.push_back(gev::spawn([&hub, &waiter, p] {
            detail::IoOp op = watch_op(p);   // tries first: the caller's poll was a while ago
            hub.poller().io(op, -1);
            if (!waiter.woken) {
                waiter.woken = true;
                detail::Hub::wake(waiter.fiber, waiter.epoch);
            }
        }));
    }
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
