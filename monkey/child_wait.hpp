// monkey/child_wait.hpp — waiting for a child process on a hub's fiber without blocking
// the hub: the C library's call is made with WNOHANG, and between tries the fiber
// parks. A wait for one child's exit parks on a pidfd (readable once the child has
// ended); any other wait (any child, a process group, stops and continues, or no
// pidfd) retries with a growing pause, 1 ms doubling up to 16 ms, because no fd
// becomes readable for "some child changed state". Results and errno are the C
// library's; errno is untouched on success. A kill or gev::Timeout is thrown out.
#pragma once

#include "monkey/context.hpp"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

namespace gev::monkey::detail {

// wait4(pid, status, options, usage) for a fiber of `hub`; options has no WNOHANG.
pid_t wait4_parked(Hub& hub, pid_t pid, int* status, int options, rusage* usage);

// waitid(type, id, info, options) likewise (P_PIDFD waits on the caller's pidfd).
int waitid_parked(Hub& hub, idtype_t type, id_t id, siginfo_t* info, int options);

// The longest pause between two tries of a wait that has no pidfd.
inline constexpr std::int64_t kChildPollMaxNs = 16'000'000;

}  // namespace gev::monkey::detail
