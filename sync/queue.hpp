// sync/queue.hpp — gevent.queue's Queue, LifoQueue and PriorityQueue (Python's queue
// API: put/get with block and timeout, the _nowait forms throwing Full/Empty, peek,
// qsize/empty/full, task_done/join, shutdown, and iteration until shutdown). They
// differ only in the order items come out; the waiting lives in sync/queue_core.hpp.
// Any fiber of any hub may use one queue; waits are FIFO, cancellable by kill and
// Timeout, and allocate nothing.
//
//   gev::Queue<int> q;                          // maxsize 0: unbounded
//   gev::spawn([&] { for (int i = 0; i < 3; ++i) q.put(i); q.shutdown(); });
//   for (int& x : q) std::printf("%d\n", x);    // 0 1 2, then the loop ends
#pragma once

#include "sync/queue_core.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace gev {
namespace detail {

template <class T>
class FifoItems {
public:
    using value_type = T;
    void push(T&& v) { c_.push_back(std::move(v)); }
    T pop() {
        T v = std::move(c_.front());
        c_.pop_front();
        return v;
    }
    const T& top() const { return c_.front(); }
    std::size_t size() const noexcept { return c_.size(); }
    void clear() noexcept { c_.clear(); }

private:
    std::deque<T> c_;
};

template <class T>
class LifoItems {
public:
    using value_type = T;
    void push(T&& v) { c_.push_back(std::move(v)); }
    T pop() {
        T v = std::move(c_.back());
        c_.pop_back();
        return v;
    }
    const T& top() const { return c_.back(); }
    std::size_t size() const noexcept { return c_.size(); }
    void clear() noexcept { c_.clear(); }

private:
    std::vector<T> c_;
};

// A binary heap whose top is the smallest item by Compare; equal items come out in the
// order they were put (a sequence number breaks ties), which Python's heapq does not promise.
template <class T, class Compare>
class PriorityItems {
public:
    using value_type = T;
    void push(T&& v) {
        heap_.push_back(Entry{std::move(v), seq_++});
        std::push_heap(heap_.begin(), heap_.end(), Later{cmp_});
    }
    T pop() {
        std::pop_heap(heap_.begin(), heap_.end(), Later{cmp_});
        T v = std::move(heap_.back().value);
        heap_.pop_back();
        return v;
    }
    const T& top() const { return heap_.front().value; }
    std::size_t size() const noexcept { return heap_.size(); }
    void clear() noexcept { heap_.clear(); }

private:
    struct Entry {
        T value;
        std::uint64_t seq;
    };
    // std::*_heap keep the greatest on top; "greatest" here is "comes out first".
    struct Later {
        const Compare& cmp;
        bool operator()(const Entry& a, const Entry& b) const {
            if (cmp(b.value, a.value)) return true;
            if (cmp(a.value, b.value)) return false;
            return a.seq > b.seq;
        }
    };
    std::vector<Entry> heap_;
    std::uint64_t seq_ = 0;
    [[no_unique_address]] Compare cmp_{};
};

struct FifoNames {
    static constexpr QueueNames value{"Queue", "Queue.get", "Queue.put", "Queue.peek", "Queue.join"};
};
struct LifoNames {
    static constexpr QueueNames value{"LifoQueue", "LifoQueue.get", "LifoQueue.put", "LifoQueue.peek",
                                      "LifoQueue.join"};
};
struct PriorityNames {
    static constexpr QueueNames value{"PriorityQueue", "PriorityQueue.get", "PriorityQueue.put",
                                      "PriorityQueue.peek", "PriorityQueue.join"};
};

}  // namespace detail

// First in, first out. Queue(maxsize): 0 means unbounded; with a bound, put waits
// (or throws Full) while the queue holds maxsize items.
template <class T>
class Queue : public detail::QueueCore<detail::FifoItems<T>, detail::FifoNames> {
public:
    using detail::QueueCore<detail::FifoItems<T>, detail::FifoNames>::QueueCore;
};

// gevent's JoinableQueue (before 25.4.1 only it had task_done/join; since then an alias
// of its Queue): gev::Queue has them, like Python's queue.Queue, so this is the same type.
template <class T>
using JoinableQueue = Queue<T>;

// Last in, first out.
template <class T>
class LifoQueue : public detail::QueueCore<detail::LifoItems<T>, detail::LifoNames> {
public:
    using detail::QueueCore<detail::LifoItems<T>, detail::LifoNames>::QueueCore;
};

// Smallest first by Compare (std::less: Python's PriorityQueue, e.g. of
// std::pair<int, std::string> entries); equal items in put order.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::QueueCore<detail::PriorityItems<T, Compare>, detail::PriorityNames> {
public:
    using detail::QueueCore<detail::PriorityItems<T, Compare>, detail::PriorityNames>::QueueCore;
};

}  // namespace gev
