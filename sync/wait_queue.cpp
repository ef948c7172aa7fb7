// sync/wait_queue.cpp — await_grant: park, look under the lock, re-arm or leave.
#include "sync/wait_queue.hpp"

#include "runtime/errors.hpp"

#include <exception>
#include <mutex>

namespace gev::detail {
namespace {

bool holds_loop_exit(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const LoopExit&) {
        return true;
    } catch (...) {
        return false;
    }
}

// Leaves without the grant, or with it when a waker got there first; true if granted.
bool leave(SpinLock& mu, WaitList& list, Waiter& w, const WaitSpec& spec) noexcept {
    std::lock_guard lock(mu);
    if (w.woken) return true;
    list.remove(&w);
    if (spec.undo != nullptr) spec.undo(spec.object);
    return false;
}

}  // namespace

bool grant_batch(WaitList& list, Wakeup& wk, int& left, std::uintptr_t before) noexcept {
    while (left != 0 && !wk.pending()) {
        Waiter* w = list.front();
        if (w == nullptr || w->data >= before) return false;
        grant_front(list, wk);
        if (left > 0) --left;
    }
    return left != 0 && !list.empty() && list.front()->data < before;
}

void grant_many(SpinLock& mu, WaitList& list, int n, std::uintptr_t before) noexcept {
    for (bool more = true; more;) {
        Wakeup wk;   // declared first: delivers after the lock below is released
        std::lock_guard lock(mu);
        more = grant_batch(list, wk, n, before);
    }
}

bool await_grant(Hub& hub, SpinLock& mu, WaitList& list, Waiter& w, const WaitSpec& spec) {
    Fiber* self = w.fiber;
    for (;;) {
        Wake r;
        try {
            r = hub.park(spec.why, spec.deadline, spec.interruptible);
        } catch (...) {
            if (leave(mu, list, w, spec) && spec.pass_on != nullptr) spec.pass_on(spec.object);
            throw;
        }
        {
            std::lock_guard lock(mu);
            if (w.woken) return true;
            if (r == Wake::timed_out) {
                list.remove(&w);
                if (spec.undo != nullptr) spec.undo(spec.object);
                return false;
            }
            // Woken by something else (a kill held back by an uninterruptible wait, a
            // stale timer): re-arm before anyone can look at the list again.
            w.epoch = self->epoch;
        }
        // An uninterruptible wait still ends when the hub proves nothing can grant it.
        if (!spec.interruptible && self->pending && std::uncaught_exceptions() == 0 &&
            holds_loop_exit(self->pending)) {
            if (leave(mu, list, w, spec)) return true;
            Hub::raise_pending(self);   // throws: pending is set and nothing is unwinding
        }
    }
}

}  // namespace gev::detail
