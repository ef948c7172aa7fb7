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

// Waits until fd is ready for `events` (POLLIN or POLLOUT). Returns 0 (ready: try
// again), ETIMEDOUT, or EBADF when the fd was closed meanwhile (v.gen changed).
int wait_fd(Hub* hub, int fd, short events, std::int64_t deadline, const FdView& v);

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
