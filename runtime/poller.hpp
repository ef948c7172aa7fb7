// runtime/poller.hpp — THE seam between the hub and the operating system's event
// mechanism. One poller per hub; a backend is one file (poller_epoll.cpp,
// poller_uring.cpp) and nothing else includes an OS event header.
//
// The contract (all calls on the hub's thread unless said otherwise):
//  poll(timeout_ns)  The hub's idle poll: gathers completed IO and readiness,
//                    making the waiting fibers ready through Hub::make_ready.
//                    timeout_ns < 0 blocks until something happens or wake();
//                    0 never blocks (and skips the system call when nothing is
//                    outstanding). Never throws.
//  wake()            Any thread: makes a poll blocked on another thread return.
//                    Async-signal-safe; coalesces.
//  outstanding()     How many waits are armed here; 0 lets the hub prove that a
//                    wait can never end (LoopExit).
//  io(op, deadline)  Park the current fiber until op's fd is ready and op is done, or
//                    the kernel completes op (io.hpp). Returns a typed IoResult
//                    (io_wait.hpp): ready with the call's result or -errno; timed_out
//                    past deadline_ns (<0: none); closed when another fiber forgot
//                    (closed) the fd. A kill or Timeout is raised only once the kernel
//                    holds nothing of op; if op completed meanwhile, it is returned
//                    ready and the exception stays pending. Throws
//                    ConcurrentObjectUseError if another fiber waits on the same side.
//                    A file kind (io.hpp's is_file_kind: pread, pwrite, fsync, openat,
//                    statx) is not an fd wait: the backend hands it to the kernel as an
//                    asynchronous operation, watches no fd and claims no side, or returns
//                    ready with -EOPNOTSUPP at once, without parking, when it cannot
//                    (epoll; an io_uring kernel without the opcode); the caller then runs
//                    the call on the thread pool (file/file_ops.cpp, the one place that picks).
//  forget(fd)        Stop watching an fd before it is closed: its waiters end closed,
//                    the backend keeps no registration for it, and the kernel holds no
//                    operation on it when forget returns (io_uring waits for the
//                    cancellations, without parking). When another hub held the fd,
//                    that hub's waiters end closed at its next turn.
// io() and forget() are this class's own (io_wait.cpp), written once: the backends
// below it only arm interest or submit an op, report "this fd's side is ready"
// (side_ready) or "this op completed" (completed), and cancel an op in the kernel.
// An fd that a socket operation (FdUse::socket) waited on belongs to that hub until it
// is forgotten; a socket wait on it from another hub ends the program with
// "gev: fd 7 belongs to hub 1, used from hub 0" (poller_fds.hpp). A shared wait (a
// monkey-patched fd) stays registered but belongs to no hub: a close this hub does not
// hear of shows as a newer generation or tag at the next wait, which registers again.
// A poll that is not a socket's own (select, wait_read, monkey's poll) is a watch: any
// number share an fd with its claimed sides and with each other, each woken for the
// directions it asked; FdUse::watch keeps the registration, and the next wait checks it.
#pragma once

#include "runtime/io.hpp"
#include "runtime/io_wait.hpp"
#include "runtime/poller_fds.hpp"

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

namespace gev::detail {

class Hub;
struct WaitReason;

class Poller {
public:
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;
    virtual ~Poller() = default;
    virtual const char* name() const noexcept = 0;
    virtual void poll(std::int64_t timeout_ns) noexcept = 0;
    virtual void wake() noexcept = 0;
    std::size_t outstanding() const noexcept { return armed_; }
    // Whether poll(0) would find nothing to do: no wait armed, nothing the backend owes
    // a turn (io_uring's queued submissions), no forget sent from another thread. The
    // hub then skips the look between two passes over its ready queue.
    bool at_rest() const noexcept { return armed_ == 0 && !owes_turn_ && !forgets_sent(); }
    // Inline: an op that does not block costs its one system call and nothing else.
    // io() for a caller that has just made op's call itself and seen that it would
    // block (select's own poll): the wait, without a second try first.
    IoResult io_tried(IoOp& op, std::int64_t deadline_ns) { return io_wait(op, deadline_ns, true); }
    IoResult io(IoOp& op, std::int64_t deadline_ns) {
        if (tries_first_ & kind_bit(op.kind)) [[likely]] {
            int r = io_try(op);
            if (r != -EAGAIN) [[likely]] return {WaitOutcome::ready, r};
            return io_wait(op, deadline_ns, true);
        }
        return io_wait(op, deadline_ns, false);   // a file kind, or a backend that submits first
    }
    void forget(int fd) noexcept;

protected:
    // How a backend goes about an op. `submits`: it hands ops to the kernel, which
    // holds each until it completes (io_uring); otherwise it only waits for readiness
    // (epoll). `by_readiness`: every op waits for readiness and then makes the call
    // (a poll or a connect always does). `tries_first`: every op makes the call before
    // it waits (an op waiting by readiness always does).
    struct Style {
        bool submits;
        bool by_readiness;
        bool tries_first;
    };
    Poller(Hub& hub, Style style) : hub_(hub), style_(style), tries_first_(try_kinds(style)), owner_(hub, *this) {}
    // Whether this backend can hand a file kind to the kernel.
    virtual bool takes_file_kind(IoKind) const noexcept { return false; }
    // Arms op's wait (s: its fd's state, null for a file kind): registers the fd for
    // readiness (called only while s->registered is false; the backend sets it), or
    // queues op (or a readiness poll) for the kernel. Returns 0 or -errno; a backend
    // that submits never fails here. Never parks.
    virtual int arm(IoOp& op, FdState* s, bool readiness) noexcept = 0;
    // Asks the kernel to let go of a submitted op; completed() reports it later.
    virtual void cancel(IoOp&) noexcept {}
    // Removes fd's registration (the number is still this hub's to use).
    virtual void unwatch(int) noexcept {}
    // The fd's number is dropped here (forgotten, or closed behind this hub's back): lets
    // go of what the backend keeps for it beyond its waiters' ops, without parking.
    virtual void release(int) noexcept {}
    // Returns once the kernel has completed the cancelled ops, without parking.
    virtual void drain(int, IoOp* const (&)[2]) noexcept {}

    // What backends report, from poll(). Inline: epoll reports every event.
    void side_ready(int fd, std::uint32_t gen, bool read, bool write) noexcept {
        FdState* s = fds_.find(fd);
        if (s == nullptr || !s->registered || s->gen != gen) return;   // a file closed since
        if (read && s->waiter[0] != nullptr) wake_waiter(*s->waiter[0]);
        if (write && s->waiter[1] != nullptr) wake_waiter(*s->waiter[1]);
        if (s->watches != nullptr) [[unlikely]] wake_watches(*s, read, write);
    }
    void completed(IoOp& op, int res) noexcept;
    void take_forgets() noexcept;
    bool forgets_sent() const noexcept { return owner_.has_sent(); }
    // First thing in a backend's destructor: no forget is sent here any more, and the
    // fds this hub held are released.
    void retire() noexcept;

private:
    static constexpr std::uint16_t kind_bit(IoKind k) noexcept { return std::uint16_t(1u << static_cast<unsigned>(k)); }
    // The kinds io() tries before it waits: every fd kind where the style says so, and
    // those that wait by readiness (poll, connect); never a file kind.
    static constexpr std::uint16_t try_kinds(Style st) noexcept {
        std::uint16_t fd_kinds = kind_bit(IoKind::pread) - 1;
        return st.tries_first || st.by_readiness ? fd_kinds : kind_bit(IoKind::poll) | kind_bit(IoKind::connect);
    }
    bool by_readiness(const IoOp& op) const noexcept {
        return style_.by_readiness || op.kind == IoKind::poll || op.kind == IoKind::connect;
    }
    // io() past its first try (`tried`), or for an op that does not try first.
    [[gnu::noinline]] IoResult io_wait(IoOp& op, std::int64_t deadline_ns, bool tried);
    [[gnu::noinline]] IoResult io_file(IoOp& op, std::int64_t deadline_ns);
    struct Settle;
    static void wake_waiter(const IoOp& op) noexcept;
    static void wake_watches(const FdState& s, bool read, bool write) noexcept;
    IoResult wait_ready(FdState& s, IoOp& op, int d, std::int64_t deadline_ns);
    IoResult wait_kernel(FdState& s, IoOp& op, int d, bool readiness, std::int64_t deadline_ns);
    IoResult park_ready(IoOp& op, std::int64_t deadline_ns);
    IoResult park_kernel(IoOp& op, std::int64_t deadline_ns);
    void make_timer_room(std::int64_t deadline_ns);
    void refresh(FdState& s, const IoOp& op) noexcept {
        std::uint32_t gen = FdOwner::generation(op.fd);
        if (gen != s.gen || (op.use == FdUse::shared && !s.owned && s.tag != op.tag)) [[unlikely]] renew(s, op, gen);
    }
    void renew(FdState& s, const IoOp& op, std::uint32_t gen) noexcept;
    void hold(FdState& s, const IoOp& op) {
        if (!s.owned) [[unlikely]] take_hold(s, op);
    }
    void take_hold(FdState& s, const IoOp& op);
    void settle(FdState& s, IoOp& op, int d) noexcept {
        release_wait(s, op, d);
        if (s.transient && s.registered && s.waiter[0] == nullptr && s.waiter[1] == nullptr && s.watches == nullptr) {
            if (op.use == FdUse::watch) s.kept = true;   // checked by the next wait's arm
            else unwatch(op.fd);
            s.registered = false;
        }
    }
    bool drop(int fd, FdState& s, bool still_ours, IoOp* (&held)[2], IoOp*& watches) noexcept;
    bool end_wait(IoOp& w) noexcept;

    Hub& hub_;
    const Style style_;
    const std::uint16_t tries_first_;   // try_kinds(style_), one test in io()
    std::size_t armed_ = 0;
    FdTable fds_;

protected:
    bool owes_turn_ = false;   // a backend's work beyond armed waits: see at_rest()

private:
    FdOwner owner_;
};

// Any thread, with or without a hub: fd is about to be closed or handed away. On a hub
// thread this is its poller's forget(); either way the hub that held fd is told.
void forget_fd(int fd) noexcept;

// What a fiber parked on op is waiting for ("recv fd 7"), for LoopExit and dumps.
WaitReason io_reason(const IoOp& op) noexcept;

// Makes the poller named by `choice` ("io_uring", "epoll"; empty: GEV_POLLER, else
// the best that initialises here). Logs one line to stderr when it falls back.
// Throws std::system_error when the named poller cannot start; its code is in
// poller_unavailable_category() when the backend cannot exist here at all.
std::unique_ptr<Poller> make_poller(Hub& hub, const std::string& choice);

// "This backend cannot start on this machine or in this build": the kernel lacks or
// forbids io_uring (ENOSYS, EPERM from io_uring_setup), or liburing was missing at build
// time. Its values are errno values that compare equal to std::errc's; the test runner
// skips a binary only for this, and fails it for every other startup error.
const std::error_category& poller_unavailable_category() noexcept;

// Backend factories, each defined in its own file. They report failure through `ec`.
std::unique_ptr<Poller> make_epoll_poller(Hub& hub, std::error_code& ec);
std::unique_ptr<Poller> make_uring_poller(Hub& hub, std::error_code& ec);
// Whether this build has the backend at all (io_uring is optional at build time).
bool uring_built() noexcept;

}  // namespace gev::detail
