// tests/proc/proc_support.hpp — what the subprocess tests look at from outside: this
// process's open fds, a child's state in /proc, and whether any child is unreaped.
#pragma once

#include "support.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace proc_test {

namespace sp = gev::subprocess;
using namespace std::chrono_literals;

inline char state_of(int pid);

// Entries in /proc/self/fd (the directory's own fd included, the same each time). The
// first call abandons one child, so that the reaper thread's own eventfd, opened once
// per process, is already counted.
inline int open_fds() {
    static const bool warm = [] {
        int pid;
        {
            sp::Popen p({"sleep", "10"});
            pid = p.pid();
        }
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 600 && state_of(pid) != 0; ++i) std::this_thread::sleep_for(5ms);
        return true;
    }();
    (void)warm;
    int n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n;
}

// A process's state letter from /proc/PID/stat ('S', 'R', 'Z', ...), 0 when it is gone.
inline char state_of(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line)) return 0;
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() ? 0 : line[close + 2];
}

// Whether some child of this process has exited and nobody reaped it.
inline bool zombie_child() {
    siginfo_t si{};
    return ::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

// Whether this process has no children at all, running or not.
inline bool no_children() {
    siginfo_t si{};
    return ::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
}

// Waits (bounded: about 3 s) until cond holds: gev::sleep inside a hub, else the thread sleeps.
template <class F>
bool eventually(F cond) {
    for (int i = 0; i < 600; ++i) {
        if (cond()) return true;
        if (gev::hub_count() > 0) gev::sleep(5ms);
        else std::this_thread::sleep_for(5ms);
    }
    return cond();
}

}  // namespace proc_test
