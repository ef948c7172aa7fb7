// sync/state_word.hpp — the one atomic word each sync/ primitive keeps its state in
// (internal). Bit 0 locks the primitive's wait list, bit 1 says someone waits, and the
// bits above are the primitive's own (Event's flag, Semaphore's count). An uncontended
// operation is one compare-and-swap; a hand-off takes the lock in the same swap that
// changes the state, and lets go with a plain store, since nobody else writes the word
// while it is locked. Any thread; held for a handful of instructions, never across a park.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

namespace gev::detail {

class StateWord {
public:
    using Bits = std::uint64_t;
    static constexpr Bits kLocked = 1;
    static constexpr Bits kWaiters = 2;
    static constexpr int kFreeShift = 2;   // the primitive's bits start here

    constexpr explicit StateWord(Bits value = 0) noexcept : v_(value) {}
    StateWord(const StateWord&) = delete;
    StateWord& operator=(const StateWord&) = delete;

    Bits load(std::memory_order o = std::memory_order_acquire) const noexcept { return v_.load(o); }

    // Once the word is unlocked, replaces its value w by next(w) in one atomic step
    // (next may set kLocked to take the lock with it; returning w writes nothing).
    // Returns the value it replaced.
    template <class Next>
    Bits update(Next next) noexcept {
        // Acquire loads: returning what was read, unchanged, still synchronizes with
        // the write that made it.
        Bits old = v_.load(std::memory_order_acquire);
        for (int spins = 0;;) {
            if (old & kLocked) {
                backoff(spins);
                old = v_.load(std::memory_order_acquire);
                continue;
            }
            Bits want = next(old);
            if (want == old) return old;
            if (v_.compare_exchange_weak(old, want, std::memory_order_acq_rel, std::memory_order_acquire))
                return old;
        }
    }

    // One try at update's step, for a fast path that checks the lock bit itself: on
    // failure `expected` holds the value found.
    bool compare_exchange_weak(Bits& expected, Bits want) noexcept {
        return v_.compare_exchange_weak(expected, want, std::memory_order_acq_rel, std::memory_order_relaxed);
    }

    // Lockable, so std::lock_guard and std::unique_lock work.
    // A compare-and-swap: on the machines measured it beats a locked bit-test-and-set.
    void lock() noexcept {
        Bits old = v_.load(std::memory_order_relaxed);
        if (!(old & kLocked) &&
            v_.compare_exchange_weak(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed))
            return;
        lock_contended();
    }
    bool try_lock() noexcept {
        Bits old = v_.load(std::memory_order_relaxed);
        return !(old & kLocked) &&
               v_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed);
    }
    void unlock() noexcept { v_.store(held() & ~kLocked, std::memory_order_release); }
    // Unlocks, saying whether fibers still wait (kWaiters).
    void unlock(bool waiters) noexcept {
        v_.store((held() & ~(kLocked | kWaiters)) | (waiters ? kWaiters : 0), std::memory_order_release);
    }

    // Returns once the word is seen unlocked: a waiter that read its grant without the
    // lock calls this before it returns, so the waker (who marked it under the lock)
    // has let go of the word by the time the waiter may destroy the primitive.
    void wait_unlocked() const noexcept {
        for (int spins = 0; v_.load(std::memory_order_acquire) & kLocked;) backoff(spins);
    }

    // While the caller holds the lock: the value, and a new one (the lock stays held).
    Bits held() const noexcept { return v_.load(std::memory_order_relaxed); }
    void set_held(Bits value) noexcept { v_.store(value | kLocked, std::memory_order_relaxed); }

private:
    [[gnu::noinline]] void lock_contended() noexcept { update([](Bits w) { return w | kLocked; }); }

    // Spin briefly; if the holder's thread has been descheduled (more runnable threads
    // than cores), give the CPU back instead of burning a whole time slice.
    static void backoff(int& spins) noexcept {
        if (++spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();
        }
    }

    std::atomic<Bits> v_;
};

}  // namespace gev::detail
