// sync/pool.hpp — gevent.pool's Group and Pool: a set of fibers to spawn into, join,
// kill and map over; a Pool caps how many run at once, and a spawn on a full Pool
// parks the caller until a member ends (back-pressure, FIFO among the waiting
// spawners). A member leaves the set by itself when it ends. Fibers of any hub may
// share one Group; members run on the hub that spawned (or spawned and added) them.
//
//   gev::Pool pool(10);                                       // at most 10 at once
//   for (auto& url : urls) pool.spawn(fetch, url);            // parks while 10 run
//   pool.join();
//   for (auto& page : pool.imap(fetch, urls)) use(page);      // input order, as they finish
#pragma once

#include "runtime/clock.hpp"
#include "runtime/greenlet.hpp"
#include "sync/group_state.hpp"
#include "sync/imap.hpp"

#include <concepts>
#include <functional>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace gev {

class Group {
public:
    Group();
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;
    // Members keep running; a Group may be dropped while some of its fibers wait on it.
    ~Group() = default;

    // Starts f(args...) as a member (gevent's spawn). On a full Pool, first parks until a
    // member ends; the fiber does not exist until then.
    template <class F, class... Args>
        requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
    Greenlet<detail::spawn_result_t<F, Args...>> spawn(F&& f, Args&&... args) {
        return detail::group_spawn(st_, std::forward<F>(f), std::forward<Args>(args)...);
    }
    // gevent's apply: f(args...) in a member, waiting for its result (rethrows its
    // failure; GreenletExit if it was killed). Called from one of this group's own
    // members, f runs right here instead (as gevent does): a member waiting for a slot
    // of its own full Pool would wait forever.
    template <class F, class... Args>
        requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
    detail::spawn_result_t<F, Args...> apply(F&& f, Args&&... args) {
        if (current_is_member()) return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
        return spawn(std::forward<F>(f), std::forward<Args>(args)...).get();
    }
    // gevent's apply_async(func, args, callback): spawns f(args...) as a member and, if
    // it succeeds, calls callback(result) (callback() for void) in a fiber of its own.
    template <class F, class Callback, class... Args>
        requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
    Greenlet<detail::spawn_result_t<F, Args...>> apply_async(F&& f, Callback callback, Args&&... args) {
        auto g = spawn(std::forward<F>(f), std::forward<Args>(args)...);
        g.link_value([g, cb = std::move(callback)](const Greenlet<>&) mutable {
            if constexpr (std::is_void_v<detail::spawn_result_t<F, Args...>>) cb();
            else cb(*g.value());
        });
        return g;
    }
    // Tracks a fiber spawned elsewhere (best added before it first runs). On a full Pool,
    // waits for room, up to `timeout` (throws Full when none came; at once without
    // block). Adding a member again does nothing.
    void add(const Greenlet<>& g, bool block = true, MaybeDuration timeout = forever);
    // Stops tracking g (it keeps running); its slot frees at once.
    void discard(const Greenlet<>& g);
    bool contains(const Greenlet<>& g) const;
    // How many members (gevent's len(group)).
    std::size_t size() const;
    bool empty() const { return size() == 0; }
    // The members, oldest first.
    std::vector<Greenlet<>> greenlets() const;

    // Waits until the group is empty (at least once: members added meanwhile are waited
    // for too), up to `timeout`; says whether it became empty. With raise_error, then
    // rethrows the exception of the first member (oldest first, of those there when
    // join was called) that failed.
    bool join(MaybeDuration timeout = forever, bool raise_error = false);
    // Kills every member (members added meanwhile too); with block, waits up to
    // options.timeout for all of them to end. Never throws a member's exception.
    void kill(const KillOptions& options = {});
    // Kills g if it is a member.
    void killone(const Greenlet<>& g, const KillOptions& options = {});

    // Whether a spawn would park now (never, for a Group).
    bool full() const;
    // Slots left (SIZE_MAX for a Group: no limit).
    std::size_t free_count() const;
    // Parks until a spawn would not (up to `timeout`); returns free_count().
    std::size_t wait_available(MaybeDuration timeout = forever);

    // f(item) for each item, each in a member; the results in input order. Rethrows the
    // first failure in input order. The items are copied into the feeder fiber.
    template <class F, class Range>
    std::vector<detail::map_result_t<F, Range>> map(F&& f, Range&& items) {
        std::vector<detail::map_result_t<F, Range>> out;
        for (auto& v : imap(std::forward<F>(f), std::forward<Range>(items))) out.push_back(std::move(v));
        return out;
    }
    template <class F, class T>
    auto map(F&& f, std::initializer_list<T> items) {
        return map(std::forward<F>(f), std::vector<T>(items));
    }
    // Lazily: each result as soon as it and all before it are ready (input order).
    template <class F, class Range>
    IMap<detail::map_result_t<F, Range>> imap(F&& f, Range&& items) {
        return detail::start_imap(st_, std::forward<F>(f), std::forward<Range>(items), true);
    }
    template <class F, class T>
    auto imap(F&& f, std::initializer_list<T> items) {
        return imap(std::forward<F>(f), std::vector<T>(items));
    }
    // Lazily, in the order the tasks finish.
    template <class F, class Range>
    IMap<detail::map_result_t<F, Range>> imap_unordered(F&& f, Range&& items) {
        return detail::start_imap(st_, std::forward<F>(f), std::forward<Range>(items), false);
    }
    template <class F, class T>
    auto imap_unordered(F&& f, std::initializer_list<T> items) {
        return imap_unordered(std::forward<F>(f), std::vector<T>(items));
    }

protected:
    Group(std::size_t capacity, const char* kind);
    bool current_is_member() const;
    std::shared_ptr<detail::GroupState> st_;
};

// A Group of at most `size` members at once (size >= 1; throws std::system_error otherwise).
class Pool : public Group {
public:
    explicit Pool(std::size_t size);
    // gevent's pool.size.
    std::size_t capacity() const noexcept;
};

}  // namespace gev
