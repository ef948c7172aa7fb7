// monkey/hooks_child.cpp — waiting for child processes: wait, waitpid, wait3, wait4,
// waitid. On a hub's fiber a call that would block (no WNOHANG) parks only that fiber
// (child_wait.hpp: a pidfd for one child's exit, else short growing pauses); WNOHANG
// calls, and every call off a fiber or unpatched, are the C library's own. A parked
// wait is never cut short by a signal (no EINTR), as with the hooked sleeps.
#include "monkey/child_wait.hpp"
#include "monkey/original.hpp"

#include <sys/wait.h>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

md::Hub* blocking_wait(int options) noexcept {
    return (options & WNOHANG) ? nullptr : md::cooperative(Patch::subprocess);
}

}  // namespace

extern "C" {

pid_t waitpid(pid_t pid, int* status, int options) {
    md::Hub* hub = blocking_wait(options);
    if (hub == nullptr) return orig::waitpid(pid, status, options);
    return md::wait4_parked(*hub, pid, status, options, nullptr);
}

pid_t wait(int* status) {
    md::Hub* hub = blocking_wait(0);
    if (hub == nullptr) return orig::waitpid(-1, status, 0);
    return md::wait4_parked(*hub, -1, status, 0, nullptr);
}

pid_t wait4(pid_t pid, int* status, int options, rusage* usage) __THROW {
    md::Hub* hub = blocking_wait(options);
    if (hub == nullptr) return orig::wait4(pid, status, options, usage);
    return md::wait4_parked(*hub, pid, status, options, usage);
}

pid_t wait3(int* status, int options, rusage* usage) __THROW {
    md::Hub* hub = blocking_wait(options);
    if (hub == nullptr) return orig::wait4(-1, status, options, usage);
    return md::wait4_parked(*hub, -1, status, options, usage);
}

int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
    md::Hub* hub = blocking_wait(options);
    if (hub == nullptr) return orig::waitid(type, id, info, options);
    return md::waitid_parked(*hub, type, id, info, options);
}

}  // extern "C"
