// runtime/hub.hpp — the scheduler: one hub per OS thread that runs gev::run.
// It owns the FIFO ready queue, the timers, the poller and the inbox through which
// other threads make its fibers ready. A fiber that parks switches straight to the
// next ready fiber; the hub's own loop (on the thread's native stack) runs only when
// nothing is ready, and then blocks in the poller until the next deadline.
// Every member is touched by the owning thread only, except post(), wake(), claim()/
// deliver(), hold()/release() and let_go(); the inbox is a lock-free MPSC queue
// (runtime/hub_inbox.hpp). Callbacks the hub runs on a borrowed stack (inbox posts, IO
// completions, timers, the error handler) must not park: park() aborts naming them.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/errors.hpp"
#include "runtime/fiber.hpp"
#include "runtime/hub_api.hpp"
#include "runtime/hub_inbox.hpp"
#include "runtime/poller.hpp"
#include "runtime/timer.hpp"

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gev::detail {

class Hub;
class ThreadPool;
struct Runtime;
[[gnu::tls_model("initial-exec")]] extern constinit thread_local Hub* t_hub;

class Hub {
public:
    Hub(const std::string& poller, ErrorHandler on_error);
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;
    ~Hub();

    // The hub running on this thread, or nullptr outside gev::run.
    static Hub* current() noexcept { return t_hub; }
    // The current hub; throws std::system_error (EPERM) naming `op` when there is none.
    static Hub& require(const char* op) {
        if (t_hub == nullptr) [[unlikely]] no_hub(op);
        return *t_hub;
    }

    // --- scheduling (owning thread) ---
    // Appends a fiber that is created, parked or suspended to the ready queue
    // (a created fiber keeps that state until it first runs).
    void make_ready(Fiber* f) noexcept;
    // Makes f ready if it is still parked in the wait `epoch` names; true if it did.
    // From another thread it claims the park (f's wake token) and pushes f's own node
    // to its hub's inbox, waking that hub's poller only when the hub sleeps; true if
    // the claim was won (the owner makes f ready when it pops it). The caller keeps f
    // alive for the call (a lock its waiter list needs, or a reference).
    static bool wake(Fiber* f, std::uint64_t epoch) noexcept;
    // wake() in two halves, for a waker that holds the lock its waiter list needs:
    // claim under the lock (a compare-and-swap; a fiber of this hub is made ready at
    // once), then, after unlocking, deliver what claim() returned (the push, and the
    // poller's system call when that hub sleeps). claim() returns what wake() would;
    // a delivery it owes goes into `owed` (through f's inbox node, the claimer's until
    // it is pushed); deliver() pushes them in claim order.
    static bool claim(Fiber* f, std::uint64_t epoch, OwedWakes& owed) noexcept;
    static void deliver(OwedWakes& owed) noexcept;
    // Owning thread, as f ends: no wake-up can claim it any more, and one claimed
    // before has left the inbox; afterwards the control block may be freed.
    void settle_wakeups(Fiber* f) noexcept;
    // Parks the current fiber until wake() or the deadline (ns, <0: none).
    // Interruptible parks throw the fiber's pending exception (kill, Timeout);
    // uninterruptible ones leave it pending for the caller. Never throws while the
    // fiber is unwinding (the exception stays pending).
    Wake park(const WaitReason& why, std::int64_t deadline_ns = -1, bool interruptible = true);
    // sleep(0): every other ready fiber runs once before this one resumes.
    void yield();
    // Waits until the hub has nothing else to run (gevent.idle).
    void idle();
    // Raises the current fiber's pending exception, if any and if it may be raised now:
    // not while it unwinds, and under a gev::Shield only a LoopExit. Then the next
    // queued kill, if any, becomes pending. Inline: nothing pending is the common case.
    static void raise_pending(Fiber* self) {
        if (self->pending) [[unlikely]] raise_pending_slow(self);
    }
    // Whether raise_pending(self) would throw now.
    static bool can_raise(const Fiber* self) noexcept { return self->pending && can_raise_slow(self); }
    // Switches away from the current fiber, whose state the caller has set.
    void reschedule(Fiber* self) noexcept;
    // Ends the dead main fiber by returning to the hub's loop, so fibers that are still
    // ready get GreenletExit at exit instead of running on after main.
    [[noreturn]] void leave_main(Fiber* self) noexcept;

    // --- timers (owning thread) ---
    std::int64_t now() const noexcept { return now_; }
    void arm(TimerNode* t, std::int64_t deadline_ns);
    void cancel(TimerNode* t) noexcept { timers_.cancel(t); }
    // now() + d, saturating; d < 0 counts as 0.
    std::int64_t deadline_after(Duration d) noexcept;

    // --- the live fibers of this hub ---
    void attach(Fiber* f) noexcept;
    void detach(Fiber* f) noexcept;
    std::size_t live() const noexcept { return live_; }
    // One line per live fiber but the current one: name, state and wait reason.
    std::string describe_fibers(const Fiber* skip = nullptr) const;
    // The live fibers, newest first, linked by all_next (owning thread; for dumps).
    const Fiber* fibers() const noexcept { return all_; }
    // For the watchdog (monitor.cpp), readable from any thread: bumped by 2 at every
    // dispatch of a fiber; bit 0 is set while a fiber (not the hub's own loop) runs.
    std::uint64_t watch_word() const noexcept { return switches_.load(std::memory_order_relaxed); }

    // --- cross-thread (any thread) ---
    // Runs fn(arg, n) on this hub's thread at its next turn.
    void post(void (*fn)(void*, std::uint64_t), void* arg, std::uint64_t n);
    // While held, the hub never reports LoopExit: a wake-up may come from another thread.
    // hold() on the owning thread; release() there too (the loop looks again itself).
    void hold() noexcept { keepalive_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept { keepalive_.fetch_sub(1, std::memory_order_release); }
    // release() from any thread (gev::KeepAlive): the last one wakes the hub, so a hub
    // that slept only because it was held can look for LoopExit again.
    void let_go() noexcept;

    Poller& poller() noexcept { return *poller_; }

    // --- for gev::stats (owning thread; runtime/stats.cpp) ---
    std::size_t ready_count() const noexcept { return ready_count_; }
    std::size_t timers_armed() const noexcept { return timers_.size(); }
    std::uint64_t polls() const noexcept { return polls_; }
    std::uint64_t poll_ns() const noexcept { return poll_ns_; }
    std::uint64_t sleeps() const noexcept { return sleeps_; }
    std::uint64_t wakeups() const noexcept { return wakeups_.load(std::memory_order_relaxed); }
    std::size_t inbox_depth() const noexcept { return inbox_.depth(); }
    const ThreadPool* started_threadpool() const noexcept { return pool_.get(); }
    // The hub's worker threads, started on first use.
    ThreadPool& threadpool();
    void report_failure(Fiber* f);
    // Hands a report to the error handler (stderr when none is set, or when it throws).
    void report(const FailureReport& r);
    ErrorHandler set_error_handler(ErrorHandler h);

    // Runs the scheduler until `main` has ended, then kills what is left.
    void run(Fiber* main);
    // A hub without main (one of gev::run's extra threads): serves fibers spawned onto
    // it until shutdown() arrives, then kills what is left (bounded by the grace period).
    void serve();
    // Any thread: asks a serving hub to kill its fibers and stop.
    void shutdown();
    // Runs the loop until `done()` holds; used by gev::run to wait for the other hubs.
    void run_until(bool (*done)(void*), void* arg);
    // gev::fork (fork.cpp), on the forking fiber: throws std::system_error when this
    // hub cannot fork now, and hands queued submissions to the kernel.
    void prepare_fork(Fiber* self);
    // gev::fork's child (fork.cpp): `self` is the one fiber left and takes main's
    // place; the other fibers are abandoned and the poller, timers, inbox and thread
    // pool start afresh. Never throws (dies when the child cannot go on).
    void reinit_after_fork(Fiber* self) noexcept;

    // Names the callback running on a borrowed stack ("the error handler") for the
    // scope; park() and yield() abort while one is set.
    struct NoPark {
        Hub& hub;
        const char* saved;
        NoPark(Hub& h, const char* what) noexcept : hub(h), saved(h.no_park_) { h.no_park_ = what; }
        ~NoPark() { hub.no_park_ = saved; }
        NoPark(const NoPark&) = delete;
        NoPark& operator=(const NoPark&) = delete;
    };

    // How long (ns) the idle loop watches the inbox before it sleeps (RunOptions::spin).
    void set_spin(std::int64_t ns) noexcept { spin_ns_ = ns; }

    // Which of gev::run's hubs this is (0: main's).
    unsigned index() const noexcept { return index_; }
    void set_index(unsigned i) noexcept { index_ = i; }
    Runtime* runtime = nullptr;   // gev::run's hubs, when it runs more than one

private:
    struct Post : InboxNode {
        void (*fn)(void*, std::uint64_t);
        void* arg;
        std::uint64_t n;
    };
    bool wake_remote(Fiber* f, std::uint64_t epoch) noexcept;
    void pushed() noexcept;                 // after a push: rouse the hub if it sleeps
    void take_wake(Fiber* f) noexcept;      // a fiber's node popped from the inbox
    static void next_epoch(Fiber* self) noexcept;
    static void raise_pending_slow(Fiber* self);
    static bool can_raise_slow(const Fiber* self) noexcept;
    Fiber* pop_ready() noexcept;
    void turn(std::int64_t timeout_ns) noexcept;
    // The turn between two passes over the ready queue. Inline, for the common case with
    // nothing to look at (no post, no timer, the poller at rest): then it is no turn.
    void between_passes() noexcept {
        if (inbox_.nonempty() || !timers_.empty() || !poller_->at_rest()) [[unlikely]] {
            turn(0);
            return;
        }
        ++polls_;
        budget_ = ready_count_;
    }
    void fire_timers() noexcept;
    bool drain_inbox() noexcept;
    bool spin_for_work(std::int64_t limit_ns) noexcept;
    void poll(std::int64_t timeout_ns) noexcept;   // the poller, counted for gev::stats
    void loop_until_dead(Fiber* main, std::int64_t stop_at);
    static void shutdown_here(void* hub, std::uint64_t);
    bool loop_done(const Fiber* main) const noexcept;
    bool quiet() const noexcept;
    bool nothing_can_wake(Fiber* main);
    void report_loop_exit(Fiber* main);
    void kill_leftovers();
    // Several hubs: a quiet hub counts itself stuck; a post to it (from any thread)
    // un-counts it. All stuck at once is a deadlock of the whole runtime (multi.cpp).
    bool mark_stuck() noexcept;
    bool unstick() noexcept;   // true if it was counted
    [[noreturn]] void die_parked(const char* what) const noexcept;
    [[noreturn, gnu::cold]] static void no_hub(const char* op);

    Fiber* root_;
    Fiber* main_ = nullptr;               // run()'s; in a forked child, the forking fiber
    Fiber* ready_head_ = nullptr;
    Fiber* ready_tail_ = nullptr;
    std::size_t ready_count_ = 0;
    std::size_t budget_ = 0;              // dispatches left before the next turn
    TimerHeap timers_;
    std::int64_t now_ = 0;
    WaitList idlers_;
    Fiber* all_ = nullptr;
    std::size_t live_ = 0;
    std::unique_ptr<Poller> poller_;
    std::unique_ptr<ThreadPool> pool_;
    ErrorHandler on_error_;

    // What other threads write or read on every hand-off (the inbox, and the words
    // pushed() looks at) has a cache line of its own: the owner's hot fields (no_park_,
    // switches_, ...) beside them cost each hand-off another line transfer.
    alignas(64) Inbox inbox_;
    std::atomic<bool> sleeping_{false};
    // kFree, kCounted (in runtime->stuck, Hub::mark_stuck), kUncounting (a poster is
    // taking it off the count; until it is done the hub may not count itself again).
    enum : std::uint8_t { kFree, kCounted, kUncounting };
    std::atomic<std::uint8_t> stuck_{kFree};
    std::atomic<int> keepalive_{0};
    std::atomic<std::uint64_t> wakeups_{0};   // pushed()'s system calls, for gev::stats
    alignas(64) unsigned index_ = 0;
    std::int64_t spin_ns_ = 0;
    bool spun_ = false;                     // the idle loop spun before counting itself stuck
    bool serving_ = false;
    bool serve_mode_ = false;
    bool (*until_)(void*) = nullptr;
    void* until_arg_ = nullptr;
    const char* no_park_ = nullptr;         // see NoPark
    std::atomic<std::uint64_t> switches_{0};   // see watch_word(); stored by the owning thread only
    std::uint64_t polls_ = 0;                  // gev::stats reads these on the owning thread
    std::uint64_t poll_ns_ = 0;
    std::uint64_t sleeps_ = 0;
};

// The wording of describe_fibers, for fiber dumps (debug.cpp): "parked", "recv fd 7".
const char* describe_state(FiberState s) noexcept;
std::string describe_wait(const Fiber* f, std::int64_t now);

}  // namespace gev::detail
