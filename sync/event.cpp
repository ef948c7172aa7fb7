// sync/event.cpp — Event: set wakes all waiters under the word's lock, wait parks one.
#include "sync/event.hpp"

#include "runtime/hub.hpp"
#include "sync/wait_queue.hpp"

namespace gev {

using detail::StateWord;

Event::~Event() {
    word_.lock();   // a set() of another hub still letting go of the word finishes first
    if (!waiters_.empty()) detail::die_with_waiters("Event", this);
}

void Event::set_slow() noexcept {
    // One step raises the flag and, when fibers wait, takes the lock to wake them.
    StateWord::Bits old = word_.update([](StateWord::Bits w) {
        return (w & StateWord::kWaiters) ? w | kSet | StateWord::kLocked : w | kSet;
    });
    if (!(old & StateWord::kWaiters)) return;
    std::uintptr_t generation = ++generation_;
    detail::Wakeup wk;   // declared first: delivers after the lock is released
    detail::Waiter* w = waiters_.front();
    for (; w != nullptr && !wk.pending(); w = waiters_.front()) {   // stops after one of another hub
        waiters_.pop_front();
        wk.grant(w);
    }
    bool more = w != nullptr && w->data < generation;
    word_.unlock(w != nullptr);
    if (!more) return;
    wk.deliver();
    // Only while waiters are still linked may we touch the Event again. Waiters that
    // link after a clear() that raced in are of a newer generation: not ours to wake.
    detail::grant_many(word_, waiters_, -1, generation);
}

void Event::clear_slow() noexcept {
    // Waiters decide under the lock from the flag alone, and a set() racing with this
    // clear() may win or lose, as it would under the lock.
    word_.update([](StateWord::Bits w) { return w & ~kSet; });
}

bool Event::wait_as(MaybeDuration timeout, const char* what) {
    if (is_set()) return true;
    if (timeout && detail::only_looks(timeout)) return false;   // else a zero timeout parks for one turn
    detail::Hub* current = detail::Hub::current();
    detail::Hub& hub = current != nullptr ? *current : detail::Hub::require("Event::wait");
    // One step finds the flag up, or takes the lock and says a fiber waits.
    StateWord::Bits old = word_.update([](StateWord::Bits w) {
        return (w & kSet) ? w : w | StateWord::kLocked | StateWord::kWaiters;
    });
    if (old & kSet) return true;
    detail::Waiter w;
    detail::enqueue(waiters_, w, detail::current_fiber());
    w.data = generation_;
    word_.unlock();
    detail::WaitSpec spec;
    spec.why = detail::WaitReason{detail::WaitKind::object, what, this};
    spec.deadline = timeout ? hub.deadline_after(*timeout) : -1;
    return detail::await_grant(hub, word_, waiters_, w, spec);
}

}  // namespace gev
