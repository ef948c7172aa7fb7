// runtime/wait_list.hpp — the intrusive FIFO of fibers waiting on one object.
// A Waiter lives on the waiting fiber's own stack, so waiting allocates nothing;
// it records the park epoch it was made for, so a wake-up meant for an earlier
// wait can never resume a later one. The object that owns the list guards it
// (nothing, on one hub; its lock, when shared across hubs).
#pragma once

#include <cstdint>

namespace gev::detail {

class Fiber;

struct Waiter {
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    Fiber* fiber = nullptr;
    std::uint64_t epoch = 0;
    bool linked = false;
    bool woken = false;       // set by the waker, read by the waiter after it resumes
    std::uintptr_t data = 0;  // per-primitive payload (e.g. how many permits were asked for)
};

class WaitList {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    Waiter* front() const noexcept { return head_; }
    void push_back(Waiter* w) noexcept {
        w->prev = tail_;
        w->next = nullptr;
        (tail_ ? tail_->next : head_) = w;
        tail_ = w;
        w->linked = true;
    }
    void remove(Waiter* w) noexcept {
        if (!w->linked) return;
        (w->prev ? w->prev->next : head_) = w->next;
        (w->next ? w->next->prev : tail_) = w->prev;
        w->prev = w->next = nullptr;
        w->linked = false;
    }
    Waiter* pop_front() noexcept {
        Waiter* w = head_;
        if (w) remove(w);
        return w;
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
};

}  // namespace gev::detail
