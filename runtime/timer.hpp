// runtime/timer.hpp — the hub's timers: an intrusive 4-ary min-heap.
// A TimerNode lives inside whoever waits (a parked fiber's frame, a Timeout, a
// spawn_later fiber), so arming allocates nothing; arm and cancel are O(log n).
// Equal deadlines fire in arming order (a sequence number breaks ties).
// Owned by one hub; only its thread touches it.
#pragma once

#include <cstdint>
#include <vector>

namespace gev::detail {

struct TimerNode {
    static constexpr std::uint32_t kUnarmed = 0xffffffffu;
    std::int64_t deadline = 0;            // monotonic ns
    std::uint64_t seq = 0;
    std::uint32_t index = kUnarmed;       // position in the heap
    void (*fire)(TimerNode*) = nullptr;   // runs on the hub; must not switch fibers
    bool armed() const noexcept { return index != kUnarmed; }
};

class TimerHeap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    const TimerNode* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
    // Arms (or re-arms) n; may grow the heap's array.
    void arm(TimerNode* n, std::int64_t deadline);
    void cancel(TimerNode* n) noexcept;
    // Removes and returns the earliest timer due at `now`, or nullptr.
    TimerNode* pop_due(std::int64_t now) noexcept;
    // Disarms every timer and returns them, unordered (a forked child sorts out its own).
    std::vector<TimerNode*> take_all() noexcept {
        for (TimerNode* n : heap_) n->index = TimerNode::kUnarmed;
        std::vector<TimerNode*> all;
        all.swap(heap_);
        return all;
    }

private:
    static bool before(const TimerNode* a, const TimerNode* b) noexcept {
        return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
    }
    void place(TimerNode* n, std::uint32_t i) noexcept { heap_[i] = n; n->index = i; }
    void sift_up(std::uint32_t i) noexcept;
    void sift_down(std::uint32_t i) noexcept;

    std::vector<TimerNode*> heap_;
    std::uint64_t seq_ = 0;
};

}  // namespace gev::detail
