// monkey/debug_blocking.hpp — the bits of GEV_DEBUG_BLOCKING the hooks touch: each call
// to an original names itself on its thread's record while it runs, so the watchdog
// (debug_blocking.cpp) can say "read() went to the C library" rather than only
// "the read system call". One relaxed load when the switch is off.
#pragma once

#include <atomic>

namespace gev::monkey::detail {

extern constinit std::atomic<bool> g_debug_on;

// What the watchdog knows of the original a thread is running: its name, and a count
// that tells one call from the next.
struct CallSlot {
    std::atomic<const char*> name{nullptr};
    std::atomic<unsigned> seq{0};
};

// This thread's slot, registered with the watchdog while the thread runs a hub;
// nullptr otherwise.
CallSlot* debug_slot() noexcept;

// Marks the scope of one call to an original.
class CallName {
public:
    explicit CallName(const char* name) noexcept {
        if (g_debug_on.load(std::memory_order_relaxed)) [[unlikely]] {
            slot_ = debug_slot();
            if (slot_ != nullptr) {
                slot_->seq.fetch_add(1, std::memory_order_relaxed);
                slot_->name.store(name, std::memory_order_relaxed);
            }
        }
    }
    ~CallName() {
        if (slot_ != nullptr) slot_->name.store(nullptr, std::memory_order_relaxed);
    }
    CallName(const CallName&) = delete;
    CallName& operator=(const CallName&) = delete;

private:
    CallSlot* slot_ = nullptr;
};

}  // namespace gev::monkey::detail
