// monkey/monkey.hpp — gevent's monkey.patch_all() for C and C++ code that was written
// for blocking calls: link libgev_monkey (or LD_PRELOAD it) and its definitions of
// read, recv, connect, poll, sleep, getaddrinfo, ... take the place of the C library's.
// On a hub's fiber, once patched, a call that would block parks only that fiber; every
// other caller (another thread, no hub, not patched, an fd made non-blocking by its
// owner) gets exactly the C library's behaviour, errno included.
// The switches are process-wide and may be flipped from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace gev::monkey {

// What can be patched, as gevent's modules: socket IO (and pipes), the sleeps,
// poll/select, name resolution (run on the hub's thread pool), waiting for child
// processes (gevent's os/subprocess), and reads and writes of regular files.
enum class Patch : unsigned {
    socket = 1,        // socket, accept, connect, read/write, recv*/send*, readv/writev,
                       // preadv2/pwritev2, sendfile, splice, sendmmsg, recvmmsg
    time = 2,          // sleep, usleep, nanosleep, clock_nanosleep
    select = 4,        // poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2
    dns = 8,           // getaddrinfo, getnameinfo, gethostbyname, gethostbyname_r
    subprocess = 16,   // wait, waitpid, wait4, waitid, system, popen/pclose
    file = 32,         // read/write/pread/pwrite (and the vectored ones, preadv2/pwritev2
                       // too) on regular files
    all = 63,
};

// gevent's patch_all() and the selective patch_*(). Idempotent; never block.
void patch_all() noexcept;
void patch_socket() noexcept;
void patch_time() noexcept;
void patch_select() noexcept;
void patch_dns() noexcept;
void patch_subprocess() noexcept;
void patch_file() noexcept;
// Turns the hooks back into plain pass-through calls (fds already made non-blocking
// by gev keep looking blocking to their owners).
void unpatch_all() noexcept;

// Whether every part of `what` is patched (gevent's is_module_patched).
bool is_patched(Patch what = Patch::all) noexcept;
// The same by gevent's module names: "socket", "time", "select", "dns", "subprocess"
// (or "os"), "file"; false for others.
bool is_patched(std::string_view module) noexcept;

// Whether this process's calls really reach gev's definitions: false when the program
// was linked statically, links gev_monkey after libc, or a sanitizer swallows the call.
// Makes one harmless call through the normal symbol lookup.
bool hooks_active() noexcept;

// When a kill or gev::Timeout unwinds out of a hooked call that waits on a connection
// (read, recv, send, connect, poll, ... on a stream socket), the C library above it is
// left mid-request: its next call would get the abandoned request's reply. So gev
// poisons that connection (a TCP connection is reset, a Unix stream shut down, what it
// had received dropped): the library's next call on it fails, and it reports an error
// or reconnects. On by default; GEV_MONKEY_POISON=0 in the environment turns it off at
// load, and this switch at any time (process-wide).
void set_poison_on_interrupt(bool on) noexcept;
bool poison_on_interrupt() noexcept;

// GEV_DEBUG_BLOCKING: a watchdog thread reports, on stderr (or to `report`), each
// hub thread that stays inside one system call other than the hub's own idle wait for
// longer than `threshold` — a blocking call that bypassed the hooks (or went to the
// original on purpose). The report names the hooked function when the call came
// through gev::monkey::original or an unpatched hook, else the system call.
// GEV_DEBUG_BLOCKING=1 in the environment turns it on at load with 100 ms;
// GEV_DEBUG_BLOCKING_MS=N sets the threshold.
void debug_blocking(std::chrono::milliseconds threshold,
                    std::function<void(const std::string&)> report = {});
void stop_debug_blocking() noexcept;

}  // namespace gev::monkey
