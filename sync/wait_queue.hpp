// sync/wait_queue.hpp — the wait loop every primitive in sync/ shares (internal).
// A primitive guards its state and its WaitList with a SpinLock. A fiber that must wait
// links a Waiter that lives on its own stack (no allocation) and parks; a waker unlinks
// it and sets `woken` (the grant: a permit, a notification) under the lock, then wakes
// the fiber (through its hub's inbox when that is another hub), after unlocking if it
// is another hub's. Invariant: a Waiter is linked exactly while its fiber waits and
// nobody has granted it; a granted waiter that leaves by an exception passes its grant on.
#pragma once

#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"
#include "runtime/spinlock.hpp"
#include "runtime/wait_list.hpp"

#include <cstdint>
#include <utility>

namespace gev::detail {

struct WaitSpec {
    WaitReason why;                 // what LoopExit and fiber dumps show
    std::int64_t deadline = -1;     // on the hub's clock (Hub::deadline_after); <0: none
    bool interruptible = true;      // false: a kill or Timeout stays pending (Condition's re-acquire)
    void* object = nullptr;         // passed to the two hooks below
    // Under the lock, when the waiter leaves without a grant (timeout, exception).
    void (*undo)(void* object) noexcept = nullptr;
    // Without the lock, when a granted waiter leaves by an exception: pass the grant on.
    void (*pass_on)(void* object) noexcept = nullptr;
};

// Links `w` for the current fiber at the back of `list`; call under the owner's lock,
// then release the lock and call await_grant with nothing that may switch in between.
inline void enqueue(WaitList& list, Waiter& w, Fiber* self) noexcept {
    w.fiber = self;
    w.epoch = self->epoch;
    w.woken = false;
    list.push_back(&w);
}

// A wake-up granted under the owner's lock and delivered once it is released. Waking
// a fiber of this hub only queues it, so that happens at once; waking one of another
// hub posts to that hub's inbox (a mutex, maybe a syscall to rouse its poller), which
// must not happen while a spin lock makes other threads spin. The fiber is referenced
// meanwhile; its epoch makes the late wake-up harmless if it has moved on.
class Wakeup {
public:
    Wakeup() noexcept = default;
    Wakeup(const Wakeup&) = delete;
    Wakeup& operator=(const Wakeup&) = delete;
    ~Wakeup() { deliver(); }

    // Marks `w` granted (under the lock) and wakes it now or keeps it for deliver().
    void grant(Waiter* w) noexcept {
        w->woken = true;
        if (w->fiber->hub == Hub::current()) {
            Hub::wake(w->fiber, w->epoch);
            return;
        }
        deliver();
        fiber_ = w->fiber;
        epoch_ = w->epoch;
        fiber_->ref();
    }
    // Without the lock: delivers a kept wake-up, if any.
    void deliver() noexcept {
        if (Fiber* f = std::exchange(fiber_, nullptr)) {
            Hub::wake(f, epoch_);
            f->unref();
        }
    }
    bool pending() const noexcept { return fiber_ != nullptr; }

private:
    Fiber* fiber_ = nullptr;
    std::uint64_t epoch_ = 0;
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
// `mu` itself: call without it held.
void grant_many(SpinLock& mu, WaitList& list, int n, std::uintptr_t before = UINTPTR_MAX) noexcept;

// Parks until `w` is granted (true) or the deadline passes (false); call without `mu`
// held, after enqueue. Throws what the park throws (kill, Timeout, LoopExit) once `w`
// is unlinked or its grant passed on; never returns with `w` linked.
bool await_grant(Hub& hub, SpinLock& mu, WaitList& list, Waiter& w, const WaitSpec& spec);

}  // namespace gev::detail
