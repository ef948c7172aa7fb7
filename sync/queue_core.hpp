// sync/queue_core.hpp — the machinery shared by Queue, LifoQueue and PriorityQueue
// (internal): one lock (a StateWord) over the items and four wait lists (getters, putters,
// peekers, joiners), so fibers on any hub may share a queue. Items never leave the
// container until a getter returns them: a put that finds getters waiting grants the
// first one an item (item_grants_ counts the promised ones, which nobody else may
// take), and a get that frees a slot grants it to the first waiting putter
// (slot_grants_). A granted waiter that is cancelled hands its grant to the next one,
// so a Timeout or kill loses no item and wake-ups stay FIFO.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/hub_api.hpp"
#include "sync/errors.hpp"
#include "sync/wait_queue.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

namespace gev::detail {

// Errors and broken invariants of the queue family (queue.cpp).
[[noreturn]] void throw_full(const char* kind, const char* op);
[[noreturn]] void throw_empty(const char* kind, const char* op);
[[noreturn]] void throw_shut_down(const char* kind, const char* op);
[[noreturn]] void throw_too_many_task_done(const char* kind);

// Operation names, for errors and LoopExit reports ("Queue.get 0x...").
struct QueueNames {
    const char* kind;   // "Queue"
    const char* get;    // "Queue.get"
    const char* put;
    const char* peek;
    const char* join;
};

// Iterates a queue or channel by get() until it throws QueueShutDown.
template <class Q>
class DrainIterator {
public:
    using value_type = typename Q::value_type;
    using difference_type = std::ptrdiff_t;
    explicit DrainIterator(Q* q) : q_(q) { ++*this; }
    value_type& operator*() const { return *current_; }
    DrainIterator& operator++() {
        current_.reset();
        try {
            current_.emplace(q_->get());
        } catch (const QueueShutDown&) {
        }
        return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const DrainIterator& it, std::default_sentinel_t) noexcept { return !it.current_; }

private:
    Q* q_;
    mutable std::optional<value_type> current_;
};

inline constexpr std::uintptr_t kGranted = 1;   // Waiter::data of a waiter given an item or a slot

// Container is a policy with value_type, push(T&&), pop() -> T, top() -> const T&,
// size(), clear(); `Names` supplies the QueueNames (a type, so it is a constant).
template <class Container, class Names>
class QueueCore {
public:
    using value_type = typename Container::value_type;

    explicit QueueCore(std::size_t maxsize = 0) : maxsize_(maxsize) {}
    QueueCore(const QueueCore&) = delete;
    QueueCore& operator=(const QueueCore&) = delete;
    ~QueueCore() {
        if (!getters_.empty() || !putters_.empty() || !peekers_.empty() || !joiners_.empty())
            die_with_waiters(names().kind, this);
    }

    // Adds an item. With block, waits for a free slot (up to `timeout`); throws Full when
    // there is none (at once without block), QueueShutDown after shutdown(). A put that
    // throws has not added the item.
    void put(value_type item, bool block = true, MaybeDuration timeout = forever) {
        SyncLock lock(mu_);
        Deadline deadline;
        for (;;) {
            if (shutdown_) throw_shut_down(names().kind, "put");
            if (has_room()) break;
            if (!block || only_looks(timeout)) throw_full(names().kind, block ? "put" : "put_nowait");
            if (!wait(lock, putters_, names().put, timeout, deadline, slot_grants_)) throw_full(names().kind, "put");
        }
        items_.push(std::move(item));
        ++unfinished_;
        dispatch();
    }
    void put(value_type item, MaybeDuration timeout) { put(std::move(item), true, timeout); }
    void put_nowait(value_type item) { put(std::move(item), false); }

    // Removes and returns an item. With block, waits for one (up to `timeout`); throws
    // Empty when there is none, QueueShutDown once a shut-down queue is empty.
    value_type get(bool block = true, MaybeDuration timeout = forever) {
        SyncLock lock(mu_);
        Deadline deadline;
        for (;;) {
            if (items_.size() > item_grants_) break;
            if (shutdown_) throw_shut_down(names().kind, "get");
            if (!block || only_looks(timeout)) throw_empty(names().kind, block ? "get" : "get_nowait");
            if (!wait(lock, getters_, names().get, timeout, deadline, item_grants_)) throw_empty(names().kind, "get");
        }
        value_type v = items_.pop();
        dispatch();
        return v;
    }
    value_type get(MaybeDuration timeout) { return get(true, timeout); }
    value_type get_nowait() { return get(false); }

    // The item get() would return next, left in place (a copy). Waits like get().
    value_type peek(bool block = true, MaybeDuration timeout = forever) {
        SyncLock lock(mu_);
        Deadline deadline;
        for (;;) {
            if (items_.size() > 0) return items_.top();
            if (shutdown_) throw_shut_down(names().kind, "peek");
            if (!block || only_looks(timeout)) throw_empty(names().kind, block ? "peek" : "peek_nowait");
            Hub& hub = deadline.fix(names().peek, timeout);
            Waiter w;
            if (park_until_woken(hub, lock, peekers_, w, reason(names().peek), deadline.ns) == Wake::timed_out)
                throw_empty(names().kind, "peek");
        }
    }
    value_type peek(MaybeDuration timeout) { return peek(true, timeout); }
    value_type peek_nowait() { return peek(false); }

    // Python's task tracking: every put() adds an unfinished task, task_done() ends one
    // (throws std::system_error when none is left); join() waits until none is left and
    // says whether that happened within the timeout.
    void task_done() {
        SyncLock lock(mu_);
        if (unfinished_ == 0) throw_too_many_task_done(names().kind);
        if (--unfinished_ == 0) unpark_all(joiners_);
    }
    bool join(MaybeDuration timeout = forever) {
        SyncLock lock(mu_);
        Deadline deadline;
        while (unfinished_ > 0) {
            if (only_looks(timeout)) return false;
            Hub& hub = deadline.fix(names().join, timeout);
            Waiter w;
            if (park_until_woken(hub, lock, joiners_, w, reason(names().join), deadline.ns) == Wake::timed_out)
                return unfinished_ == 0;
        }
        return true;
    }

    // Python 3.13's shutdown: puts fail from now on, and so do gets once the items are
    // gone; blocked putters (and getters, when nothing is left) are released with
    // QueueShutDown. With `immediate`, the items are dropped (each ends its task) and
    // join() returns at once.
    void shutdown(bool immediate = false) {
        SyncLock lock(mu_);
        shutdown_ = true;
        if (immediate) {
            std::size_t n = items_.size();
            items_.clear();
            unfinished_ = unfinished_ > n ? unfinished_ - n : 0;
            unpark_all(joiners_);
        }
        dispatch();   // items still there go to the getters that wait
        unpark_all(getters_);
        unpark_all(putters_);
        unpark_all(peekers_);
    }
    bool is_shutdown() const {
        SyncLock lock(mu_);
        return shutdown_;
    }

    std::size_t qsize() const {
        SyncLock lock(mu_);
        return items_.size();
    }
    bool empty() const { return qsize() == 0; }
    bool full() const { return maxsize_ != 0 && qsize() >= maxsize_; }
    std::size_t maxsize() const noexcept { return maxsize_; }
    std::size_t unfinished_tasks() const {
        SyncLock lock(mu_);
        return unfinished_;
    }

    // `for (auto& item : q)`: get() after get(), until the queue is shut down and empty.
    DrainIterator<QueueCore> begin() { return DrainIterator<QueueCore>(this); }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    static constexpr QueueNames names() noexcept { return Names::value; }
    WaitReason reason(const char* what) const noexcept { return WaitReason{WaitKind::object, what, this}; }
    bool has_room() const noexcept { return maxsize_ == 0 || items_.size() + slot_grants_ < maxsize_; }

    // Parks on `list` for an item or a slot; false when the timeout ran out. A grant
    // received goes back to the count `grants`, for the caller's re-check to use.
    bool wait(SyncLock& lock, WaitList& list, const char* what, const MaybeDuration& timeout, Deadline& deadline,
              std::size_t& grants) {
        Hub& hub = deadline.fix(what, timeout);
        Waiter w;
        w.data = 0;
        Wake r = park_until_woken(hub, lock, list, w, reason(what), deadline.ns, [&] {
            if (w.data == kGranted) {   // cancelled after being given a grant: the next one gets it
                --grants;
                dispatch();
            }
        });
        if (r == Wake::timed_out) return false;
        if (w.data == kGranted) --grants;
        return true;
    }

    // Hands items to waiting getters and free slots to waiting putters (lock held).
    void dispatch() noexcept {
        if (!getters_.empty() || !putters_.empty() || !peekers_.empty()) grant_waiters();
    }
    [[gnu::noinline]] void grant_waiters() noexcept {
        while (!getters_.empty() && items_.size() > item_grants_) {
            ++item_grants_;
            unpark_first(getters_, kGranted);
        }
        while (!putters_.empty() && !shutdown_ && has_room()) {
            ++slot_grants_;
            unpark_first(putters_, kGranted);
        }
        if (!peekers_.empty() && items_.size() > 0) unpark_all(peekers_);
    }

    mutable StateWord mu_;   // only its lock
    Container items_;
    std::size_t maxsize_;
    std::size_t item_grants_ = 0;   // items promised to woken getters
    std::size_t slot_grants_ = 0;   // free slots promised to woken putters
    std::size_t unfinished_ = 0;
    bool shutdown_ = false;
    WaitList getters_, putters_, peekers_, joiners_;
};

}  // namespace gev::detail
