// sync/semaphore.hpp — gevent.lock: Semaphore, BoundedSemaphore, Lock, RLock, and Guard.
// Permits are handed over in FIFO order: a release while fibers wait gives its permit
// straight to the first of them, so a newcomer never barges past a waiter. The count
// and the lock of the waiter list share one atomic word, so an uncontended acquire or
// release is one atomic step, and so is each side of a hand-off; fibers of different
// hubs may share any of these. Each type is
// Lockable (lock/unlock/try_lock/try_lock_for), so std::scoped_lock and std::unique_lock
// work; gev::Guard is gevent's `with lock:`.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/wait_list.hpp"
#include "sync/state_word.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace gev {

namespace detail { class Fiber; }

// Releasing a BoundedSemaphore (or a Lock) more often than it was acquired
// (gevent's ValueError). EOVERFLOW.
class OverReleaseError : public std::system_error {
public:
    explicit OverReleaseError(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::value_too_large), what) {}
};

// Releasing an RLock the caller does not hold, or waiting on / notifying a Condition
// without holding its lock (Python's RuntimeError). EPERM.
class NotOwnerError : public std::system_error {
public:
    explicit NotOwnerError(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::operation_not_permitted), what) {}
};

namespace detail {
// The standard Lockable and TimedLockable names (std::scoped_lock, std::unique_lock,
// try_lock_for) over a type's acquire(blocking, timeout) and release().
template <class Self>
class TimedLockable {
public:
    void lock() { self().acquire(); }
    void unlock() { self().release(); }
    bool try_lock() { return self().acquire(false); }
    template <class Rep, class Period>
    bool try_lock_for(const std::chrono::duration<Rep, Period>& d) {
        return self().acquire(true, std::chrono::ceil<Duration>(d));
    }
    template <class C, class D>
    bool try_lock_until(const std::chrono::time_point<C, D>& t) {
        return try_lock_for(t - C::now());
    }

private:
    Self& self() noexcept { return static_cast<Self&>(*this); }
};
}  // namespace detail

class Semaphore : public detail::TimedLockable<Semaphore> {
public:
    // `value` permits; throws std::system_error (EINVAL) if it is negative.
    explicit Semaphore(int value = 1) : Semaphore(value, kUnbounded, "Semaphore") {}
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore();

    // Takes a permit, parking in FIFO order while none is free. Returns false if
    // `blocking` is false (never switches) and none is free, or if the timeout passes
    // first (a timeout <= 0 parks until the hub's next turn, so ready fibers run first). Throws what a park throws (kill, gev::Timeout, LoopExit naming the
    // semaphore), leaving the count as it was; std::system_error outside gev::run.
    bool acquire(bool blocking = true, MaybeDuration timeout = forever) {
        return try_acquire() || acquire_slow(blocking, timeout, true);
    }
    // Gives a permit back: to the first waiter if any, else to the count. Any thread,
    // never blocks. Returns the count afterwards. BoundedSemaphore and Lock throw
    // OverReleaseError past their initial value.
    int release() {
        Bits w = word_.load(std::memory_order_relaxed);
        // No waiter (count >= 0), under the bound, unlocked: compared on the whole word.
        if (static_cast<std::int64_t>(w) >= 0 && static_cast<std::int64_t>(w) < top_ &&
            !(w & detail::StateWord::kLocked) && word_.compare_exchange_weak(w, w + kOne))
            return static_cast<int>(count(w) + 1);
        return release_slow();
    }
    // gevent's wait: parks until a permit is free, in FIFO order with the acquirers, but
    // leaves it free; up to `timeout`. Returns the free permits then (0 when the timeout
    // came first, or another waiter took the permit meanwhile).
    int wait(MaybeDuration timeout = forever) {
        if (counter() > 0) return counter();
        if (!acquire(true, timeout)) return 0;
        release();
        return counter();
    }
    // No permit is free (gevent's locked()).
    bool locked() const noexcept { return count(word_.load(std::memory_order_relaxed)) <= 0; }
    // Free permits (gevent's counter).
    int counter() const noexcept {
        std::int64_t c = count(word_.load(std::memory_order_relaxed));
        return c > 0 ? static_cast<int>(c) : 0;
    }


protected:
    static constexpr int kUnbounded = 0x7fffffff;
    Semaphore(int value, int bound, const char* kind);

private:
    friend class RLock;
    friend class Condition;

    using Bits = detail::StateWord::Bits;
    static constexpr Bits kOne = Bits{1} << detail::StateWord::kFreeShift;   // one permit
    static std::int64_t count(Bits w) noexcept { return static_cast<std::int64_t>(w) >> detail::StateWord::kFreeShift; }
    // One permit more; with the lock taken too when a fiber is registered to wait.
    static Bits add_permit(Bits w) noexcept { return count(w) < 0 ? (w + kOne) | detail::StateWord::kLocked : w + kOne; }

    // The fast path: one compare-and-swap while a permit is free and the word unlocked.
    bool try_acquire() noexcept {
        Bits w = word_.load(std::memory_order_relaxed);
        while (static_cast<std::int64_t>(w) >= static_cast<std::int64_t>(kOne) && !(w & detail::StateWord::kLocked))
            if (word_.compare_exchange_weak(w, w - kOne)) return true;
        return false;
    }
    bool acquire_slow(bool blocking, MaybeDuration timeout, bool interruptible);
    // release() when the word is locked, fibers wait, or the bound is reached.
    int release_slow();
    // Adds a permit without the bound check (one that was really taken).
    void release_permit() noexcept;
    void hand_off() noexcept;
    [[noreturn]] void over_release() const;

    // The count, above the lock bit: > 0: free permits. <= 0: minus the fibers
    // registered to wait that no release has covered yet. A waiter registers
    // (decrements) and takes the lock in one step, then links; so a release that finds
    // the count negative takes the lock in the step that counts its permit and hands
    // it to the first waiter, who is there (one that left undid its decrement under
    // the lock).
    detail::StateWord word_;
    const int bound_;
    const std::int64_t top_;   // the word's value at the bound, flags clear
    const char* kind_;
    detail::WaitList waiters_;
};

// A Semaphore whose releases may not raise the count past its initial value.
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(int value = 1) : Semaphore(value, value, "BoundedSemaphore") {}

protected:
    BoundedSemaphore(int value, const char* kind) : Semaphore(value, value, kind) {}
};

// A mutex: BoundedSemaphore(1) (gevent's). It has no owner: any fiber may release it,
// and re-acquiring it from the fiber that holds it waits forever (LoopExit on one hub);
// releasing it unlocked throws OverReleaseError.
class Lock : public BoundedSemaphore {
public:
    Lock() : BoundedSemaphore(1, "Lock") {}
};

// A re-entrant lock owned by the fiber that acquired it: the owner may acquire it again
// (each acquire needs a release); only the owner may release it.
class RLock : public detail::TimedLockable<RLock> {
public:
    RLock();
    RLock(const RLock&) = delete;
    RLock& operator=(const RLock&) = delete;

    // As Semaphore::acquire; the owner gets it at once, one level deeper.
    bool acquire(bool blocking = true, MaybeDuration timeout = forever);
    // One level less; the last one frees it for the next waiter (FIFO). Throws
    // NotOwnerError if the calling fiber does not hold it.
    void release();
    // Held by some fiber.
    bool locked() const noexcept { return owner_.load(std::memory_order_relaxed) != nullptr; }
    // Held by the calling fiber.
    bool is_owned() const noexcept;
    // The calling fiber's depth: how many releases it owes (0 if it does not hold it).
    int count() const noexcept { return is_owned() ? depth_ : 0; }


private:
    friend class Condition;
    // Python's _release_save / _acquire_restore: Condition::wait lets go of every level
    // and takes them all back, the latter without being interrupted.
    int release_save();
    void acquire_restore(int depth);

    Semaphore sem_;
    std::atomic<detail::Fiber*> owner_{nullptr};
    int depth_ = 0;   // touched by the owner only
};

// gevent's `with lock:` for any of the above (and Condition): acquires in the
// constructor, releases in the destructor unless released early.
template <class L>
class [[nodiscard]] Guard {
public:
    explicit Guard(L& lock) : lock_(&lock) { lock.acquire(); }
    Guard(Guard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() {
        if (lock_ != nullptr) lock_->release();
    }
    // Releases now instead of at the end of the scope.
    void release() {
        if (L* l = std::exchange(lock_, nullptr)) l->release();
    }
    bool held() const noexcept { return lock_ != nullptr; }

private:
    L* lock_;
};

}  // namespace gev
