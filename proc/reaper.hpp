// proc/reaper.hpp — internal: collecting the exit of a child nobody waits for any more
// (its Popen was dropped, or its fiber killed, while it ran). Popen's destructor is the
// only caller.
#pragma once

namespace gev::subprocess::proc_detail {

// Takes ownership of pidfd (a child of ours not yet reaped). Reaps now if the child has
// ended; else a fiber on the current hub parks on the pidfd and reaps it when it exits.
// If that hub ends first (or there is none), a detached thread blocks in waitid for it.
// Either way the pidfd is closed once the child is reaped. Never throws.
void reap_later(int pidfd) noexcept;

// waitid(P_PIDFD, pidfd, WEXITED | flags). Returns 1 with `status` set to Python's
// returncode when reaped, 0 when WNOHANG found it running, -errno on failure.
int reap(int pidfd, int flags, int& status) noexcept;

}  // namespace gev::subprocess::proc_detail
