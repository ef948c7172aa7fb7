// runtime/poller_uring_accept.hpp — multishot accept for the io_uring backend (kernel
// 5.19+): one IORING_OP_ACCEPT per listening gev socket stays in the kernel while a
// fiber accepts and posts every connection; those that arrive while no fiber waits are
// queued on the listener (bounded by kQueueCap), so a kill or Timeout of the accepting
// fiber loses no connection. At a turn where nobody waits in accept the multishot is
// stopped: connections are left in the kernel's backlog, for other processes sharing
// the listener too (prefork) and for an acceptor held back by a connection limit. A
// readiness wait (select, wait_read) on the listener turns it back to one accept per
// call. Closing the listener closes what it had queued. Owned by poller_uring.cpp.
#pragma once

#include "runtime/io.hpp"

#include <liburing.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace gev::detail {

// What the listeners need of the poller that owns the ring.
class UringRing {
public:
    virtual io_uring_sqe* take_sqe() noexcept = 0;
    virtual void finish(IoOp& op, int res) noexcept = 0;   // Poller::completed
    // Submits, waits up to 10 ms for a completion and reaps it; false when it cannot
    // (inside a reap).
    virtual bool turn() noexcept = 0;

protected:
    ~UringRing() = default;
};

class UringAccepts {
public:
    static constexpr std::size_t kQueueCap = 64;

    explicit UringAccepts(UringRing& ring, bool supported) noexcept : ring_(ring), supported_(supported) {}
    UringAccepts(const UringAccepts&) = delete;
    UringAccepts& operator=(const UringAccepts&) = delete;
    // Whether this ring's kernel has multishot accept (it came with IORING_OP_SOCKET, 5.19).
    static bool probe(io_uring& ring) noexcept;

    // Whether arm() should see op: a gev socket's accept with Socket::accept's flags.
    bool wants(const IoOp& op) const noexcept {
        return supported_ && op.kind == IoKind::accept && op.use == FdUse::socket &&
               op.flags == (SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    // Makes op the listener's waiter: served from the queue at the next due(), or, for
    // StreamServer's accept (IoOp::multishot), by the next connection the multishot
    // posts (armed here when it is not in the kernel). False: nothing is queued and op
    // goes to the kernel as one accept.
    bool arm(IoOp& op) noexcept;
    // A readiness wait on fd: a listener stops its multishot (waiting for the kernel,
    // without parking) and stays with one accept per call. True when op (a POLLIN
    // wait) is served at the next due() because connections are queued.
    bool readiness(IoOp& op) noexcept;
    // When op is a listener's waiter, or a readiness wait served from a queue, ends it
    // with -ECANCELED (anything queued stays queued) and returns true.
    bool cancel(IoOp& op) noexcept;
    // Once per turn, before submitting: stops the multishots that no fiber waits on.
    void stop_idle() noexcept {
        if (idle_check_) [[unlikely]] stop_unwaited();
    }
    // The fd is being dropped: closes its queued connections and waits for the kernel
    // to end the multishot, so the listening socket is gone once the fd is closed.
    void release(int fd) noexcept;
    // Whether a waiter can be served from a queue now; serve_due() does it.
    bool due() const noexcept { return !due_.empty() || !polls_due_.empty(); }
    void serve_due() noexcept;
    // Whether the next turn has work here (a stop_idle() or a serve_due() to make).
    bool owes_turn() const noexcept { return idle_check_ || due(); }
    // A completion whose user_data has the listener tag.
    static bool is_listener(const void* data) noexcept { return (reinterpret_cast<std::uintptr_t>(data) & 1) != 0; }
    void completion(void* data, int res, bool more) noexcept;
    // Before the ring goes: releases every listener; without `own_ring` (a forked child
    // holds the parent's ring) it only closes the queued fds and submits nothing.
    void shutdown(bool own_ring) noexcept;

private:
    struct Listener {
        int fd = -1;
        bool live = false;       // the multishot is in the kernel
        bool stopping = false;   // its cancellation is submitted
        bool retired = false;    // the fd was dropped: close whatever still comes
        bool plain = false;      // a readiness wait saw it: one accept per call from now on
        IoOp* waiter = nullptr;
        std::deque<int> queue;   // accepted fds, or -errno for the next accept to report
    };
    Listener* find(int fd) noexcept;
    void start(Listener& l) noexcept;
    void stop(Listener& l) noexcept;
    void serve(Listener& l) noexcept;
    void deliver(IoOp& op, int res) noexcept;
    void reclaim() noexcept;
    void stop_unwaited() noexcept;
    void to_kernel(Listener& l) noexcept;

    UringRing& ring_;
    const bool supported_;
    std::vector<std::unique_ptr<Listener>> listeners_;   // few: searched in order
    std::vector<std::unique_ptr<Listener>> retired_;     // until their multishot ends
    std::vector<Listener*> due_;
    std::vector<IoOp*> polls_due_;   // readiness waits answered POLLIN from a queue
    bool idle_check_ = false;        // a waiter left since the last stop_idle()
};

}  // namespace gev::detail
