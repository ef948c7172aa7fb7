// monkey/wait.hpp — the waits behind the hooks. With a hub they park only the calling
// fiber (in the hub's poller, or on a private epoll set for several fds); without one
// (a managed fd used off the hub) they block the thread in the real poll(2), which is
// what the blocking call would have done. Deadlines are absolute CLOCK_MONOTONIC ns,
// < 0 for none. A kill or gev::Timeout aimed at the fiber is thrown out of the wait,
// after the connections waited on are poisoned (poison.hpp).
#pragma once

#include "monkey/context.hpp"
#include "monkey/fd_table.hpp"

#include <poll.h>

#include <cstdint>

namespace gev::monkey::detail {

// now + ns on the hub's clock (the thread's monotonic clock without a hub); ns < 0: -1.
std::int64_t deadline_in(Hub* hub, std::int64_t ns) noexcept;

// What a blocking call keeps across its waits on one managed fd, from its first wait
// on: the deadline (the fd's SO_RCVTIMEO/SO_SNDTIMEO) and the number's file tag
// (FdEntry::files), which every later wait compares. Without wait_begin (an fd gev does
// not manage): no deadline, no tag.
struct FdWait {
    std::int64_t deadline = -1;
    std::uint32_t files = 0;
    bool begun = false;
};

// Begins a call's waits on a managed fd (v.emulate), before its first wait: false when
// the number already names another file than v's (fd_stale: closed and reused behind
// the hooks' back before the call waited, so the call's last try used the new file);
// else fills w, with the deadline for direction `send`. Keeps errno.
bool wait_begin(Hub* hub, int fd, const FdView& v, bool send, FdWait& w) noexcept;

// Whether fd's number names another file than when the call first waited.
inline bool wait_moved(const FdView& v, const FdWait& w) noexcept {
    return v.entry->files.load(std::memory_order_acquire) != w.files;
}

// Waits until fd is ready for `events` (POLLIN or POLLOUT); on a managed fd, begins w
// first (wait_begin, sending if POLLOUT). Returns 0 (ready: try again), ETIMEDOUT,
// ESTALE when wait_begin said false (nothing waited, errno kept), or EBADF when the fd
// was closed meanwhile (v.gen changed) or its number came to name another file since
// the first wait (closed and reused behind the hooks' back: the next try would use it).
int wait_fd(Hub* hub, int fd, short events, const FdView& v, FdWait& w);

// A poll's wait on one fd (poll, select, epoll_wait): 0 (may be ready: ask again) or
// ETIMEDOUT. `keep`: the fd stays registered for the next wait, which checks it first;
// otherwise nothing stays once the wait ends.
int wait_poll(Hub& hub, int fd, short events, std::int64_t deadline, bool keep);

// Parks until one of fds may be ready or the deadline: 0 or ETIMEDOUT; ENOMEM or
// EMFILE when no private epoll set could be made (the caller then blocks for real).
int wait_many(Hub& hub, const pollfd* fds, nfds_t n, std::int64_t deadline);

// Parks until the deadline (< 0: until killed).
void park_until(Hub& hub, std::int64_t deadline);

}  // namespace gev::monkey::detail
