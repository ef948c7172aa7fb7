// runtime/fork.hpp — gevent.fork: fork the process from a fiber and give the child a
// fresh hub (poller, timers, thread pool, signal pipes) in which only the calling
// fiber lives on. The rules (what survives, what is abandoned, when fork is refused)
// are in README "Fork"; runtime/fork.cpp implements them.
#pragma once

#include <sys/types.h>

namespace gev {

// Forks the process. Returns the child's pid in the parent and 0 in the child, like
// fork(2). Inside gev::run, call it from a fiber: in the child that fiber goes on, on a
// hub rebuilt for the child (it takes main's place: gev::run there returns when it
// ends); every other fiber of the hub is abandoned: it never runs again and no
// destructor on its stack runs (handles see it ended by GreenletExit). The child starts
// with no signal_handler (the parent's are functions of abandoned fibers). The parent's
// hub goes on untouched. Outside gev::run it is plain fork(2). Inside namespace gev,
// spell the C library's call ::fork().
// Throws std::system_error: EPERM when several hubs run in this process (gev::run's
// threads, or a gev::run on another thread: the child would lack their threads), when
// called outside a fiber of the hub (a callback) or from a RawGreenlet; EBUSY while a
// KeepAlive or a run_in_thread job holds the hub (the thread that would end its wait
// does not exist in the child); fork(2)'s errno (EAGAIN, ENOMEM) when it fails.
pid_t fork();

}  // namespace gev
