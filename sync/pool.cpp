// sync/pool.cpp — membership, slots and the waits of Group and Pool. Every function
// takes the group's lock for a few steps and never parks while holding it
// (park_until_woken releases it); wake-ups go through the owners' hubs.
#include "sync/pool.hpp"

#include "runtime/errors.hpp"
#include "runtime/hub.hpp"
#include "sync/errors.hpp"
#include "sync/wait_queue.hpp"

#include <limits>
#include <memory>
#include <new>
#include <set>
#include <string>

namespace gev {
namespace detail {
namespace {

constexpr std::uintptr_t kSlot = 1;   // Waiter::data of a spawner given a slot

bool room(const GroupState& st) noexcept {
    return st.capacity == 0 || st.members.size() + st.reserved + st.grants < st.capacity;
}

WaitReason reason(const GroupState& st, const char* what) noexcept {
    return WaitReason{WaitKind::object, what, &st};
}

// After members left or a slot came back: free slots go to waiting spawners, FIFO,
// and everyone watching re-checks. Lock held.
void changed(GroupState& st) noexcept {
    if (st.members.empty()) ++st.emptied;
    while (!st.slot_waiters.empty() && room(st)) {
        ++st.grants;
        unpark_first(st.slot_waiters, kSlot);
    }
    unpark_all(st.watchers);
}

// Drops the members that have ended but whose rawlink has not run yet (its callback
// then finds nothing to do). Lock held.
void reap(GroupState& st) noexcept {
    bool any = false;
    for (auto it = st.members.begin(); it != st.members.end();) {
        if (it->second.greenlet.ready()) {
            it = st.members.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    if (any) changed(st);
}

[[noreturn]] void throw_no_slot(const GroupState& st, const char* op) {
    throw Full(std::string("gev::") + op + ": the " + st.kind + " is full");
}

// Parks until cond(st) holds (re-checked on every change) or the timeout; says whether it holds.
template <class Cond>
bool wait_until(GroupState& st, const char* what, MaybeDuration timeout, Cond&& cond) {
    SyncLock lock(st.mu);
    Deadline deadline;
    for (;;) {
        reap(st);
        if (cond()) return true;
        if (only_looks(timeout)) return false;
        Hub& hub = deadline.fix(what, timeout);
        Waiter w;
        if (park_until_woken(hub, lock, st.watchers, w, reason(st, what), deadline.ns) == Wake::timed_out) {
            reap(st);
            return cond();
        }
    }
}

}  // namespace

void group_acquire(GroupState& st, bool block, MaybeDuration timeout, const char* op) {
    SyncLock lock(st.mu);
    Deadline deadline;
    for (;;) {
        if (!room(st)) reap(st);
        if (room(st)) {
            ++st.reserved;
            return;
        }
        if (!block || only_looks(timeout)) throw_no_slot(st, op);
        Hub& hub = deadline.fix(op, timeout);
        Waiter w;
        w.data = 0;
        Wake r = park_until_woken(hub, lock, st.slot_waiters, w, reason(st, op), deadline.ns, [&] {
            if (w.data == kSlot) {   // cancelled after being given a slot: the next spawner gets it
                --st.grants;
                changed(st);
            }
        });
        if (r == Wake::timed_out) {   // a member may have ended without its rawlink having run yet
            reap(st);
            if (!room(st)) throw_no_slot(st, op);
            ++st.reserved;
            return;
        }
        if (w.data == kSlot) {
            --st.grants;
            ++st.reserved;
            return;
        }
    }
}

void group_release(GroupState& st) noexcept {
    std::lock_guard lock(st.mu);
    --st.reserved;
    changed(st);
}

// A member's rawlink: discards it when it ends. Lock order: the group's lock, then
// the member's `observers` (the callback runs after the member has let go of it).
struct GroupLink : RawLink {
    std::shared_ptr<GroupState> st;
};

namespace {
void discard_ended(RawLink* r, Fiber* f) {
    std::unique_ptr<GroupLink> n(static_cast<GroupLink*>(r));
    std::lock_guard lock(n->st->mu);
    GroupState& st = *n->st;
    auto it = st.members.find(f->id);
    if (it == st.members.end() || it->second.link != n.get()) return;   // discarded or reaped first
    st.members.erase(it);
    changed(st);
}
}  // namespace

void group_insert(const std::shared_ptr<GroupState>& st, const Greenlet<>& g) {
    std::lock_guard lock(st->mu);
    --st->reserved;
    auto [it, fresh] = st->members.emplace(g.id(), GroupState::Member{g, nullptr});
    if (!fresh) {
        changed(*st);
        return;
    }
    auto* n = new (std::nothrow) GroupLink;
    if (n == nullptr) {
        st->members.erase(it);
        changed(*st);
        throw std::bad_alloc();
    }
    n->st = st;
    n->callback = discard_ended;
    if (!add_rawlink(g.fiber(), n)) {   // ended already: it is no member
        delete n;
        st->members.erase(it);
        changed(*st);
        return;
    }
    it->second.link = n;
    unpark_all(st->watchers);   // Group::kill waits for members it has not killed yet
}

void group_discard(GroupState& st, const Greenlet<>& g) {
    GroupLink* owned = nullptr;
    {
        std::lock_guard lock(st.mu);
        auto it = st.members.find(g.id());
        if (it == st.members.end() || !(it->second.greenlet == g)) return;
        // Still on g's list: ours to free; otherwise its callback has it (and finds no member).
        if (it->second.link != nullptr && remove_rawlink(g.fiber(), it->second.link)) owned = it->second.link;
        st.members.erase(it);
        changed(st);
    }
    delete owned;
}

}  // namespace detail

Group::Group() : st_(std::make_shared<detail::GroupState>()) {}

Group::Group(std::size_t capacity, const char* kind) : Group() {
    st_->capacity = capacity;
    st_->kind = kind;
}

void Group::add(const Greenlet<>& g, bool block, MaybeDuration timeout) {
    if (contains(g)) return;
    detail::group_acquire(*st_, block, timeout, st_->capacity != 0 ? "Pool.add" : "Group.add");
    detail::group_insert(st_, g);
}

void Group::discard(const Greenlet<>& g) { detail::group_discard(*st_, g); }

bool Group::contains(const Greenlet<>& g) const {
    if (g.ready()) return false;   // ended: gone, even if its link has not run yet
    std::lock_guard lock(st_->mu);
    auto it = st_->members.find(g.id());
    return it != st_->members.end() && it->second.greenlet == g;
}

bool Group::current_is_member() const {
    if (detail::Hub::current() == nullptr) return false;
    std::uint64_t id = detail::current_fiber()->id;
    std::lock_guard lock(st_->mu);
    auto it = st_->members.find(id);
    return it != st_->members.end() && it->second.greenlet.fiber() == detail::current_fiber();
}

std::size_t Group::size() const {
    std::lock_guard lock(st_->mu);
    detail::reap(*st_);
    return st_->members.size();
}

std::vector<Greenlet<>> Group::greenlets() const {
    std::vector<Greenlet<>> out;
    std::lock_guard lock(st_->mu);
    detail::reap(*st_);
    out.reserve(st_->members.size());
    for (const auto& [id, m] : st_->members) out.push_back(m.greenlet);
    return out;
}

bool Group::join(MaybeDuration timeout, bool raise_error) {
    auto keep = st_;   // a fiber may destroy the Group while this one waits
    std::vector<Greenlet<>> watched = raise_error ? greenlets() : std::vector<Greenlet<>>{};
    std::uint64_t start;
    {
        std::lock_guard lock(st_->mu);
        start = st_->emptied;
    }
    detail::GroupState& st = *st_;
    bool emptied = detail::wait_until(st, st.capacity != 0 ? "Pool.join" : "Group.join", timeout,
                                      [&] { return st.members.empty() || st.emptied != start; });
    if (raise_error)
        for (const Greenlet<>& g : watched)
            if (std::exception_ptr e = g.exception()) std::rethrow_exception(e);
    return emptied;
}

void Group::kill(const KillOptions& options) {
    auto keep = st_;
    detail::GroupState& st = *st_;
    std::set<std::uint64_t> dying;
    detail::Hub* hub = detail::Hub::current();
    std::int64_t deadline = hub != nullptr && options.timeout ? hub->deadline_after(*options.timeout) : -1;
    for (;;) {
        bool none = true;
        Greenlet<> self;   // a member killing its own group goes last: its kill raises at once
        for (const Greenlet<>& g : greenlets()) {
            none = false;
            if (!dying.insert(g.id()).second) continue;
            if (g.fiber() == detail::current_fiber()) self = g;
            else g.kill(KillOptions{options.exception, false, forever});
        }
        if (self) self.kill(KillOptions{options.exception, false, forever});
        if (none || !options.block) return;
        MaybeDuration left = forever;
        if (deadline >= 0) left = Duration(std::max<std::int64_t>(0, deadline - hub->deadline_after(Duration{0})));
        // Until every member has ended, or one joined that has not been killed yet.
        bool settled = detail::wait_until(st, st.capacity != 0 ? "Pool.kill" : "Group.kill", left, [&] {
            for (const auto& [id, m] : st.members)
                if (!dying.count(id)) return true;
            return st.members.empty();
        });
        if (!settled) return;   // the timeout ran out
    }
}

void Group::killone(const Greenlet<>& g, const KillOptions& options) {
    if (contains(g)) g.kill(options);
}

bool Group::full() const {
    std::lock_guard lock(st_->mu);
    if (detail::room(*st_)) return false;
    detail::reap(*st_);
    return !detail::room(*st_);
}

std::size_t Group::free_count() const {
    std::lock_guard lock(st_->mu);
    if (st_->capacity == 0) return std::numeric_limits<std::size_t>::max();
    detail::reap(*st_);
    std::size_t used = st_->members.size() + st_->reserved + st_->grants;
    return used < st_->capacity ? st_->capacity - used : 0;
}

std::size_t Group::wait_available(MaybeDuration timeout) {
    auto keep = st_;
    detail::GroupState& st = *st_;
    detail::wait_until(st, st.capacity != 0 ? "Pool.wait_available" : "Group.wait_available", timeout,
                       [&] { return detail::room(st); });
    return free_count();
}

Pool::Pool(std::size_t size) : Group(size, "Pool") {
    if (size == 0) detail::throw_usage(std::errc::invalid_argument, "gev::Pool: the size must be at least 1 (a Group has no limit)");
}

std::size_t Pool::capacity() const noexcept { return st_->capacity; }

}  // namespace gev
