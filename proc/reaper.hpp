// proc/reaper.hpp — internal: collecting the exit of a child nobody waits for any more
// (its Popen was dropped, or its fiber killed, while it ran). Popen's destructor is the
// only caller.
#pragma once

#include <mutex>

namespace gev::subprocess::proc_detail {

// Takes ownership of pidfd (a child of ours not yet reaped). Reaps now if the child has
// ended; else hands it to the process's reaper thread, which reaps it when it exits and
// then closes the pidfd. Any thread, hub or not. Never throws.
void reap_later(int pidfd) noexcept;

// waitid(P_PIDFD, pidfd, WEXITED | flags). Returns 1 with `status` set to Python's
// returncode when reaped, 0 when WNOHANG found it running, -errno on failure.
int reap(int pidfd, int flags, int& status) noexcept;

// Held while a thread starts the process's reaper; a fork waits for it (pthread_atfork).
// For tests, which hold it across a fork.
std::mutex& reaper_start_mutex() noexcept;

}  // namespace gev::subprocess::proc_detail
