// runtime/poller_uring_accept.hpp — multishot accept for the io_uring backend (kernel
// 5.19+): one IORING_OP_ACCEPT per listening gev socket stays in the kernel and posts
// every connection; those that arrive while no fiber accepts are queued on the listener
// (bounded: past kQueueCap the multishot is stopped and the kernel's backlog holds the
// rest), so a kill or Timeout of the accepting fiber loses no connection. Closing the
// listener closes what it had queued. Owned by poller_uring.cpp, on the hub's thread.
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

    // Whether op is taken here: a gev socket's accept with Socket::accept's flags.
    bool wants(const IoOp& op) const noexcept {
        return supported_ && op.kind == IoKind::accept && op.use == FdUse::socket &&
               op.flags == (SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    // Makes op the listener's waiter: served from the queue at the next due(), or by the
    // next connection the multishot posts (armed here when it is not in the kernel).
    void arm(IoOp& op) noexcept;
    // When op is a listener's waiter, ends it with -ECANCELED (anything queued stays
    // queued) and returns true.
    bool cancel(IoOp& op) noexcept;
    // The fd is being dropped: closes its queued connections and waits for the kernel
    // to end the multishot, so the listening socket is gone once the fd is closed.
    void release(int fd) noexcept;
    // Whether a waiter can be served from a queue now; serve_due() does it.
    bool due() const noexcept { return !due_.empty(); }
    void serve_due() noexcept;
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
        IoOp* waiter = nullptr;
        std::deque<int> queue;   // accepted fds, or -errno for the next accept to report
    };
    Listener* find(int fd) noexcept;
    void start(Listener& l) noexcept;
    void stop(Listener& l) noexcept;
    void serve(Listener& l) noexcept;
    void deliver(IoOp& op, int res) noexcept;
    void reclaim() noexcept;

    UringRing& ring_;
    const bool supported_;
    std::vector<std::unique_ptr<Listener>> listeners_;   // few: searched in order
    std::vector<std::unique_ptr<Listener>> retired_;     // until their multishot ends
    std::vector<Listener*> due_;
};

}  // namespace gev::detail
