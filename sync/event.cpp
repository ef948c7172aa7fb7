// sync/event.cpp — Event: set wakes all waiters under the lock, wait parks one.
#include "sync/event.hpp"

#include "runtime/errors.hpp"
#include "sync/wait_queue.hpp"

#include <cstdio>
#include <mutex>

namespace gev {

Event::~Event() {
    std::lock_guard lock(mu_);
    if (!waiters_.empty()) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "Event %p destroyed while fibers wait on it", static_cast<void*>(this));
        detail::die(buf);
    }
}

void Event::set() noexcept {
    detail::Wakeup wk;   // declared first: delivers after the lock is released
    std::uintptr_t generation;
    bool more;
    int all = -1;
    {
        std::lock_guard lock(mu_);
        flag_.store(true, std::memory_order_release);
        generation = ++generation_;
        more = detail::grant_batch(waiters_, wk, all, generation);
    }
    wk.deliver();
    // Only while waiters are still linked may we touch the Event again. Waiters that
    // link after a clear() that raced in are of a newer generation: not ours to wake.
    if (more) detail::grant_many(mu_, waiters_, -1, generation);
}

void Event::clear() noexcept {
    // No lock: waiters decide under the lock from the flag alone, and a set() racing
    // with this clear() may win or lose, as it would under the lock.
    flag_.store(false, std::memory_order_release);
}

bool Event::wait_as(MaybeDuration timeout, const char* what) {
    if (is_set()) return true;
    if (detail::only_looks(timeout)) return false;   // else a zero timeout parks for one turn
    detail::Hub& hub = detail::Hub::require("Event::wait");
    detail::Waiter w;
    {
        std::lock_guard lock(mu_);
        if (flag_.load(std::memory_order_relaxed)) return true;
        detail::enqueue(waiters_, w, detail::current_fiber());
        w.data = generation_;
    }
    detail::WaitSpec spec;
    spec.why = detail::WaitReason{detail::WaitKind::object, what, this};
    spec.deadline = timeout ? hub.deadline_after(*timeout) : -1;
    return detail::await_grant(hub, mu_, waiters_, w, spec);
}

}  // namespace gev
