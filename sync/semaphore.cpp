// sync/semaphore.cpp — the slow paths of Semaphore (waiting, handing a permit over,
// the bound) and RLock's ownership on top of a one-permit Semaphore.
#include "sync/semaphore.hpp"

#include "runtime/errors.hpp"
#include "sync/wait_queue.hpp"

#include <cstdio>
#include <mutex>

namespace gev {

Semaphore::Semaphore(int value, int bound, const char* kind) : state_(value), bound_(bound), kind_(kind) {
    if (value < 0)
        detail::throw_usage(std::errc::invalid_argument, std::string(kind) + ": initial value must be >= 0");
}

Semaphore::~Semaphore() {
    std::lock_guard lock(mu_);
    if (!waiters_.empty()) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s %p destroyed while fibers wait on it", kind_, static_cast<void*>(this));
        detail::die(buf);
    }
}

bool Semaphore::acquire_slow(bool blocking, MaybeDuration timeout, bool interruptible) {
    if (!blocking || detail::only_looks(timeout)) return false;
    detail::Hub& hub = detail::Hub::require(kind_);
    detail::WaitSpec spec;
    spec.why = detail::WaitReason{detail::WaitKind::object, kind_, this};
    spec.deadline = timeout ? hub.deadline_after(*timeout) : -1;
    spec.interruptible = interruptible;
    spec.object = this;
    spec.undo = [](void* s) noexcept { static_cast<Semaphore*>(s)->state_.fetch_add(1, std::memory_order_relaxed); };
    spec.pass_on = [](void* s) noexcept { static_cast<Semaphore*>(s)->release_permit(); };
    detail::Waiter w;
    {
        std::lock_guard lock(mu_);
        if (state_.fetch_sub(1, std::memory_order_acquire) > 0) return true;   // freed meanwhile
        detail::enqueue(waiters_, w, detail::current_fiber());
    }
    // The permit comes with the grant; the lock's release/acquire pair orders what
    // the releaser did before it with what we do after.
    return detail::await_grant(hub, mu_, waiters_, w, spec);
}

void Semaphore::hand_off() noexcept {
    detail::Wakeup wk;   // declared first: wakes after the lock is released
    std::lock_guard lock(mu_);
    detail::grant_front(waiters_, wk);   // none left: the permit stays in state_
}

void Semaphore::release_permit() noexcept {
    if (state_.fetch_add(1, std::memory_order_release) < 0) hand_off();
}

void Semaphore::over_release() const {
    if (std::string_view(kind_) == "Lock") throw OverReleaseError("Lock::release: the lock is not locked");
    throw OverReleaseError(std::string(kind_) + "::release: released too many times (initial value " +
                           std::to_string(bound_) + ")");
}

RLock::RLock() : sem_(1, 1, "RLock") {}

bool RLock::is_owned() const noexcept { return owner_.load(std::memory_order_relaxed) == detail::current_fiber(); }

bool RLock::acquire(bool blocking, MaybeDuration timeout) {
    detail::Fiber* self = detail::current_fiber();
    if (owner_.load(std::memory_order_relaxed) == self) {   // only we could have stored ourselves
        ++depth_;
        return true;
    }
    if (!sem_.acquire(blocking, timeout)) return false;
    owner_.store(self, std::memory_order_relaxed);
    depth_ = 1;
    return true;
}

void RLock::release() {
    if (!is_owned()) throw NotOwnerError("RLock::release: cannot release un-acquired lock");
    if (--depth_ > 0) return;
    owner_.store(nullptr, std::memory_order_relaxed);
    sem_.release_permit();
}

int RLock::release_save() {
    if (!is_owned()) throw NotOwnerError("RLock: cannot release un-acquired lock");
    int depth = std::exchange(depth_, 0);
    owner_.store(nullptr, std::memory_order_relaxed);
    sem_.release_permit();
    return depth;
}

void RLock::acquire_restore(int depth) {
    if (!sem_.try_acquire()) sem_.acquire_slow(true, forever, false);
    owner_.store(detail::current_fiber(), std::memory_order_relaxed);
    depth_ = depth;
}

}  // namespace gev
