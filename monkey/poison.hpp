// monkey/poison.hpp — what happens to a connection when a kill or gev::Timeout (any
// exception) unwinds out of a hooked call that waits on it: the C library above was
// mid-request, and its next call would read the abandoned request's reply. So the
// connection is poisoned: the library then sees a dead connection and reports an
// error or reconnects. On by default; GEV_MONKEY_POISON=0 or set_poison_on_interrupt.
// Called on the unwinding fiber's thread; the switch is process-wide.
#pragma once

#include <atomic>

namespace gev::monkey::detail {

extern constinit std::atomic<bool> g_poison;

// If poisoning is on and fd is a connection (a stream or seqpacket socket that is not
// listening): a TCP connection is aborted (connect(AF_UNSPEC): a reset to the peer,
// whatever it sent is dropped, later reads fail with ENOTCONN and writes with EPIPE);
// any other is shut down both ways and what it already received is dropped. Pipes,
// datagram sockets and listeners are left alone. Keeps errno; never throws.
void poison_interrupted(int fd) noexcept;

}  // namespace gev::monkey::detail
