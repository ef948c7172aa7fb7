// sync/condition.hpp — threading.Condition for fibers, over a gev::Lock or gev::RLock.
// wait() lets go of the lock, parks until notified, and takes the lock back before it
// returns, however it returns (notified, timed out, killed): a kill or Timeout that
// arrives meanwhile is raised once the lock is held again, so RAII guards stay right.
// notify(n) wakes the n longest waiting fibers, in order; a notified fiber that is
// killed before it runs passes its notification on. Fibers of any hub may share one.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/wait_list.hpp"
#include "sync/semaphore.hpp"
#include "sync/state_word.hpp"

#include <memory>

namespace gev {

class Condition {
public:
    // Over a lock of its own, an RLock (Python's default).
    Condition();
    explicit Condition(Lock& lock) : lock_(&lock) {}
    explicit Condition(RLock& lock) : rlock_(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;
    ~Condition();

    // The underlying lock (Python's `with cond:`); Lockable, so std::unique_lock works.
    bool acquire(bool blocking = true, MaybeDuration timeout = forever) {
        return lock_ != nullptr ? lock_->acquire(blocking, timeout) : rlock_->acquire(blocking, timeout);
    }
    void release() { lock_ != nullptr ? (void)lock_->release() : rlock_->release(); }
    void lock() { acquire(); }
    void unlock() { release(); }
    bool try_lock() { return acquire(false); }

    // With the lock held: releases it (every level of an RLock), parks until notified
    // or the timeout passes, then re-acquires it. Returns false on timeout. Throws
    // NotOwnerError if the caller does not hold the lock (for a Lock: if it is not
    // locked), and what a park throws (kill, gev::Timeout, LoopExit) with the lock held.
    bool wait(MaybeDuration timeout = forever);

    // Waits until pred() holds or the timeout (for the whole call) passes; returns
    // pred()'s last result. The lock must be held.
    template <class Pred>
    bool wait_for(Pred pred, MaybeDuration timeout = forever) {
        if (pred()) return true;
        TimePoint end{};
        if (timeout) end = Clock::now() + *timeout;
        for (;;) {
            MaybeDuration left;
            if (timeout) {
                left = end - Clock::now();
                if (left->count() <= 0) return pred();
            }
            wait(left);
            if (pred()) return true;
        }
    }

    // Wakes up to n waiters, longest waiting first. The lock must be held
    // (NotOwnerError otherwise). Never blocks.
    void notify(int n = 1);
    void notify_all();

private:
    bool owned() const noexcept { return lock_ != nullptr ? lock_->locked() : rlock_->is_owned(); }
    int release_save();
    void acquire_restore(int saved);

    std::unique_ptr<RLock> own_;
    Lock* lock_ = nullptr;
    RLock* rlock_ = nullptr;
    detail::StateWord mu_;   // only its lock: guards waiters_
    detail::WaitList waiters_;
};

}  // namespace gev
