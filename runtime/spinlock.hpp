// runtime/spinlock.hpp — a lock for state that fibers of different hubs (threads) share,
// held for a handful of instructions and never across a park. Lockable, so
// std::lock_guard works.
#pragma once

#include <atomic>

namespace gev::detail {

class SpinLock {
public:
    void lock() noexcept {
        while (held_.exchange(true, std::memory_order_acquire))
            while (held_.load(std::memory_order_relaxed)) relax();
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
