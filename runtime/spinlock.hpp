// runtime/spinlock.hpp — a lock for state that fibers of different hubs (threads) share,
// held for a handful of instructions and never across a park. Lockable, so
// std::lock_guard works.
#pragma once

#include <sched.h>

#include <atomic>

namespace gev::detail {

class SpinLock {
public:
    void lock() noexcept {
        // Spin briefly; if the holder's thread has been descheduled (more runnable threads
        // than cores), give the CPU back instead of burning a whole time slice.
        for (int spins = 0; held_.exchange(true, std::memory_order_acquire);)
            while (held_.load(std::memory_order_relaxed)) {
                if (++spins < 128) relax();
                else sched_yield();
            }
    }
    bool try_lock() noexcept { return !held_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { held_.store(false, std::memory_order_release); }

private:
    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    std::atomic<bool> held_{false};
};

}  // namespace gev::detail
