// sync/wait_queue.hpp — the one wait primitive under all of sync/ (internal). A
// primitive's StateWord lock guards its WaitLists; a waiter links a Waiter on its own
// stack and parks; a waker unlinks it under the lock, writes the grant into it and
// marks it `woken` last (release), so the resumed waiter reads its grant without the
// lock: one atomic read-modify-write per side of a hand-off. Invariant: a Waiter is
// linked exactly while its fiber waits ungranted; a granted waiter that leaves by an
// exception passes its grant on, so no grant is ever lost.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/greenlet.hpp"
#include "runtime/hub_api.hpp"
#include "runtime/wait_list.hpp"
#include "sync/state_word.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

namespace gev::detail {

using SyncLock = std::unique_lock<StateWord>;

// A primitive destroyed while fibers wait on it: abort, naming it (wait_queue.cpp).
[[noreturn]] void die_with_waiters(const char* kind, const void* object) noexcept;

// One call's deadline, fixed by its first park (later parks of the same call keep it).
struct Deadline {
    Hub* hub = nullptr;
    std::int64_t ns = -1;
    // The current hub (throws std::system_error naming `op` outside gev::run).
    Hub& fix(const char* op, const MaybeDuration& timeout) {
        if (hub == nullptr) {
            hub = &require_hub(op);
            ns = timeout ? hub_deadline_after(*hub, *timeout) : -1;
        }
        return *hub;
    }
};

struct WaitSpec {
    WaitReason why;                 // what LoopExit and fiber dumps show
    std::int64_t deadline = -1;     // on the hub's clock (hub_deadline_after); <0: none
    bool interruptible = true;      // false: a kill or Timeout stays pending (Condition's re-acquire)
    void* object = nullptr;         // passed to the two hooks below
    // Under the lock, when the waiter leaves without a grant (timeout, exception).
    void (*undo)(void* object) noexcept = nullptr;
    // Without the lock, when a granted waiter leaves by an exception: pass the grant on.
    void (*pass_on)(void* object) noexcept = nullptr;
};

// Whether `w` has been granted; the waiter may read it without the lock, and what
// the waker wrote into it (and the primitive) before is visible once it reads true.
inline bool granted(Waiter& w) noexcept { return std::atomic_ref<bool>(w.woken).load(std::memory_order_acquire); }

// Links `w` for the current fiber at the back of `list`; call under the owner's lock,
// then release the lock and call await_grant with nothing that may switch in between.
inline void enqueue(WaitList& list, Waiter& w, Fiber* self) noexcept {
    w.fiber = self;
    w.epoch = self->epoch;
    w.woken = false;
    list.push_back(&w);
}

// A wake-up granted under the owner's lock and delivered once it is released. Waking
// a fiber of this hub only queues it, so that happens at once; for a fiber of another
// hub the park is claimed under the lock (its wake token: a timer or kill of that hub
// loses from then on, so the fiber stays parked and alive until the push), and the
// push into that hub's inbox (maybe a system call to rouse its poller) waits until the
// lock, which makes other threads spin, is released.
class Wakeup {
public:
    Wakeup() noexcept = default;
    Wakeup(const Wakeup&) = delete;
    Wakeup& operator=(const Wakeup&) = delete;
    ~Wakeup() { deliver(); }

    // Marks `w` (already unlinked) granted under the lock, and wakes it now or keeps
    // it for deliver(). `w` is not touched after the mark: its waiter may be gone.
    void grant(Waiter* w) noexcept {
        Fiber* f = w->fiber;
        std::uint64_t epoch = w->epoch;
        if (f->hub == current_hub()) {
            w->woken = true;   // its waiter runs on this thread, after us
            wake_fiber(f, epoch);
            return;
        }
        claim_wake(f, epoch, owed_);
        std::atomic_ref<bool>(w->woken).store(true, std::memory_order_release);
    }
    // Without the lock: delivers the kept wake-ups, if any.
    void deliver() noexcept {
        if (owed_.head != nullptr) deliver_wakes(owed_);
    }
    bool pending() const noexcept { return owed_.head != nullptr; }

private:
    OwedWakes owed_;
};

// Grants the first waiter (call under the owner's lock; deliver `wk` after it); false
// if nobody waits.
inline bool grant_front(WaitList& list, Wakeup& wk) noexcept {
    Waiter* w = list.pop_front();
    if (w == nullptr) return false;
    wk.grant(w);
    return true;
}

// Under the owner's lock: grants waiters in FIFO order while `left` (<0: no limit)
// allows and the front one's `data` is below `before`, stopping after one of another
// hub (kept in `wk`). Returns whether waiters that qualify may remain: only then may
// the caller lock the owner again after delivering `wk`, for once the last of them is
// granted it may return and destroy the owner.
bool grant_batch(WaitList& list, Wakeup& wk, int& left, std::uintptr_t before = UINTPTR_MAX) noexcept;

// Grants up to n waiters (all when n < 0) as grant_batch does, taking and releasing
// `word`'s lock itself: call without it held.
void grant_many(StateWord& word, WaitList& list, int n, std::uintptr_t before = UINTPTR_MAX) noexcept;

// Parks until `w` is granted (true) or the deadline passes (false); call without the
// lock held, after enqueue. Throws what the park throws (kill, Timeout, LoopExit) once
// `w` is unlinked or its grant passed on; never returns with `w` linked. Leaving
// without a grant unlocks with kWaiters saying whether `list` still has waiters.
bool await_grant(Hub& hub, StateWord& word, WaitList& list, Waiter& w, const WaitSpec& spec);

// The same wait for callers that keep the lock in a SyncLock (Queue, Channel, Pool):
// `lock` is held on entry, released while parked, and held again on every exit but
// a granted one: a waiter granted all it needs (an item moved into its slot) takes
// it without the lock. Returns whether it was granted (false: the deadline passed).
// When the park throws (kill, Timeout, LoopExit) and `w` had been woken, abandon()
// runs under the lock (it must hand the grant on and not throw); then the exception
// goes on. The caller sets w.data before the call; wakers may change it.
template <class Abandon>
bool park_for_grant(Hub& hub, SyncLock& lock, WaitList& list, Waiter& w, const WaitReason& why,
                    std::int64_t deadline, Abandon&& abandon) {
    Fiber* self = current_fiber();
    // A kill left pending (it arrived while this fiber was unwinding) is raised before
    // anything is registered, so no wake-up can be posted for a wait that never parks.
    raise_pending(self);
    enqueue(list, w, self);   // under the lock, and nothing can switch before the park
    struct Handoff {
        StateWord* word;
        std::remove_reference_t<Abandon>* fn;
    } handoff{lock.mutex(), &abandon};
    WaitSpec spec;
    spec.why = why;
    spec.deadline = deadline;
    spec.object = &handoff;
    spec.pass_on = [](void* p) noexcept {
        auto* h = static_cast<Handoff*>(p);
        std::lock_guard relock(*h->word);
        (*h->fn)();
    };
    lock.unlock();
    bool ok;
    try {
        ok = await_grant(hub, *lock.mutex(), list, w, spec);
    } catch (...) {
        lock.lock();
        throw;
    }
    if (!ok) lock.lock();
    return ok;
}

// park_for_grant that holds `lock` on every exit.
template <class Abandon>
Wake park_until_woken(Hub& hub, SyncLock& lock, WaitList& list, Waiter& w, const WaitReason& why,
                      std::int64_t deadline, Abandon&& abandon) {
    if (!park_for_grant(hub, lock, list, w, why, deadline, abandon)) return Wake::timed_out;
    lock.lock();
    return Wake::notified;
}

// The same wait for waiters that are woken all at once and hold no grant (join,
// peek, wait_available): nothing to hand on when they are cancelled.
inline Wake park_until_woken(Hub& hub, SyncLock& lock, WaitList& list, Waiter& w, const WaitReason& why,
                             std::int64_t deadline) {
    return park_until_woken(hub, lock, list, w, why, deadline, [] {});
}

// Waker side, with the list's lock held: unlinks the first waiter, marks it woken and
// makes it ready at once (through its own hub's inbox when that is another hub).
// Returns whether there was one. The caller writes the grant into the waiter (e.g.
// w->data) before, while it is still linked.
inline bool unpark_first(WaitList& list) noexcept {
    Wakeup wk;
    return grant_front(list, wk);
}

// The same, recording `data` for the waiter first (what it was granted).
inline bool unpark_first(WaitList& list, std::uintptr_t data) noexcept {
    if (Waiter* w = list.front()) w->data = data;
    return unpark_first(list);
}

inline void unpark_all(WaitList& list) noexcept {
    while (unpark_first(list)) {
    }
}

}  // namespace gev::detail
