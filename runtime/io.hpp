// runtime/io.hpp — what the poller seam is asked to do: one IoOp (an operation on an fd,
// living on the waiting fiber's stack) and the per-fd state the poller's common layer
// keeps (FdTable, io_wait.cpp).
// io_try() performs an op as one non-blocking system call; the epoll backend and the
// io_uring backend's "try first" mode share it. The file kinds (pread .. statx) are not
// fd waits: io_try makes their (blocking) system call, for the thread pool. Owned by one
// hub's thread.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace gev::detail {

class Fiber;

enum class IoKind : std::uint8_t {
    poll, recv, send, recvmsg, sendmsg, accept, connect, read, write,
    // File kinds (is_file_kind): handed to the kernel as they are, never waited on for
    // readiness; the fd is not watched, so any hub and any number of fibers may use it.
    pread,    // fd, buf, len, offset (kCurrentPosition: the file position, advanced)
    pwrite,   // fd, buf, len, offset (likewise)
    fsync,    // fd; flags 1: fdatasync
    openat,   // fd: the directory fd, path, flags (O_*), mode; result: the new fd
    statx,    // fd: the directory fd, path, flags (AT_*), len: the statx mask, buf: struct statx*
};

constexpr bool is_file_kind(IoKind k) noexcept { return k >= IoKind::pread; }

// How a wait uses its fd, which decides what the poller keeps between waits. Ordered:
// the uses from raw on leave the fd transient (io_wait.cpp tests `< raw`).
enum class FdUse : std::uint8_t {
    socket,   // a gev socket or pipe: this hub holds the fd until it is forgotten
              // (poller_fds.hpp) and keeps it registered
    shared,   // a monkey-patched fd: kept registered here, but held by no hub, since
              // several hubs may wait on it; `tag` names the file the caller knows
    raw,      // a pidfd, monkey's poll on an unmanaged fd: nothing is kept once the wait ends
    watch,    // select, poll, wait_read on any fd: kept registered between waits like a
              // shared one, but with nothing to tell of a close, the backend checks the
              // registration (epoll: a MOD) before a wait relies on it, unless a socket
              // operation of this hub holds the fd
};

struct IoOp {
    // Ordered small fields first (112 bytes, no holes): every operation zeroes one.
    IoKind kind = IoKind::poll;
    FdUse use = FdUse::socket;
    bool connect_started = false;   // connect: the first connect() call has been made
    bool multishot = false;         // accept: the caller takes connections a multishot
                                    // accept queued while it did not wait (StreamServer)
    int fd = -1;
    int flags = 0;                  // MSG_* for recv/send, SOCK_* for accept4, POLLIN/POLLOUT for poll
    unsigned mode = 0;              // openat
    socklen_t addr_in_len = 0;      // connect
    void* buf = nullptr;
    std::size_t len = 0;
    union {
        msghdr* msg = nullptr;      // recvmsg/sendmsg
        IoOp* next_watch;           // a watch (poll): its link in FdState::watches
    };
    std::uint64_t offset = 0;       // pread/pwrite; kCurrentPosition: the file position
    const char* path = nullptr;     // openat/statx
    sockaddr* addr = nullptr;       // accept: out; connect: in
    socklen_t* addrlen = nullptr;   // accept: in/out
    std::uint64_t tag = 0;          // shared: changes whenever the number names another file
    // The wait's state, kept by the poller's common layer (io_wait.cpp).
    int res = 0;                    // the kernel's result of a submitted op
    bool done = false;              // a submitted op has completed: the kernel holds nothing of it
    bool in_kernel = false;         // submitted: the kernel holds op until it completes
    bool closed = false;            // the fd was forgotten while op waited
    Fiber* fiber = nullptr;
    std::uint64_t epoch = 0;

    // A poll that is not a socket's own (select, wait_read, monkey's waits) only
    // watches: it takes nothing from the fd, so any number wait at once, beside the
    // socket's claimed sides. Inline: every wait asks.
    bool watches() const noexcept { return kind == IoKind::poll && use != FdUse::socket; }

    // 0: read side, 1: write side. Inline: every wait asks.
    int dir() const noexcept {
        switch (kind) {
            case IoKind::recv: case IoKind::recvmsg: case IoKind::accept: case IoKind::read: return 0;
            case IoKind::send: case IoKind::sendmsg: case IoKind::connect: case IoKind::write: return 1;
            case IoKind::poll: return (flags & POLLOUT) && !(flags & POLLIN) ? 1 : 0;
            case IoKind::pread: case IoKind::openat: case IoKind::statx: return 0;
            case IoKind::pwrite: case IoKind::fsync: return 1;
        }
        return 0;
    }
};

// pread/pwrite's offset that reads or writes at the file position and advances it.
constexpr std::uint64_t kCurrentPosition = ~std::uint64_t{0};

// One non-blocking attempt; returns the result or -errno (-EAGAIN: would block).
int io_try(IoOp& op) noexcept;
// The readiness an op waits for, as POLLIN/POLLOUT.
short io_events(const IoOp& op) noexcept;

struct FdState {
    IoOp* waiter[2] = {nullptr, nullptr};  // the op parked on each side
    IoOp* watches = nullptr;               // the watching polls parked here (IoOp::watches), linked
    std::uint32_t gen = 0;                 // the number's generation when last looked at (poller_fds.hpp)
    bool owned = false;                    // this hub holds the fd (a socket op waited on it)
    bool registered = false;               // epoll: in the interest list
    bool transient = true;                 // only raw and watch waits so far
    bool kept = false;                     // epoll: left in the interest list by a watch, unchecked
    std::uint64_t tag = 0;                 // the tag of the shared waits' file (IoOp::tag)
};

// fd -> FdState, created on first use, erased by forget().
class FdTable {
public:
    FdState& at(int fd) {
        if (FdState* s = find(fd)) [[likely]] return *s;
        return make(fd);
    }
    FdState* find(int fd) noexcept {
        return fd >= 0 && static_cast<std::size_t>(fd) < v_.size() ? v_[fd].get() : nullptr;
    }
    void erase(int fd) noexcept {
        if (find(fd) != nullptr) v_[fd].reset();
    }
    template <class F>
    void for_each(F&& f) {
        for (std::size_t fd = 0; fd < v_.size(); ++fd)
            if (v_[fd]) f(static_cast<int>(fd), *v_[fd]);
    }

private:
    FdState& make(int fd);

    std::vector<std::unique_ptr<FdState>> v_;
};

// Throws ConcurrentObjectUseError: another fiber waits on op's side `d`.
[[noreturn, gnu::cold]] void side_taken(const IoOp& op, int d);
// Claims fd's side `d` (op.dir()) for op; throws if another fiber has it.
inline void claim_side(FdState& s, IoOp& op, int d) {
    if (s.waiter[d] != nullptr && s.waiter[d] != &op) [[unlikely]] side_taken(op, d);
    s.waiter[d] = &op;
}
// Claims op's side `d`, or for a watch joins the fd's watches.
inline void claim_wait(FdState& s, IoOp& op, int d) {
    if (op.watches()) [[unlikely]] {
        // A watch knows nothing of the fd's file: a registration no socket of this hub
        // holds, and no other wait relies on now, may be an older file's, so the arm
        // checks it (poller_epoll.cpp) before it is relied on.
        bool idle = s.waiter[0] == nullptr && s.waiter[1] == nullptr && s.watches == nullptr;
        if (op.use == FdUse::watch && s.registered && !s.owned && idle) {
            s.registered = false;
            s.kept = true;
        }
        op.next_watch = s.watches;
        s.watches = &op;
        return;
    }
    claim_side(s, op, d);
}
// Ends op's claim or watch (one the fd's forget let go of is no longer listed).
inline void release_wait(FdState& s, IoOp& op, int d) noexcept {
    if (!op.watches()) [[likely]] {
        if (s.waiter[d] == &op) s.waiter[d] = nullptr;
        return;
    }
    for (IoOp** p = &s.watches; *p != nullptr; p = &(*p)->next_watch)
        if (*p == &op) {
            *p = op.next_watch;
            break;
        }
    op.next_watch = nullptr;
}
// Whether another op than `op` waits on op's side `d`.
inline bool side_busy(const FdState& s, const IoOp& op, int d) noexcept {
    return s.waiter[d] != nullptr && s.waiter[d] != &op;
}

}  // namespace gev::detail
