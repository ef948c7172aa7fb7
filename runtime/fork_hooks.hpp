// runtime/fork_hooks.hpp — what gev::fork (fork.cpp) asks of the modules that keep
// process-wide state behind a mutex or an fd shared with the parent. "before" runs in
// the parent just before fork(2) and takes the module's lock, so that no other thread
// holds it at the instant of the fork; "unlock" gives it back; "after_fork_child"
// replaces, in the child, what the child must not share with the parent. Internal.
#pragma once

#include <cstddef>

namespace gev::detail {

class Hub;

// The registry of live pollers (poller_fds.cpp): one per hub of the process.
void pollers_fork_lock() noexcept;
void pollers_fork_unlock() noexcept;   // parent and child alike
std::size_t live_pollers() noexcept;

// Signal handlers (signal.cpp). The child starts with none (the parent's are functions
// of abandoned fibers) and every self-pipe slot gets a fresh pipe under the same fd
// numbers (the old one is the parent's, whose reader would take the child's signals).
void signals_fork_lock() noexcept;
void signals_fork_unlock() noexcept;   // parent and child alike
void signals_after_fork_child() noexcept;   // after the unlock

// The watchdog (monitor.cpp): its thread does not exist in the child; a hub it watched
// is watched there by a new one.
void monitor_fork_lock() noexcept;
void monitor_fork_unlock() noexcept;   // the parent only: the child gets a new monitor
void monitor_after_fork_child(Hub* hub) noexcept;

}  // namespace gev::detail
