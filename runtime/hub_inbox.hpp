// runtime/hub_inbox.hpp — a hub's inbox: an intrusive lock-free MPSC queue (Vyukov's,
// with a stub node). Any thread pushes; only the owning hub pops. FIFO per producer.
// Its nodes are a fiber's own wake-up node (a cross-hub wake costs no allocation) or a
// posted callback. Also the wake token that lets one waker, and only one, claim a park.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gev::detail {

class Fiber;

struct InboxNode {
    std::atomic<InboxNode*> next{nullptr};
    Fiber* fiber = nullptr;   // a wake-up for this fiber; nullptr: a posted callback
};

// Wake-ups a waker has claimed under a lock and pushes once it has unlocked
// (Hub::claim/deliver), chained through the fibers' own nodes, oldest first.
struct OwedWakes {
    InboxNode* head = nullptr;
    InboxNode* tail = nullptr;
    void append(InboxNode* n) noexcept {
        n->next.store(nullptr, std::memory_order_relaxed);
        if (tail != nullptr) tail->next.store(n, std::memory_order_relaxed);
        else head = n;
        tail = n;
    }
};

// A fiber's wake token: (park epoch << 1) | kTokenInInbox. A waker claims the park of
// epoch E by moving the token from E to E + 1 (compare-and-swap), so of a timer, a kill
// and wakers on other hubs exactly one wins. A winner on another hub also sets
// kTokenInInbox and pushes the fiber's node; the owning hub clears the bit when it pops
// the node. A fiber never ends while the bit is set (Hub::settle_wakeups), which is why
// the queued node needs no reference count.
constexpr std::uint64_t kTokenInInbox = 1;
constexpr std::uint64_t kTokenStep = 2;
constexpr std::uint64_t token_epoch(std::uint64_t token) noexcept { return token >> 1; }
constexpr std::uint64_t epoch_bits(std::uint64_t epoch) noexcept { return epoch & (~std::uint64_t{0} >> 1); }

class Inbox {
public:
    Inbox() noexcept : head_(&stub_), tail_(&stub_) {}
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    // Any thread. The exchange is sequentially consistent: the hub stores its sleeping
    // word before it looks at nonempty(), the producer pushes before it reads that word.
    void push(InboxNode* n) noexcept {
        n->next.store(nullptr, std::memory_order_relaxed);
        InboxNode* prev = tail_.exchange(n, std::memory_order_seq_cst);
        prev->next.store(n, std::memory_order_release);
    }

    // Owning thread: the oldest node, or nullptr when empty or when the next push is
    // half done (nonempty() stays true until it completes).
    InboxNode* pop() noexcept {
        InboxNode* h = head_;
        InboxNode* next = h->next.load(std::memory_order_acquire);
        if (h == &stub_) {
            if (next == nullptr) return nullptr;
            head_ = h = next;
            next = next->next.load(std::memory_order_acquire);
        }
        if (next != nullptr) {
            head_ = next;
            return h;
        }
        if (h != tail_.load(std::memory_order_acquire)) return nullptr;
        push(&stub_);
        next = h->next.load(std::memory_order_acquire);
        if (next == nullptr) return nullptr;
        head_ = next;
        return h;
    }

    // Owning thread: something was pushed and not popped yet (a half-done push included).
    bool nonempty() const noexcept { return head_ != &stub_ || tail_.load(std::memory_order_seq_cst) != &stub_; }

    // Owning thread, in a forked child only: empty again. A push another thread of the
    // parent had half done stays behind with that thread.
    void reset() noexcept {
        stub_.next.store(nullptr, std::memory_order_relaxed);
        head_ = &stub_;
        tail_.store(&stub_, std::memory_order_relaxed);
    }

    // Owning thread, for gev::stats: the nodes queued now (those fully pushed).
    std::size_t depth() const noexcept {
        std::size_t n = 0;
        for (const InboxNode* p = head_; p != nullptr; p = p->next.load(std::memory_order_acquire))
            if (p != &stub_) ++n;
        return n;
    }

private:
    InboxNode stub_;
    InboxNode* head_;                  // owning thread only
    std::atomic<InboxNode*> tail_;
};

}  // namespace gev::detail
