// sync/condition.cpp — Condition: a waiter list of its own, plus the user's lock let go
// of before parking and taken back (uninterruptibly) after.
#include "sync/condition.hpp"

#include "runtime/errors.hpp"
#include "runtime/hub.hpp"
#include "sync/wait_queue.hpp"

#include <exception>
#include <mutex>

namespace gev {

Condition::Condition() : own_(std::make_unique<RLock>()), rlock_(own_.get()) {}

Condition::~Condition() {
    std::lock_guard lock(mu_);
    if (!waiters_.empty()) detail::die_with_waiters("Condition", this);
}

int Condition::release_save() {
    if (rlock_ != nullptr) return rlock_->release_save();
    lock_->release();
    return 1;
}

void Condition::acquire_restore(int saved) {
    if (rlock_ != nullptr) {
        rlock_->acquire_restore(saved);
    } else if (!lock_->try_acquire()) {
        lock_->acquire_slow(true, forever, false);
    }
}

bool Condition::wait(MaybeDuration timeout) {
    detail::Hub& hub = detail::Hub::require("Condition::wait");
    if (!owned()) throw NotOwnerError("Condition::wait: cannot wait on un-acquired lock");
    detail::WaitSpec spec;
    spec.why = detail::WaitReason{detail::WaitKind::object, "Condition", this};
    spec.deadline = timeout ? hub.deadline_after(*timeout) : -1;
    spec.object = this;
    spec.pass_on = [](void* c) noexcept {
        auto* cond = static_cast<Condition*>(c);
        detail::grant_many(cond->mu_, cond->waiters_, 1);
    };
    detail::Fiber* self = detail::current_fiber();
    detail::Waiter w;
    {
        std::lock_guard lock(mu_);
        detail::enqueue(waiters_, w, self);
    }
    // Linked before the lock is let go of, so a notify made right after cannot be
    // missed; releasing never switches, so the park below still has w's epoch.
    int saved = release_save();
    bool notified;
    if (detail::only_looks(timeout)) {   // off a fiber: let go of the lock, only look
        std::lock_guard lock(mu_);
        notified = w.woken;
        waiters_.remove(&w);
    } else {
        try {
            notified = detail::await_grant(hub, mu_, waiters_, w, spec);
        } catch (...) {
            acquire_restore(saved);
            throw;
        }
    }
    acquire_restore(saved);
    if (detail::Hub::can_raise(self)) {
        // A kill or Timeout came while re-acquiring: raise it now that the lock is held,
        // and let the notification this fiber will not act on go to the next waiter.
        if (notified) spec.pass_on(this);
        detail::Hub::raise_pending(self);
    }
    return notified;
}

void Condition::notify(int n) {
    if (!owned()) throw NotOwnerError("Condition::notify: cannot notify on un-acquired lock");
    if (n > 0) detail::grant_many(mu_, waiters_, n);
}

void Condition::notify_all() {
    if (!owned()) throw NotOwnerError("Condition::notify_all: cannot notify on un-acquired lock");
    detail::grant_many(mu_, waiters_, -1);
}

}  // namespace gev
