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
//  outstanding()     How many fibers wait on IO here; 0 lets the hub prove that a
//                    wait can never end (LoopExit).
//  io(op, deadline)  Park the current fiber until op's fd is ready and op is done, or
//                    the kernel completes op (io.hpp). Returns the result or -errno:
//                    -ETIMEDOUT past deadline_ns (<0: none), -ECANCELED when another
//                    fiber forgot (closed) the fd. A kill or Timeout is raised only once
//                    the kernel holds nothing of op; if op completed meanwhile, its
//                    result is returned and the exception stays pending. Throws
//                    ConcurrentObjectUseError if another fiber waits on the same side.
//                    A file kind (io.hpp's is_file_kind: pread, pwrite, fsync, openat,
//                    statx) is not an fd wait: the backend hands it to the kernel as an
//                    asynchronous operation, watches no fd and claims no side, or returns
//                    -EOPNOTSUPP at once, without parking, when it cannot (epoll; an
//                    io_uring kernel without the opcode); the caller then runs the
//                    call on the thread pool (file/file_ops.cpp, the one place that picks).
//  forget(fd)        Stop watching an fd before it is closed: its waiters get -ECANCELED,
//                    the backend keeps no registration for it, and the kernel holds no
//                    operation on it when forget returns (io_uring waits for the
//                    cancellations, without parking). When another hub held the fd,
//                    that hub's waiters get -ECANCELED at its next turn.
// An fd that a socket operation (not a raw wait) waited on belongs to that hub until it
// is forgotten; a socket wait on it from another hub ends the program with
// "gev: fd 7 belongs to hub 1, used from hub 0" (poller_fds.hpp).
#pragma once

#include "runtime/io.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

namespace gev::detail {

class Hub;
struct WaitReason;

class Poller {
public:
    virtual ~Poller() = default;
    virtual const char* name() const noexcept = 0;
    virtual void poll(std::int64_t timeout_ns) noexcept = 0;
    virtual void wake() noexcept = 0;
    virtual std::size_t outstanding() const noexcept = 0;
    virtual int io(IoOp& op, std::int64_t deadline_ns) = 0;
    virtual void forget(int fd) noexcept = 0;
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
