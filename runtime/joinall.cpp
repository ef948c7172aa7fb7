// runtime/joinall.cpp — one wait over many fibers: a Waiter per fiber, all naming the
// same park, so whichever ends first resumes the caller.
#include "runtime/joinall.hpp"

#include "runtime/hub.hpp"

#include <algorithm>
#include <mutex>

namespace gev {
namespace {

using detail::Fiber;
using detail::FiberState;

bool ended(const Greenlet<>& g) { return g.ready(); }

// Registers one waiter per fiber still running; unregisters them on destruction.
class WaitAll {
public:
    WaitAll(const std::vector<Greenlet<>>& gs, const std::vector<bool>& taken) : nodes_(gs.size()), gs_(gs) {
        Fiber* self = detail::current_fiber();
        for (std::size_t i = 0; i < gs.size(); ++i) {
            if (taken[i]) continue;
            Fiber* f = gs[i].fiber();
            std::lock_guard lock(f->observers);
            if (f->ended.load(std::memory_order_relaxed)) continue;
            nodes_[i].fiber = self;
            nodes_[i].epoch = self->epoch;
            nodes_[i].data = detail::next_observer_seq();   // notified in order with the links
            f->joiners.push_back(&nodes_[i]);
        }
    }
    ~WaitAll() {
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].fiber == nullptr) continue;
            Fiber* f = gs_[i].fiber();
            std::lock_guard lock(f->observers);
            f->joiners.remove(&nodes_[i]);
        }
    }
    void rearm(std::uint64_t epoch) {
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].fiber == nullptr) continue;
            std::lock_guard lock(gs_[i].fiber()->observers);
            nodes_[i].epoch = epoch;
        }
    }

private:
    std::vector<detail::Waiter> nodes_;
    const std::vector<Greenlet<>>& gs_;
};

}  // namespace

std::vector<Greenlet<>> joinall(const std::vector<Greenlet<>>& gs, MaybeDuration timeout, bool raise_error,
                                std::optional<std::size_t> count) {
    std::size_t want = std::min(count.value_or(gs.size()), gs.size());
    std::vector<Greenlet<>> done;
    std::vector<bool> taken(gs.size(), false);
    // Collects newly ended fibers in the order they ended; true when enough have.
    auto collect = [&] {
        std::vector<std::size_t> fresh;
        for (std::size_t i = 0; i < gs.size(); ++i)
            if (!taken[i] && ended(gs[i])) fresh.push_back(i);
        std::stable_sort(fresh.begin(), fresh.end(), [&](std::size_t a, std::size_t b) {
            return gs[a].fiber()->death_seq < gs[b].fiber()->death_seq;
        });
        for (std::size_t i : fresh) {
            taken[i] = true;
            done.push_back(gs[i]);
            if (raise_error && gs[i].exception()) std::rethrow_exception(gs[i].exception());
            if (done.size() >= want) return true;
        }
        return done.size() >= want;
    };
    for (std::size_t i = 0; i < gs.size(); ++i) {   // already dead: argument order
        if (ended(gs[i]) && done.size() < want) {
            taken[i] = true;
            done.push_back(gs[i]);
            if (raise_error && gs[i].exception()) std::rethrow_exception(gs[i].exception());
        }
    }
    if (done.size() >= want || detail::only_looks(timeout)) return done;

    detail::Hub& hub = detail::Hub::require("gev::joinall");
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    Fiber* self = detail::current_fiber();
    WaitAll wait(gs, taken);
    // A fiber of another hub that ended after the look above but before its waiter was
    // registered left no waiter to wake us: look again before the first park.
    if (collect()) return done;
    for (;;) {
        detail::Wake w = hub.park(detail::WaitReason{detail::WaitKind::object, "joinall", &gs}, deadline);
        // Re-arm before looking: a fiber that ends on another hub after the look but
        // before a late re-arm would wake us with a stale epoch, and we would sleep forever.
        wait.rearm(self->epoch);
        if (collect() || w == detail::Wake::timed_out) return done;
    }
}

void killall(const std::vector<Greenlet<>>& gs, const KillOptions& options) {
    for (const Greenlet<>& g : gs) g.kill(KillOptions{options.exception, false, forever});
    if (options.block && detail::current_fiber() != detail::root_fiber()) joinall(gs, options.timeout);
}

}  // namespace gev
