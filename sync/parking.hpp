// sync/parking.hpp — the wait of Queue, LifoQueue, PriorityQueue, Channel, Group and
// Pool (internal): wait_queue.hpp's loop, for callers that keep their lock in a
// SyncLock. A waiter parks on a WaitList guarded by the primitive's SpinLock; a waker,
// holding that lock, unlinks it, marks it woken (w.woken, plus a primitive-specific
// w.data) and wakes it through its hub. The invariant: `woken`, read under the lock,
// is the only truth about whether a grant was made — not how park() returned — so a
// grant that meets a timeout, kill or Timeout is either used or handed on by the
// waiter, never lost. Waiters live on their fibers' stacks.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/hub.hpp"
#include "runtime/spinlock.hpp"
#include "runtime/wait_list.hpp"
#include "sync/wait_queue.hpp"

#include <cstdint>
#include <mutex>
#include <type_traits>

namespace gev::detail {

using SyncLock = std::unique_lock<SpinLock>;

// A primitive destroyed while fibers wait on it: abort, naming it (queue.cpp).
[[noreturn]] void die_with_waiters(const char* kind, const void* object) noexcept;

inline std::int64_t deadline_for(Hub& hub, const MaybeDuration& timeout) noexcept {
    return timeout ? hub.deadline_after(*timeout) : -1;
}

// One call's deadline, fixed by its first park (later parks of the same call keep it).
struct Deadline {
    Hub* hub = nullptr;
    std::int64_t ns = -1;
    // The current hub (throws std::system_error naming `op` outside gev::run).
    Hub& fix(const char* op, const MaybeDuration& timeout) {
        if (hub == nullptr) {
            hub = &Hub::require(op);
            ns = deadline_for(*hub, timeout);
        }
        return *hub;
    }
};

// Parks the current fiber on `list` until a waker marks `w` woken, or the deadline
// (ns, <0: none): sync/wait_queue.hpp's await_grant, for callers that keep the lock in
// a SyncLock. `lock` is held on entry and on every exit, and is released only while
// parked. Returns Wake::notified when woken (even if the deadline passed at the same
// moment), Wake::timed_out otherwise (w is then unlinked). When the park throws (kill,
// Timeout, LoopExit) and `w` had been woken, abandon() runs under the lock (it must
// hand the grant on and not throw); then the exception goes on. The caller sets
// w.data before the call; wakers may change it.
template <class Abandon>
Wake park_until_woken(Hub& hub, SyncLock& lock, WaitList& list, Waiter& w, const WaitReason& why,
                      std::int64_t deadline, Abandon&& abandon) {
    Fiber* self = current_fiber();
    // A kill left pending (it arrived while this fiber was unwinding) is raised before
    // anything is registered, so no wake-up can be posted for a wait that never parks.
    Hub::raise_pending(self);
    enqueue(list, w, self);   // under the lock, and nothing can switch before the park
    struct Handoff {
        SpinLock* mu;
        std::remove_reference_t<Abandon>* fn;
    } handoff{lock.mutex(), &abandon};
    WaitSpec spec;
    spec.why = why;
    spec.deadline = deadline;
    spec.object = &handoff;
    spec.pass_on = [](void* p) noexcept {
        auto* h = static_cast<Handoff*>(p);
        std::lock_guard relock(*h->mu);
        (*h->fn)();
    };
    lock.unlock();
    bool granted;
    try {
        granted = await_grant(hub, *lock.mutex(), list, w, spec);
    } catch (...) {
        lock.lock();
        throw;
    }
    lock.lock();
    return granted ? Wake::notified : Wake::timed_out;
}

// The same wait for waiters that are woken all at once and hold no grant (join,
// peek, wait_available): nothing to hand on when they are cancelled.
inline Wake park_until_woken(Hub& hub, SyncLock& lock, WaitList& list, Waiter& w, const WaitReason& why,
                             std::int64_t deadline) {
    return park_until_woken(hub, lock, list, w, why, deadline, [] {});
}

// Waker side, with the list's lock held: unlinks the first waiter, marks it woken and
// makes it ready (through its own hub's inbox when that is another hub). Returns it,
// or nullptr when nobody waits. The woken waiter cannot leave its wait before the
// caller releases the lock, so what `w` points to stays valid until then.
inline Waiter* unpark_first(WaitList& list) noexcept {
    Waiter* w = list.pop_front();
    if (w == nullptr) return nullptr;
    w->woken = true;
    Hub::wake(w->fiber, w->epoch);
    return w;
}

// The same, recording `data` for the waiter first (what it was granted).
inline Waiter* unpark_first(WaitList& list, std::uintptr_t data) noexcept {
    if (Waiter* w = list.front()) w->data = data;
    return unpark_first(list);
}

inline void unpark_all(WaitList& list) noexcept {
    while (unpark_first(list) != nullptr) {
    }
}

}  // namespace gev::detail
