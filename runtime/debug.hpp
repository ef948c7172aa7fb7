// runtime/debug.hpp — seeing every fiber: gevent's format_run_info, and Go's SIGQUIT
// goroutine dump without the exit. Each hub describes its own fibers on its own
// thread (a request posted to its inbox), so a dump never reads another thread's data.
#pragma once

#include "runtime/signal.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace gev {

// Every live fiber of every hub of this gev::run, one line each:
//   <name id=N> hub H, STATE[: WAIT], up T s, spawned at WHERE
// under one header line per hub. "up" is the time since it was spawned (the hub's
// clock at its turn); WHERE is the spawn call as `file.cpp:42 (function)` when the
// program has debug information and gev was built with libdw, else `symbol+0x2a
// (module+0x4a1f2)` (see runtime/symbolize.hpp).
// From a fiber it parks while the other hubs answer (not interruptible); from a hub's
// own loop it blocks. A hub that does not answer within `patience` (a fiber keeps it
// busy) is reported as such. Throws std::system_error (EPERM) outside gev::run.
std::string format_run_info(std::chrono::milliseconds patience = std::chrono::seconds(1));
// format_run_info() written to a file descriptor (stderr by default) or a FILE*.
void dump_fibers(int fd = 2);
void dump_fibers(std::FILE* out);

// From now on each SIGQUIT writes format_run_info() to stderr, from a new fiber on the
// calling hub, and the program goes on (SIGQUIT's default is to dump core and end).
// Off until called; cancel() or destroying the handle restores the previous action.
// Throws std::system_error outside gev::run.
[[nodiscard]] SignalHandler enable_sigquit_dump();

}  // namespace gev
