// sync/wait_queue.cpp — await_grant: park, read the grant, re-arm or leave; and the
// batch grants that wake many waiters without holding the lock across another hub's inbox.
#include "sync/wait_queue.hpp"

#include "runtime/errors.hpp"
#include "runtime/hub.hpp"

#include <cstdio>
#include <exception>

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

// Under the lock: unlinks a waiter that leaves without a grant, undoing its count.
void unlink(StateWord& word, WaitList& list, Waiter& w, const WaitSpec& spec) noexcept {
    list.remove(&w);
    if (spec.undo != nullptr) spec.undo(spec.object);
    word.unlock(!list.empty());
}

// Leaves without the grant, or with it when a waker got there first; true if granted.
bool leave(StateWord& word, WaitList& list, Waiter& w, const WaitSpec& spec) noexcept {
    word.lock();
    if (w.woken) {
        word.unlock();
        return true;
    }
    unlink(word, list, w, spec);
    return false;
}

}  // namespace

void die_with_waiters(const char* kind, const void* object) noexcept {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s %p destroyed while fibers wait on it", kind, object);
    die(buf);
}

bool grant_batch(WaitList& list, Wakeup& wk, int& left, std::uintptr_t before) noexcept {
    while (left != 0 && !wk.pending()) {
        Waiter* w = list.front();
        if (w == nullptr || w->data >= before) return false;
        grant_front(list, wk);
        if (left > 0) --left;
    }
    return left != 0 && !list.empty() && list.front()->data < before;
}

void grant_many(StateWord& word, WaitList& list, int n, std::uintptr_t before) noexcept {
    for (bool more = true; more;) {
        Wakeup wk;   // declared first: delivers after the lock below is released
        word.lock();
        more = grant_batch(list, wk, n, before);
        word.unlock(!list.empty());
    }
}

bool await_grant(Hub& hub, StateWord& word, WaitList& list, Waiter& w, const WaitSpec& spec) {
    Fiber* self = w.fiber;
    for (;;) {
        Wake r;
        try {
            r = hub.park(spec.why, spec.deadline, spec.interruptible);
        } catch (...) {
            if (leave(word, list, w, spec) && spec.pass_on != nullptr) spec.pass_on(spec.object);
            throw;
        }
        if (granted(w)) {   // the hand-off: no lock on this side
            word.wait_unlocked();
            return true;
        }
        word.lock();
        if (w.woken) {
            word.unlock();
            return true;
        }
        if (r == Wake::timed_out) {
            unlink(word, list, w, spec);
            return false;
        }
        // Woken by something else (a kill held back by an uninterruptible wait, a
        // stale timer): re-arm before anyone can look at the list again.
        w.epoch = self->epoch;
        word.unlock();
        // An uninterruptible wait still ends when the hub proves nothing can grant it.
        if (!spec.interruptible && self->pending && std::uncaught_exceptions() == 0 &&
            holds_loop_exit(self->pending)) {
            if (leave(word, list, w, spec)) return true;
            Hub::raise_pending(self);   // throws: pending is set and nothing is unwinding
        }
    }
}

}  // namespace gev::detail
