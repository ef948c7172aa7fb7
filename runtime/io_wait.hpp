// runtime/io_wait.hpp — how a wait on the poller seam ends (Poller::io): a typed
// outcome, so that a deadline or a close is never mistaken for an error the kernel
// returned. The common layer that produces it (claiming the side, parking with the
// deadline, kill/Timeout, settling) is io_wait.cpp; the backends only report readiness
// and completions. Included by every caller of Poller::io.
#pragma once

#include <cstdint>

namespace gev::detail {

enum class WaitOutcome : std::uint8_t {
    ready,       // the operation ran: IoResult::res is its result or -errno (the kernel's
                 // or the system call's, e.g. -ECONNRESET; -EOPNOTSUPP for a file kind
                 // this backend cannot hand to the kernel)
    timed_out,   // the deadline passed first; nothing of the operation ran
    closed,      // another fiber forgot (closed) the fd while this one waited
    cancelled,   // io_uring: a kill or Timeout ended the wait while the fiber was
                 // unwinding (so it could not be raised); nothing of the operation ran
};

struct IoResult {
    WaitOutcome outcome = WaitOutcome::ready;
    int res = 0;   // meaningful only when outcome is ready

    bool ready() const noexcept { return outcome == WaitOutcome::ready; }
    // Ended without the operation running, for a reason other than the deadline.
    bool gone() const noexcept { return outcome == WaitOutcome::closed || outcome == WaitOutcome::cancelled; }
};

}  // namespace gev::detail
