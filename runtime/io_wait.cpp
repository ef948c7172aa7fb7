// runtime/io_wait.cpp — the poller's common layer, written once above the backends
// (Go's netpoll.go shape): "try, wait, retry"; claiming an fd's side for one fiber;
// parking with the deadline; a kill or Timeout raised only once the kernel holds
// nothing of the op; the typed outcome; the fd's generation, holder and tag; forget.
// The backends (poller_epoll.cpp, poller_uring.cpp) arm, submit, cancel and report
// through side_ready() and completed(). Owned by the hub's thread.
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"

#include <cerrno>
#include <utility>

namespace gev::detail {

namespace {
// Inline: every park names its reason.
[[gnu::always_inline]] inline WaitReason reason_of(const IoOp& op) noexcept {
    static constexpr const char* names[] = {"wait", "recv", "send", "recvmsg", "sendmsg",
                                            "accept", "connect", "read", "write",
                                            "pread", "pwrite", "fsync", "openat", "statx"};
    const char* what = names[static_cast<int>(op.kind)];
    if (op.kind == IoKind::poll) [[unlikely]] what = op.dir() == 0 ? "wait_read" : "wait_write";
    return WaitReason{WaitKind::fd, what, nullptr, op.fd};
}
}  // namespace

WaitReason io_reason(const IoOp& op) noexcept { return reason_of(op); }

// Waits, and after each readiness tries the call again, until it would not block. One
// function for the whole wait (the backend's style is a branch, not a layer): a wait
// that parks costs its park and little else.
IoResult Poller::io_wait(IoOp& op, std::int64_t deadline_ns, bool tried) {
    if (is_file_kind(op.kind)) [[unlikely]] return io_file(op, deadline_ns);
    bool readiness = by_readiness(op);
    const int d = op.dir();
    FdState& s = fds_.at(op.fd);
    refresh(s, op);
    // Only waiting is exclusive: with another op on this side, try the call first.
    if (!tried && side_busy(s, op, d)) {
        int r = io_try(op);
        if (r != -EAGAIN) return {WaitOutcome::ready, r};
    }
    if (op.use < FdUse::raw) s.transient = false;   // socket, shared: one compare
    if (op.use == FdUse::socket) hold(s, op);
    for (;;) {
        IoResult w = style_.submits ? wait_kernel(s, op, d, readiness, deadline_ns) : wait_ready(s, op, d, deadline_ns);
        if (!w.ready()) return w;
        if (!readiness) {
            if (w.res != -EAGAIN) return w;
            readiness = true;   // a submitted call on a non-blocking fd: wait, then try
            continue;
        }
        if (w.res < 0 || (style_.submits && op.kind == IoKind::poll)) return w;   // the poll's own result
        int r = io_try(op);
        if (r != -EAGAIN) return {WaitOutcome::ready, r};
        refresh(s, op);   // a close behind this hub's back while it waited
        if (op.use == FdUse::socket) hold(s, op);
    }
}

// A file kind: no fd state, so any hub and any number of fibers.
IoResult Poller::io_file(IoOp& op, std::int64_t deadline_ns) {
    if (!takes_file_kind(op.kind)) return {WaitOutcome::ready, -EOPNOTSUPP};
    if (deadline_ns >= 0) make_timer_room(deadline_ns);
    arm(op, nullptr, false);
    return park_kernel(op, deadline_ns);
}

// Once the kernel holds op nothing may throw (it would write into a dead frame): arming
// the park's deadline may grow the timer heap, so make room before submitting.
void Poller::make_timer_room(std::int64_t deadline_ns) {
    TimerNode room;
    room.fire = [](TimerNode*) {};
    hub_.arm(&room, deadline_ns);
    hub_.cancel(&room);
}

// The side is claimed, the wait armed and the fiber parked; the side is free again on
// return, however the park ends.
struct Poller::Settle {
    Poller& p;
    FdState& s;
    IoOp& op;
    int d;
    ~Settle() { p.settle(s, op, d); }
};

// A readiness backend: registers an fd once, then parks until a side is ready.
[[gnu::always_inline]] inline IoResult Poller::wait_ready(FdState& s, IoOp& op, int d, std::int64_t deadline_ns) {
    claim_wait(s, op, d);
    Settle settle{*this, s, op, d};
    if (!s.registered) [[unlikely]]
        if (int r = arm(op, &s, true); r < 0) return {WaitOutcome::ready, r};
    return park_ready(op, deadline_ns);
}

// A submitting backend: hands op (or a readiness poll) to the kernel and parks.
[[gnu::always_inline]] inline IoResult Poller::wait_kernel(FdState& s, IoOp& op, int d, bool readiness,
                                                           std::int64_t deadline_ns) {
    if (deadline_ns >= 0) make_timer_room(deadline_ns);
    claim_wait(s, op, d);
    Settle settle{*this, s, op, d};
    arm(op, &s, readiness);
    return park_kernel(op, deadline_ns);
}

// A readiness wait: the kernel holds nothing, so a kill or Timeout is raised at once.
[[gnu::always_inline]] inline IoResult Poller::park_ready(IoOp& op, std::int64_t deadline_ns) {
    Fiber* self = current_fiber();
    op.fiber = self;
    op.epoch = self->epoch;
    op.closed = false;
    op.in_kernel = false;
    ++armed_;
    Wake w;
    try {
        w = hub_.park(reason_of(op), deadline_ns);
    } catch (...) {
        --armed_;
        throw;
    }
    --armed_;
    if (op.closed) [[unlikely]] return {WaitOutcome::closed, 0};
    return {w == Wake::timed_out ? WaitOutcome::timed_out : WaitOutcome::ready, 0};
}

// A submitted op: whatever ends the park early, the kernel must let go of op first.
[[gnu::always_inline]] inline IoResult Poller::park_kernel(IoOp& op, std::int64_t deadline_ns) {
    Fiber* self = current_fiber();
    op.fiber = self;
    op.done = false;
    op.closed = false;
    op.in_kernel = true;
    op.res = 0;
    op.epoch = self->epoch;
    ++armed_;
    Wake w = hub_.park(reason_of(op), deadline_ns, false);
    if (!op.done) [[unlikely]] {   // timed out, killed, or a Timeout fired
        cancel(op);
        while (!op.done) {
            op.epoch = self->epoch;
            hub_.park(reason_of(op), -1, false);
        }
    }
    if (op.res != -ECANCELED) [[likely]] return {WaitOutcome::ready, op.res};
    if (self->pending) Hub::raise_pending(self);
    if (w == Wake::timed_out) return {WaitOutcome::timed_out, 0};
    return {op.closed ? WaitOutcome::closed : WaitOutcome::cancelled, 0};
}

// What this hub knew of a number closed behind its back (a newer generation, or for a
// shared fd a newer tag) belongs to the old file: drop it before waiting again.
void Poller::renew(FdState& s, const IoOp& op, std::uint32_t gen) noexcept {
    IoOp* held[2];
    IoOp* watches;
    if (s.registered || s.owned || s.waiter[0] != nullptr || s.waiter[1] != nullptr || s.watches != nullptr)
        drop(op.fd, s, false, held, watches);
    s.gen = gen;
    if (op.use == FdUse::shared) s.tag = op.tag;
}

// A socket op: this hub holds the fd (dies when another does).
void Poller::take_hold(FdState& s, const IoOp& op) {
    std::uint32_t gen = owner_.claim(op.fd);
    if (gen != s.gen) {   // forgotten again since refresh()
        IoOp* held[2];
        IoOp* watches;
        drop(op.fd, s, false, held, watches);
        s.gen = gen;
        s.transient = false;
    }
    s.owned = true;
}

// Forgets everything about fd here: readiness waiters end closed at once, submitted
// ops are cancelled (their fibers end closed on completion) and returned in `held`,
// the watches likewise, as the chain `watches` (valid until a fiber runs).
// `still_ours`: the caller owns the number now (a local forget, before the close), so
// its registration can go; otherwise the number may be closing or reused on another
// thread, and the registration is left alone: the kernel drops it with the file, its
// events carry an old generation, and registering the number again updates it.
bool Poller::drop(int fd, FdState& s, bool still_ours, IoOp* (&held)[2], IoOp*& watches) noexcept {
    if (s.registered && still_ours) unwatch(fd);
    s.registered = false;
    s.kept = false;   // a forget's close drops it; a detach's number is registered anew (EEXIST)
    s.transient = true;
    s.owned = false;
    bool any = false;
    for (int side = 0; side < 2; ++side) {
        IoOp* w = std::exchange(s.waiter[side], nullptr);
        held[side] = w != nullptr && end_wait(*w) ? w : nullptr;
        any = any || held[side] != nullptr;
    }
    watches = std::exchange(s.watches, nullptr);
    for (IoOp* w = watches; w != nullptr; w = w->next_watch) any = end_wait(*w) || any;
    release(fd);
    return any;
}

// A wait on a forgotten fd ends closed; true when the kernel still holds it (cancelled).
bool Poller::end_wait(IoOp& w) noexcept {
    w.closed = true;
    if (!w.in_kernel) {
        Hub::wake(w.fiber, w.epoch);
        return false;
    }
    if (w.done) return false;
    cancel(w);
    return true;
}

void Poller::forget(int fd) noexcept {
    if (FdState* s = fds_.find(fd)) {
        IoOp* held[2];
        IoOp* watches;
        if (drop(fd, *s, true, held, watches)) {
            drain(fd, held);
            for (IoOp* w = watches; w != nullptr; w = w->next_watch)
                if (w->in_kernel && !w->done) drain(fd, {w, nullptr});
        }
    }
    FdOwner::forgetting(fd, &owner_);
}

// Other threads forgot fds this hub held: drop them unless the number has been
// waited on again here since (a newer generation).
void Poller::take_forgets() noexcept {
    for (auto [fd, gen] : owner_.take_sent()) {
        FdState* s = fds_.find(fd);
        IoOp* held[2];
        IoOp* watches;
        if (s != nullptr && s->gen == gen) drop(fd, *s, false, held, watches);
    }
}

void Poller::wake_waiter(const IoOp& op) noexcept { Hub::wake(op.fiber, op.epoch); }

// Each watch wakes for readiness in a direction it asked for; it polls again, so a
// readiness it did not ask for costs only a spurious wake-up.
void Poller::wake_watches(const FdState& s, bool read, bool write) noexcept {
    for (const IoOp* w = s.watches; w != nullptr; w = w->next_watch)
        if ((read && (w->flags & ~POLLOUT) != 0) || (write && (w->flags & POLLOUT) != 0)) wake_waiter(*w);
}

void Poller::completed(IoOp& op, int res) noexcept {
    --armed_;
    op.res = res;
    op.done = true;
    Hub::wake(op.fiber, op.epoch);
}

void Poller::retire() noexcept {
    owner_.retire();
    fds_.for_each([this](int fd, FdState& s) {
        if (s.owned) owner_.release(fd, s.gen);
    });
}

}  // namespace gev::detail
