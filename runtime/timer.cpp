// runtime/timer.cpp — 4-ary heap operations (shallower than binary: fewer cache misses per sift).
#include "runtime/timer.hpp"

namespace gev::detail {

void TimerHeap::arm(TimerNode* n, std::int64_t deadline) {
    if (n->armed()) cancel(n);
    n->deadline = deadline;
    n->seq = seq_++;
    heap_.push_back(n);
    auto i = static_cast<std::uint32_t>(heap_.size() - 1);
    n->index = i;
    sift_up(i);
}

void TimerHeap::cancel(TimerNode* n) noexcept {
    if (!n->armed()) return;
    std::uint32_t i = n->index;
    n->index = TimerNode::kUnarmed;
    TimerNode* last = heap_.back();
    heap_.pop_back();
    if (last == n) return;
    place(last, i);
    sift_up(i);
    sift_down(last->index);
}

TimerNode* TimerHeap::pop_due(std::int64_t now) noexcept {
    if (heap_.empty() || heap_.front()->deadline > now) return nullptr;
    TimerNode* n = heap_.front();
    cancel(n);
    return n;
}

void TimerHeap::sift_up(std::uint32_t i) noexcept {
    TimerNode* n = heap_[i];
    while (i > 0) {
        std::uint32_t parent = (i - 1) / 4;
        if (!before(n, heap_[parent])) break;
        place(heap_[parent], i);
        i = parent;
    }
    place(n, i);
}

void TimerHeap::sift_down(std::uint32_t i) noexcept {
    TimerNode* n = heap_[i];
    auto size = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
        std::uint32_t first = 4 * i + 1;
        if (first >= size) break;
        std::uint32_t best = first;
        std::uint32_t end = first + 4 < size ? first + 4 : size;
        for (std::uint32_t c = first + 1; c < end; ++c)
            if (before(heap_[c], heap_[best])) best = c;
        if (!before(heap_[best], n)) break;
        place(heap_[best], i);
        i = best;
    }
    place(n, i);
}

}  // namespace gev::detail
