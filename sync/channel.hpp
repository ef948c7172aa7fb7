// sync/channel.hpp — gevent.queue.Channel: a rendezvous with no buffer. put() waits
// until a getter has taken its item; get() waits until a putter offers one. The item
// moves straight from one fiber's stack to the other's, under the channel's lock,
// so fibers of any hub may share a channel. A getter that was handed an item and is
// then cancelled (kill, Timeout) puts it back at the front for the next getter: no
// item is lost. A putter whose item was taken has delivered it, even if a kill or
// Timeout raises in it at the same moment.
#pragma once

#include "sync/queue_core.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace gev {

template <class T>
class Channel {
public:
    using value_type = T;

    Channel() = default;
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel() {
        if (!getters_.empty() || !putters_.empty()) detail::die_with_waiters("Channel", this);
    }

    // Hands `item` to a getter: at once if one waits, else (with block) waits up to
    // `timeout` for one. Throws Full when none came (at once without block),
    // QueueShutDown after shutdown(). A put that throws Full or QueueShutDown did not deliver.
    void put(T item, bool block = true, MaybeDuration timeout = forever) {
        detail::Wakeup wk;   // declared first: wakes a getter of another hub after unlocking
        detail::SyncLock lock(mu_);
        if (shutdown_) detail::throw_shut_down("Channel", "put");
        if (give_to_getter(item, wk)) return;
        if (!block || (timeout && detail::only_looks(timeout))) detail::throw_full("Channel", block ? "put" : "put_nowait");
        detail::Deadline deadline;
        detail::Hub& hub = deadline.fix("Channel.put", timeout);
        PutSlot slot{&item, false};
        detail::Waiter w;
        w.data = reinterpret_cast<std::uintptr_t>(&slot);
        if (!detail::park_for_grant(hub, lock, putters_, w, reason("Channel.put"), deadline.ns, [] {}))
            detail::throw_full("Channel", "put");
        if (!slot.taken) detail::throw_shut_down("Channel", "put");
    }
    void put(T item, MaybeDuration timeout) { put(std::move(item), true, timeout); }
    void put_nowait(T item) { put(std::move(item), false); }

    // Takes an item from a putter: at once if one waits, else (with block) waits up to
    // `timeout`. Throws Empty when none came, QueueShutDown once shut down and drained.
    T get(bool block = true, MaybeDuration timeout = forever) {
        detail::Wakeup wk;   // declared first: wakes a putter of another hub after unlocking
        detail::SyncLock lock(mu_);
        if (!returned_.empty()) {
            T v = std::move(returned_.front());
            returned_.pop_front();
            return v;
        }
        if (detail::Waiter* p = putters_.front()) {
            auto* s = reinterpret_cast<PutSlot*>(p->data);
            T v = std::move(*s->item);
            s->taken = true;
            detail::grant_front(putters_, wk);
            return v;
        }
        if (shutdown_) detail::throw_shut_down("Channel", "get");
        if (!block || (timeout && detail::only_looks(timeout))) detail::throw_empty("Channel", block ? "get" : "get_nowait");
        detail::Deadline deadline;
        detail::Hub& hub = deadline.fix("Channel.get", timeout);
        GetSlot slot;
        detail::Waiter w;
        w.data = reinterpret_cast<std::uintptr_t>(&slot);
        bool granted = detail::park_for_grant(hub, lock, getters_, w, reason("Channel.get"), deadline.ns, [&] {
            if (!slot.value) return;   // released by shutdown: nothing to hand on
            returned_.push_front(std::move(*slot.value));
            pass_returned();
        });
        if (!granted) detail::throw_empty("Channel", "get");
        if (!slot.value) detail::throw_shut_down("Channel", "get");
        return std::move(*slot.value);
    }
    T get(MaybeDuration timeout) { return get(true, timeout); }
    T get_nowait() { return get(false); }

    // Putters and getters stop waiting (QueueShutDown); items handed back by cancelled
    // getters can still be taken, then get() throws QueueShutDown.
    void shutdown() {
        detail::SyncLock lock(mu_);
        shutdown_ = true;
        detail::unpark_all(putters_);
        detail::unpark_all(getters_);
    }
    bool is_shutdown() const {
        detail::SyncLock lock(mu_);
        return shutdown_;
    }

    // Whether a getter / a putter waits now; putters waiting minus getters waiting.
    bool getting() const {
        detail::SyncLock lock(mu_);
        return !getters_.empty();
    }
    bool putting() const {
        detail::SyncLock lock(mu_);
        return !putters_.empty();
    }
    std::ptrdiff_t balance() const {
        detail::SyncLock lock(mu_);
        return count(putters_) - count(getters_) + static_cast<std::ptrdiff_t>(returned_.size());
    }

    // `for (auto& item : ch)`: get() after get(), until shutdown.
    detail::DrainIterator<Channel> begin() { return detail::DrainIterator<Channel>(this); }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    struct PutSlot {
        T* item;
        bool taken;
    };
    struct GetSlot {
        std::optional<T> value;
    };

    detail::WaitReason reason(const char* what) const noexcept {
        return detail::WaitReason{detail::WaitKind::object, what, this};
    }
    static std::ptrdiff_t count(const detail::WaitList& l) noexcept {
        std::ptrdiff_t n = 0;
        for (const detail::Waiter* w = l.front(); w != nullptr; w = w->next) ++n;
        return n;
    }
    // With the lock held: moves `item` into the first waiting getter's slot and grants
    // it (the wake-up goes in `wk`, or at once when there is none to keep it).
    bool give_to_getter(T& item, detail::Wakeup& wk) {
        detail::Waiter* g = getters_.front();
        if (g == nullptr) return false;
        reinterpret_cast<GetSlot*>(g->data)->value.emplace(std::move(item));
        detail::grant_front(getters_, wk);
        return true;
    }
    void pass_returned() noexcept {
        while (!returned_.empty() && !getters_.empty()) {
            detail::Wakeup now;   // under the lock: the owner may go once its waiters do
            give_to_getter(returned_.front(), now);
            returned_.pop_front();
        }
    }

    mutable detail::StateWord mu_;   // only its lock
    detail::WaitList getters_, putters_;
    std::deque<T> returned_;   // items given to getters that were cancelled before taking them
    bool shutdown_ = false;
};

}  // namespace gev
