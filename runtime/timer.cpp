// runtime/timer.cpp — the run's links and the 4-ary heap's operations (shallower than
// binary: fewer cache misses per sift).
#include "runtime/timer.hpp"

namespace gev::detail {

void TimerHeap::arm(TimerNode* n, std::int64_t deadline) {
    cancel(n);
    n->deadline = deadline;
    n->seq = seq_++;
    ++armed_;
    if (run_tail_ == nullptr || run_tail_->deadline <= deadline) {
        // Sorted already: (deadline, seq) grows along the run.
        n->index = TimerNode::kInRun;
        n->next = nullptr;
        n->prev = run_tail_;
        if (run_tail_ != nullptr) run_tail_->next = n;
        else run_head_ = n;
        run_tail_ = n;
        return;
    }
    heap_.push_back(n);
    auto i = static_cast<std::uint32_t>(heap_.size() - 1);
    n->index = i;
    sift_up(i);
}

void TimerHeap::unlink(TimerNode* n) noexcept {
    n->index = TimerNode::kUnarmed;
    (n->prev != nullptr ? n->prev->next : run_head_) = n->next;
    (n->next != nullptr ? n->next->prev : run_tail_) = n->prev;
}

void TimerHeap::heap_remove(TimerNode* n) noexcept {
    std::uint32_t i = n->index;
    n->index = TimerNode::kUnarmed;
    TimerNode* last = heap_.back();
    heap_.pop_back();
    if (last == n) return;
    place(last, i);
    sift_up(i);
    sift_down(last->index);
}

std::vector<TimerNode*> TimerHeap::take_all() noexcept {
    std::vector<TimerNode*> all;
    all.swap(heap_);
    for (TimerNode* n = run_head_; n != nullptr; n = n->next) all.push_back(n);
    for (TimerNode* n : all) n->index = TimerNode::kUnarmed;
    run_head_ = run_tail_ = nullptr;
    armed_ = 0;
    return all;
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
