// runtime/stats.hpp — gev::stats(): what each hub of this gev::run is doing, as
// numbers (Go's runtime metrics, gevent's hub introspection). Each hub fills in its
// own entry on its own thread (a request posted to its inbox, as format_run_info
// does), so the hot path keeps plain counters and takes no lock; a snapshot costs
// one post per hub and one walk of each hub's fiber list — fine once a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gev {

// One hub's numbers at the moment it answered. Counts of fibers are of the hub's
// live fibers (spawned, not yet ended), the asking fiber included.
struct HubStats {
    unsigned hub = 0;                      // index in gev::run (0: main's hub)
    std::string poller;                    // "epoll" or "io_uring"
    bool answered = false;                 // false: the hub did not answer in time (busy or stopped);
                                           // every other field is then zero
    // --- fibers ---
    std::uint64_t fibers = 0;              // alive: spawned and not yet ended
    std::uint64_t not_started = 0;         // spawned, never run yet (no stack)
    std::uint64_t ready = 0;               // in the ready queue, waiting for their turn
    std::uint64_t running = 0;             // 1 on the asking fiber's hub, else 0
    std::uint64_t suspended = 0;           // switched away from by a raw greenlet switch
    std::uint64_t parked = 0;              // waiting; the sum of the parked_* below
    std::uint64_t parked_io = 0;           // on an fd (recv, send, accept, connect, poll, ...)
    std::uint64_t parked_sleep = 0;        // in gev::sleep (a timer)
    std::uint64_t parked_sync = 0;         // on a primitive: Event, Queue, Lock, AsyncResult,
                                           // run_in_thread, ...
    std::uint64_t parked_join = 0;         // joining another fiber
    std::uint64_t parked_other = 0;        // gev::idle, or a wait that names no reason
    // --- the loop (totals since the hub started) ---
    std::uint64_t switches = 0;            // fibers dispatched from the ready queue
    std::uint64_t polls = 0;               // calls into the poller (blocking or not)
    std::uint64_t poll_ns = 0;             // time spent inside those calls: idle waiting
                                           // plus the poller's own system-call work
    std::uint64_t sleeps = 0;              // of those polls, the ones that blocked (the hub went
                                           // to sleep once its idle spin had run out)
    std::uint64_t wakeups = 0;             // system calls other threads made to wake it from
                                           // such a sleep (a hub that spins is woken without one)
    std::uint64_t inbox = 0;               // posts from other threads not yet run
    std::uint64_t timers = 0;              // timers armed (sleeps, timeouts, spawn_later)
    // --- fiber stacks (the hub thread's pool) ---
    std::uint64_t stacks_in_use = 0;       // stacks held by fibers that have started
    std::uint64_t stack_bytes_in_use = 0;  // their usable sizes, summed (virtual, not resident)
    std::uint64_t stacks_cached = 0;       // released stacks kept for reuse
    std::uint64_t stacks_cached_warm = 0;  // of those, the ones whose pages may be resident
    std::uint64_t stack_mapped_bytes = 0;  // address space mapped for stacks (guards included)
    std::uint64_t stack_released_bytes = 0;  // given back to the kernel so far (madvise)
    // --- the hub's thread pool (run_in_thread) ---
    std::uint64_t threadpool_queue = 0;    // jobs submitted, not yet taken by a worker
    std::uint64_t threadpool_threads = 0;  // workers started (0 until first use)
};

// A snapshot of every hub of this gev::run, by hub index. From a fiber it parks
// (not interruptible) while the other hubs answer; a hub that does not answer within
// `patience` gets an entry with answered == false. Throws std::system_error (EPERM)
// outside gev::run.
std::vector<HubStats> stats(std::chrono::milliseconds patience = std::chrono::seconds(1));

// The snapshot as JSON: {"hubs":[{"hub":0,"poller":"epoll","answered":true,...},...]},
// one object per hub with the fields named as in HubStats.
std::string stats_json(const std::vector<HubStats>& snapshot);

}  // namespace gev
