// proc/spawn.hpp — internal: starting a child with posix_spawn and opening its pidfd.
// Popen's constructor is the only caller.
#pragma once

#include "proc/popen.hpp"

namespace gev::subprocess::proc_detail {

struct Child {
    int pid = -1;
    int pidfd = -1;                 // close-on-exec
    int parent[3] = {-1, -1, -1};   // our ends of the PIPEs (non-blocking, close-on-exec)
};

// Starts args with the redirections, cwd and env of `o`; returns once the child has
// exec'd. Throws std::system_error naming the program; then nothing is left open and
// no child is left behind.
Child spawn_child(const std::vector<std::string>& args, const PopenOptions& o);

}  // namespace gev::subprocess::proc_detail
