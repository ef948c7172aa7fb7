// sync/imap.hpp — gevent's Group.imap / imap_unordered: f applied to each item in a
// member fiber (at most a Pool's size at once), the results read lazily. A feeder
// fiber walks the items and spawns through the group, so back-pressure parks the
// feeder, never the reader; each task sends its result (or what it threw) to a
// Queue, and the reader takes them in completion order, or buffers them back into
// input order. Tasks that are still running when an IMap is dropped go on; the
// feeder is killed.
#pragma once

#include "runtime/errors.hpp"
#include "sync/group_state.hpp"
#include "sync/queue.hpp"

#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace gev {
namespace detail {

template <class R>
struct MapResult {
    std::size_t index = 0;   // input position; for the last message, how many tasks were spawned
    std::optional<R> value;
    std::exception_ptr error;
    bool last = false;       // sent by the feeder once every item has its task
};

template <class R>
using MapQueue = Queue<MapResult<R>>;

}  // namespace detail

// A range over the results of Group::imap / imap_unordered, read once, in a single fiber.
// Reading a position whose task threw rethrows that exception; ++ then goes on with the
// next one. An error from walking the items is rethrown after the results of the items
// that came before it.
template <class R>
class IMap {
public:
    IMap(std::shared_ptr<detail::MapQueue<R>> results, Greenlet<> feeder, bool ordered)
        : results_(std::move(results)), feeder_(std::move(feeder)), ordered_(ordered) {}
    IMap(IMap&&) noexcept = default;
    IMap& operator=(IMap&&) = delete;
    ~IMap() {
        if (feeder_ && !feeder_.ready()) feeder_.kill(KillOptions{nullptr, false, forever});
    }

    class iterator {
    public:
        using value_type = R;
        using difference_type = std::ptrdiff_t;
        explicit iterator(IMap* m) : m_(m) {}
        R& operator*() const { return *m_->current_; }
        iterator& operator++() {
            m_->advance();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

    private:
        bool at_end() const noexcept { return m_->done_; }
        IMap* m_;
    };

    // Waits for the first result (and rethrows it if its task failed).
    iterator begin() {
        if (!started_) {
            started_ = true;
            advance();
        }
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    static constexpr std::size_t kUnknown = std::numeric_limits<std::size_t>::max();

    void advance() {
        current_.reset();
        for (;;) {
            if (delivered_ == total_) {
                done_ = true;
                if (feeder_error_) std::rethrow_exception(std::exchange(feeder_error_, nullptr));
                return;
            }
            detail::MapResult<R> r;
            if (auto it = early_.find(next_); ordered_ && it != early_.end()) {
                r = std::move(it->second);
                early_.erase(it);
            } else {
                r = results_->get();
                if (r.last) {
                    total_ = r.index;
                    feeder_error_ = r.error;
                    continue;
                }
                if (ordered_ && r.index != next_) {
                    early_.emplace(r.index, std::move(r));
                    continue;
                }
            }
            ++delivered_;
            ++next_;
            if (r.error) std::rethrow_exception(r.error);
            current_ = std::move(r.value);
            return;
        }
    }

    std::shared_ptr<detail::MapQueue<R>> results_;
    Greenlet<> feeder_;
    bool ordered_;
    bool started_ = false;
    bool done_ = false;
    std::size_t next_ = 0;        // ordered: the input position to yield next
    std::size_t delivered_ = 0;
    std::size_t total_ = kUnknown;
    std::exception_ptr feeder_error_;
    std::map<std::size_t, detail::MapResult<R>> early_;   // ordered: results ahead of their turn
    std::optional<R> current_;
};

namespace detail {

template <class F, class Range>
using map_result_t = std::decay_t<std::invoke_result_t<std::decay_t<F>&, std::ranges::range_reference_t<Range>>>;

// Starts the feeder: it spawns one member task per item, in input order.
template <class F, class Range>
IMap<map_result_t<F, Range>> start_imap(const std::shared_ptr<GroupState>& st, F&& f, Range&& items, bool ordered) {
    using R = map_result_t<F, Range>;
    static_assert(!std::is_void_v<R>, "imap/map need a function that returns a value");
    using Item = std::remove_cvref_t<std::ranges::range_reference_t<Range>>;
    auto results = std::make_shared<MapQueue<R>>();
    auto fn = std::make_shared<std::decay_t<F>>(std::forward<F>(f));
    auto task = [results, fn](std::size_t index, Item& item) {
        MapResult<R> r;
        r.index = index;
        try {
            r.value.emplace(std::invoke(*fn, item));
        } catch (const GreenletExit&) {   // killed: the reader sees it at this position
            r.error = std::current_exception();
            results->put(std::move(r));
            throw;
        } catch (...) {
            r.error = std::current_exception();
        }
        results->put(std::move(r));
    };
    auto feeder = gev::spawn([st, results, task, items = std::forward<Range>(items)]() mutable {
        std::size_t n = 0;
        try {
            for (auto&& item : items) {
                group_spawn(st, [task, n](Item x) { task(n, x); }, Item(item));
                ++n;
            }
        } catch (const GreenletExit&) {   // the IMap was dropped, or the feeder killed: end quietly
            results->put(MapResult<R>{n, std::nullopt, nullptr, true});
            throw;
        } catch (...) {
            results->put(MapResult<R>{n, std::nullopt, std::current_exception(), true});
            return;
        }
        results->put(MapResult<R>{n, std::nullopt, nullptr, true});
    });
    return IMap<R>(std::move(results), std::move(feeder), ordered);
}

}  // namespace detail
}  // namespace gev
