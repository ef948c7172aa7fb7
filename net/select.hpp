// net/select.hpp — gevent.select.select and a poll() equivalent for porting
// select()-based code: they park only the calling fiber.
#pragma once

#include "runtime/clock.hpp"

#include <poll.h>

#include <vector>

namespace gev::net {

struct SelectResult {
    std::vector<int> readable, writable, exceptional;
};

// Waits until one of the fds is ready (or the timeout; 0 polls). Returns the ready
// ones, each list in the order given. Throws SocketError (EBADF) for a bad fd.
SelectResult select(const std::vector<int>& rlist, const std::vector<int>& wlist, const std::vector<int>& xlist,
                    MaybeDuration timeout = forever);

// poll(2) with the same contract as select: fills each revents; returns how many are ready.
int poll(std::vector<pollfd>& fds, MaybeDuration timeout = forever);

}  // namespace gev::net
