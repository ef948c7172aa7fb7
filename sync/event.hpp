// sync/event.hpp — gevent.event.Event: a flag fibers wait for.
// set() wakes every waiter, in the order they began to wait; clear() only lowers the
// flag. Fibers of any hub may share an Event: the flag, a "fibers wait" bit and the
// lock of the waiter list share one atomic word (set, clear and a wait that finds the
// flag up are one atomic step each), and a wake-up for a fiber of another hub goes
// through that hub's inbox.
// Destroying an Event while fibers wait on it is a broken invariant and aborts.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/wait_list.hpp"
#include "sync/state_word.hpp"

#include <cstdint>

namespace gev {

namespace detail { class AsyncResultBase; }

class Event {
    static constexpr detail::StateWord::Bits kSet = 1 << detail::StateWord::kFreeShift;

public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event();

    // Raises the flag and wakes every waiter (FIFO). Any thread; never blocks.
    void set() noexcept {
        detail::StateWord::Bits w = word_.load(std::memory_order_relaxed);
        if (w == 0 && word_.compare_exchange_weak(w, kSet)) return;   // nobody waits
        set_slow();
    }
    // Lowers the flag; waiters already woken still return true.
    void clear() noexcept {
        detail::StateWord::Bits w = word_.load(std::memory_order_relaxed);
        if (w == kSet && word_.compare_exchange_weak(w, 0)) return;   // nobody waits
        if (w & kSet) clear_slow();
    }
    bool is_set() const noexcept { return (word_.load() & kSet) != 0; }
    bool ready() const noexcept { return is_set(); }   // gevent's alias

    // Parks until the flag is set or the timeout passes; returns true if it was set
    // (also when it was cleared again before this fiber ran), false on timeout.
    // A timeout <= 0 parks until the hub's next turn, so ready fibers run first. Throws what a park throws (kill, gev::Timeout,
    // LoopExit naming "Event"), and std::system_error outside gev::run.
    bool wait(MaybeDuration timeout = forever) { return wait_as(timeout, "Event"); }

private:
    friend class detail::AsyncResultBase;
    // `what` names the wait in LoopExit reports and fiber dumps.
    bool wait_as(MaybeDuration timeout, const char* what);
    void set_slow() noexcept;
    void clear_slow() noexcept;

    detail::StateWord word_;          // kSet, kWaiters (waiters_ is not empty), the lock
    std::uintptr_t generation_ = 0;   // set() count, under the lock; each waiter records the one it saw
    detail::WaitList waiters_;
};

}  // namespace gev
