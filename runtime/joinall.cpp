// runtime/joinall.cpp — one wait over many fibers: a latch (the fibers that ended, in
// order, and the one waiter) that a rawlink on each member counts down, waking the
// caller once, when enough have ended (or one failed, with raise_error).
#include "runtime/joinall.hpp"

#include "runtime/hub.hpp"
#include "runtime/spinlock.hpp"

#include <algorithm>
#include <mutex>

namespace gev {
namespace {

using detail::Fiber;
using detail::OwedWakes;
using detail::RawLink;

bool failed(const Fiber* f) noexcept { return f->error && !f->ended_by_exit; }

struct Latch {
    detail::SpinLock mu;                // a member's notification (any hub) and the caller
    std::vector<std::size_t> order;     // members (by index) in the order they ended
    std::size_t want = 0;               // wake once this many have ended
    bool raise_error = false;           // or once one of them failed
    bool woken = false;                 // the caller's park was claimed
    Fiber* fiber = nullptr;             // the caller
    std::uint64_t epoch = 0;            // the park to claim
    bool satisfied(bool failure) const noexcept { return order.size() >= want || (raise_error && failure); }
};

struct MemberLink : RawLink {
    Latch* latch = nullptr;
    std::size_t index = 0;
    bool fired = false;   // under latch->mu: the member has taken it off its list
};

// Runs under the member's lock as it ends; the last touch of the latch is its unlock.
void count_down(RawLink* r, Fiber* ended, OwedWakes& owed) noexcept {
    auto* m = static_cast<MemberLink*>(r);
    Latch& l = *m->latch;
    std::lock_guard lock(l.mu);
    m->fired = true;
    l.order.push_back(m->index);   // reserved: never allocates
    if (!l.woken && l.satisfied(failed(ended))) {
        l.woken = true;
        detail::Hub::claim(l.fiber, l.epoch, owed);
    }
}

// One rawlink per member still running; those not notified are taken off at the end.
class WaitAll {
public:
    WaitAll(const std::vector<Greenlet<>>& gs, const std::vector<bool>& taken, Latch& latch)
        : nodes_(gs.size()), gs_(gs), latch_(latch) {
        latch.order.reserve(gs.size());
        for (std::size_t i = 0; i < gs.size(); ++i) {
            if (taken[i]) continue;
            nodes_[i].latch = &latch;
            nodes_[i].index = i;
            nodes_[i].locked = count_down;
            if (detail::add_rawlink(gs[i].fiber(), &nodes_[i])) continue;
            std::lock_guard lock(latch.mu);   // ended since the first look (another hub)
            nodes_[i].fired = true;
            latch.order.push_back(i);
        }
    }
    ~WaitAll() {
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].latch == nullptr) continue;
            bool fired;
            {
                std::lock_guard lock(latch_.mu);
                fired = nodes_[i].fired;
            }
            if (!fired) detail::remove_rawlink(gs_[i].fiber(), &nodes_[i]);
        }
    }
    WaitAll(const WaitAll&) = delete;
    WaitAll& operator=(const WaitAll&) = delete;

private:
    std::vector<MemberLink> nodes_;
    const std::vector<Greenlet<>>& gs_;
    Latch& latch_;
};

// Whether the latch is satisfied; if not, re-arms it for the park `epoch` names.
bool settled_or_rearm(Latch& l, const std::vector<Greenlet<>>& gs, std::uint64_t epoch) {
    std::lock_guard lock(l.mu);
    bool failure = false;
    if (l.raise_error)
        for (std::size_t i : l.order) failure = failure || failed(gs[i].fiber());
    if (l.satisfied(failure)) return true;
    l.woken = false;
    l.epoch = epoch;
    return false;
}

}  // namespace

std::vector<Greenlet<>> joinall(const std::vector<Greenlet<>>& gs, MaybeDuration timeout, bool raise_error,
                                std::optional<std::size_t> count) {
    std::size_t want = std::min(count.value_or(gs.size()), gs.size());
    std::vector<Greenlet<>> done;
    std::vector<bool> taken(gs.size(), false);
    auto take = [&](std::size_t i) {
        taken[i] = true;
        done.push_back(gs[i]);
        if (raise_error && gs[i].exception()) std::rethrow_exception(gs[i].exception());
    };
    for (std::size_t i = 0; i < gs.size(); ++i)   // already dead: argument order
        if (gs[i].ready() && done.size() < want) take(i);
    if (done.size() >= want || detail::only_looks(timeout)) return done;

    detail::Hub& hub = detail::Hub::require("gev::joinall");
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    Latch latch;
    latch.want = want - done.size();
    latch.raise_error = raise_error;
    latch.fiber = detail::current_fiber();
    latch.epoch = latch.fiber->epoch;
    {
        WaitAll wait(gs, taken, latch);
        while (!settled_or_rearm(latch, gs, latch.fiber->epoch)) {
            if (hub.park(detail::WaitReason{detail::WaitKind::object, "joinall", &gs}, deadline) ==
                detail::Wake::timed_out)
                break;
        }
    }
    // Every notification is over: the order is final. Then in the order they ended.
    for (std::size_t i : latch.order)
        if (done.size() < want) take(i);
    return done;
}

void killall(const std::vector<Greenlet<>>& gs, const KillOptions& options) {
    for (const Greenlet<>& g : gs) g.kill(KillOptions{options.exception, false, forever});
    if (options.block && detail::current_fiber() != detail::root_fiber()) joinall(gs, options.timeout);
}

}  // namespace gev
