// sync/semaphore.cpp — the slow paths of Semaphore (waiting, handing a permit over,
// the bound) and RLock's ownership on top of a one-permit Semaphore.
#include "sync/semaphore.hpp"

#include "runtime/errors.hpp"
#include "runtime/hub.hpp"
#include "sync/wait_queue.hpp"

#include <mutex>

namespace gev {

using detail::StateWord;

Semaphore::Semaphore(int value, int bound, const char* kind)
    : word_(static_cast<Bits>(value) << StateWord::kFreeShift),
      bound_(bound),
      top_(static_cast<std::int64_t>(bound) << StateWord::kFreeShift),
      kind_(kind) {
    if (value < 0)
        detail::throw_usage(std::errc::invalid_argument, std::string(kind) + ": initial value must be >= 0");
}

Semaphore::~Semaphore() {
    std::lock_guard lock(word_);   // a hand-off still under way finishes first
    if (!waiters_.empty()) detail::die_with_waiters(kind_, this);
}

bool Semaphore::acquire_slow(bool blocking, MaybeDuration timeout, bool interruptible) {
    if (!blocking || (timeout && detail::only_looks(timeout))) {   // the fast path may have met the lock
        Bits old = word_.update([](Bits w) { return count(w) > 0 ? w - kOne : w; });
        return count(old) > 0;
    }
    detail::Hub& hub = detail::Hub::require(kind_);
    // One step takes a permit, or registers this fiber as a waiter and takes the lock.
    Bits old = word_.update([](Bits w) { return count(w) > 0 ? w - kOne : (w - kOne) | StateWord::kLocked; });
    if (count(old) > 0) return true;
    detail::Waiter w;
    detail::enqueue(waiters_, w, detail::current_fiber());
    word_.unlock();
    detail::WaitSpec spec;
    spec.why = detail::WaitReason{detail::WaitKind::object, kind_, this};
    spec.deadline = timeout ? hub.deadline_after(*timeout) : -1;
    spec.interruptible = interruptible;
    spec.object = this;
    spec.undo = [](void* p) noexcept {   // under the lock: the registration goes
        auto* s = static_cast<Semaphore*>(p);
        s->word_.set_held(s->word_.held() + kOne);
    };
    spec.pass_on = [](void* p) noexcept { static_cast<Semaphore*>(p)->release_permit(); };
    // The permit comes with the grant; the word's release/acquire pair orders what
    // the releaser did before it with what we do after.
    return detail::await_grant(hub, word_, waiters_, w, spec);
}

int Semaphore::release_slow() {
    bool over = false;
    Bits old = word_.update([&](Bits w) {
        over = count(w) >= bound_;
        return over ? w : add_permit(w);
    });
    if (over) over_release();
    std::int64_t c = count(old);
    if (c < 0) hand_off();   // someone registered to wait: the permit is theirs
    return c + 1 > 0 ? static_cast<int>(c + 1) : 0;
}

void Semaphore::hand_off() noexcept {
    detail::Wakeup wk;   // declared first: wakes after the lock is released
    if (!detail::grant_front(waiters_, wk)) detail::die("gev: Semaphore count says a fiber waits, but none does");
    word_.unlock();
}

void Semaphore::release_permit() noexcept {
    if (count(word_.update(add_permit)) < 0) hand_off();
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
