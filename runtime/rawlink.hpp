// runtime/rawlink.hpp — gevent's rawlink: what a fiber's end notifies, in the order
// added (joiners, joinall's latch, Group/Pool membership, local<T> slots, and public
// links, which start a fiber of their own). A RawLink is an intrusive node in the
// fiber's one FIFO list, guarded by the fiber's `observers` lock; it lives wherever
// its owner puts it (a joiner's stack, a small heap node), so notifying allocates
// nothing. Callbacks run on the ended fiber's hub and must not park (Hub::NoPark).
#pragma once

#include <cstdint>

namespace gev::detail {

class Fiber;
struct OwedWakes;

struct RawLink {
    RawLink* prev = nullptr;
    RawLink* next = nullptr;
    bool linked = false;
    // Run under the fiber's `observers` lock, right as it is taken off the list: may
    // only claim wake-ups (delivered after the lock) and touch what that lock or its
    // own lock guards. The node's owner removes it (under the same lock) before it
    // goes away, so a removed node is never touched again.
    void (*locked)(RawLink* self, Fiber* ended, OwedWakes& owed) noexcept = nullptr;
    // Otherwise run after the lock: taking the node off the list gave it to this
    // call, which owns it from then on (frees it). Whoever takes it off first (this
    // call, or an unlink) owns it. A throw is reported through the hub's error handler.
    void (*callback)(RawLink* self, Fiber* ended) = nullptr;
};

// The FIFO of a fiber's RawLinks (guarded by its `observers` lock).
class RawLinkList {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    RawLink* front() const noexcept { return head_; }
    void push_back(RawLink* n) noexcept {
        n->prev = tail_;
        n->next = nullptr;
        (tail_ ? tail_->next : head_) = n;
        tail_ = n;
        n->linked = true;
    }
    // Takes n off the list; false when it was not on it (already notified or removed).
    bool remove(RawLink* n) noexcept {
        if (!n->linked) return false;
        (n->prev ? n->prev->next : head_) = n->next;
        (n->next ? n->next->prev : tail_) = n->prev;
        n->prev = n->next = nullptr;
        n->linked = false;
        return true;
    }
    RawLink* pop_front() noexcept {
        RawLink* n = head_;
        if (n) remove(n);
        return n;
    }

private:
    RawLink* head_ = nullptr;
    RawLink* tail_ = nullptr;
};

}  // namespace gev::detail
