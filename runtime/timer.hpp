// runtime/timer.hpp — the hub's timers: an intrusive 4-ary min-heap beside a sorted run.
// A TimerNode lives inside whoever waits (a parked fiber's frame, a Timeout, a
// spawn_later fiber), so arming allocates nothing. Most programs arm timers of one
// duration (sleep(10ms) x 100k, a Timeout per request), whose deadlines only grow: those
// go to the tail of a linked run in O(1) and expire from its head in O(1); any other
// deadline goes to the heap (O(log n)). Equal deadlines fire in arming order (a
// sequence number breaks ties across the two). Owned by one hub; only its thread touches it.
#pragma once

#include <cstdint>
#include <vector>

namespace gev::detail {

struct TimerNode {
    static constexpr std::uint32_t kUnarmed = 0xffffffffu;
    static constexpr std::uint32_t kInRun = 0xfffffffeu;
    std::int64_t deadline = 0;            // monotonic ns
    std::uint64_t seq = 0;
    std::uint32_t index = kUnarmed;       // position in the heap, or kInRun
    void (*fire)(TimerNode*) = nullptr;   // runs on the hub; must not switch fibers
    TimerNode* prev = nullptr;            // the run's links (kInRun only)
    TimerNode* next = nullptr;
    bool armed() const noexcept { return index != kUnarmed; }
};

class TimerHeap {
public:
    bool empty() const noexcept { return armed_ == 0; }
    std::size_t size() const noexcept { return armed_; }
    // The earliest timer, or nullptr.
    const TimerNode* top() const noexcept {
        const TimerNode* h = heap_.empty() ? nullptr : heap_.front();
        if (run_head_ == nullptr) return h;
        return h != nullptr && before(h, run_head_) ? h : run_head_;
    }
    // Arms (or re-arms) n; may grow the heap's array.
    void arm(TimerNode* n, std::int64_t deadline);
    void cancel(TimerNode* n) noexcept {
        if (!n->armed()) return;
        --armed_;
        if (n->index == TimerNode::kInRun) unlink(n);
        else heap_remove(n);
    }
    // Removes and returns the earliest timer due at `now`, or nullptr.
    TimerNode* pop_due(std::int64_t now) noexcept {
        TimerNode* n = const_cast<TimerNode*>(top());
        if (n == nullptr || n->deadline > now) return nullptr;
        cancel(n);
        return n;
    }
    // Disarms every timer and returns them, unordered (a forked child sorts out its own).
    std::vector<TimerNode*> take_all() noexcept;

private:
    static bool before(const TimerNode* a, const TimerNode* b) noexcept {
        return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
    }
    void place(TimerNode* n, std::uint32_t i) noexcept { heap_[i] = n; n->index = i; }
    void heap_remove(TimerNode* n) noexcept;
    void unlink(TimerNode* n) noexcept;
    void sift_up(std::uint32_t i) noexcept;
    void sift_down(std::uint32_t i) noexcept;

    std::vector<TimerNode*> heap_;
    TimerNode* run_head_ = nullptr;   // deadlines non-decreasing from head to tail
    TimerNode* run_tail_ = nullptr;
    std::size_t armed_ = 0;           // in the heap and the run
    std::uint64_t seq_ = 0;
};

}  // namespace gev::detail
