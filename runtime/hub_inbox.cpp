// runtime/hub_inbox.cpp — the cross-thread half of the hub: claiming a park for a
// waker on another hub, pushing to the owner's lock-free inbox and rousing it only
// when it sleeps, draining the inbox on the owning thread, posts, and keeping a
// fiber's control block alive until a wake-up queued for it has left the inbox.
#include "runtime/hub.hpp"

#include "runtime/errors.hpp"

#include <sched.h>

#include <utility>

namespace gev::detail {
namespace {

void noop(void*, std::uint64_t) {}

// Claims f's park `epoch` for a waker on another thread. 0: lost; 1: won, and f's node
// is still queued from an earlier claim (the owner reads the token when it pops it);
// 2: won, and the node is the caller's to push.
int claim_remote(Fiber* f, std::uint64_t epoch) noexcept {
    std::uint64_t t = f->wake_token.load(std::memory_order_relaxed);
    do {
        if (token_epoch(t) != epoch_bits(epoch)) return 0;   // moved on, or another waker won
    } while (!f->wake_token.compare_exchange_weak(t, (t + kTokenStep) | kTokenInInbox, std::memory_order_acq_rel,
                                                  std::memory_order_relaxed));
    return (t & kTokenInInbox) != 0 ? 1 : 2;
}

}  // namespace

bool Hub::wake_remote(Fiber* f, std::uint64_t epoch) noexcept {
    int won = claim_remote(f, epoch);
    if (won == 2) {
        inbox_.push(&f->inbox_node);
        pushed();
    }
    return won != 0;
}

bool Hub::claim(Fiber* f, std::uint64_t epoch, OwedWakes& owed) noexcept {
    if (f->hub == t_hub) return wake(f, epoch);
    int won = claim_remote(f, epoch);
    if (won == 2) owed.append(&f->inbox_node);
    return won != 0;
}

void Hub::deliver(OwedWakes& owed) noexcept {
    InboxNode* n = std::exchange(owed.head, nullptr);
    owed.tail = nullptr;
    while (n != nullptr) {
        // Read before the push: from then on the node is the hub's.
        InboxNode* next = n->next.load(std::memory_order_relaxed);
        Hub* h = n->fiber->hub;
        h->inbox_.push(n);
        h->pushed();
        n = next;
    }
}

// The owner popped f's node: the bit goes, and a claim of the park f is in makes it ready
// (a claim made before f parked was seen by park() itself).
void Hub::take_wake(Fiber* f) noexcept {
    std::uint64_t t = f->wake_token.fetch_and(~kTokenInInbox, std::memory_order_acq_rel);
    if (f->state == FiberState::parked && token_epoch(t) == epoch_bits(f->epoch + 1)) make_ready(f);
}

// Ends the current park's epoch; a waker that claimed it has moved the token on already.
void Hub::next_epoch(Fiber* self) noexcept {
    std::uint64_t done = epoch_bits(self->epoch++);
    std::uint64_t t = self->wake_token.load(std::memory_order_relaxed);
    while (token_epoch(t) == done &&
           !self->wake_token.compare_exchange_weak(t, t + kTokenStep, std::memory_order_relaxed)) {
    }
}

void Hub::settle_wakeups(Fiber* f) noexcept {
    // A waker still holding (f, epoch) now loses; one that won before has pushed f or
    // is about to (it runs no blocking code between its claim and its push).
    std::uint64_t t = f->wake_token.fetch_add(kTokenStep, std::memory_order_acq_rel) + kTokenStep;
    while ((t & kTokenInInbox) != 0) {
        if (!drain_inbox()) sched_yield();
        t = f->wake_token.load(std::memory_order_acquire);
    }
}

void Hub::post(void (*fn)(void*, std::uint64_t), void* arg, std::uint64_t n) {
    auto* p = new Post;
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    inbox_.push(p);
    pushed();
}

void Hub::pushed() noexcept {
    // A stuck hub may have looked (and gone back to sleep) before it was un-counted:
    // wake it after, so that it counts itself again if it is still idle. Of the
    // producers that find it asleep, only the first makes the system call.
    bool was_stuck = unstick();
    if (was_stuck ||
        (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_acq_rel))) {
        wakeups_.fetch_add(1, std::memory_order_relaxed);
        poller_->wake();
    }
}

void Hub::let_go() noexcept {
    if (keepalive_.fetch_sub(1, std::memory_order_acq_rel) != 1 || t_hub == this) return;
    try {
        post(noop, nullptr, 0);
    } catch (...) {
        die("out of memory waking a hub whose last KeepAlive ended");
    }
}

bool Hub::drain_inbox() noexcept {
    if (!inbox_.nonempty()) return false;
    NoPark guard(*this, "a cross-hub post");
    while (InboxNode* node = inbox_.pop()) {
        if (node->fiber != nullptr) {
            take_wake(node->fiber);
            continue;
        }
        auto* p = static_cast<Post*>(node);
        p->fn(p->arg, p->n);
        delete p;
    }
    return true;
}

}  // namespace gev::detail
