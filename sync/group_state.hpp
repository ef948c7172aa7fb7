// sync/group_state.hpp — the shared state behind Group and Pool (internal), so imap's
// feeder fiber and each member's link can outlive the Group object. Members are
// tracked by fiber id (creation order). A member leaves when it ends: its rawlink (a
// callback the hub runs at its death, no fiber) discards it, and every look at the members
// first drops those already ended, so right after g.join() the group no longer
// counts g, as in gevent. Slots of a bounded pool are granted FIFO to waiting
// spawners (`grants`), like a Queue's; one lock (a StateWord) guards it all, for any hub.
#pragma once

#include "runtime/greenlet.hpp"
#include "runtime/wait_list.hpp"
#include "sync/state_word.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

namespace gev::detail {

struct GroupLink;

struct GroupState {
    struct Member {
        Greenlet<> greenlet;
        GroupLink* link = nullptr;   // on the member's rawlinks while it runs
    };
    mutable StateWord mu;
    std::size_t capacity = 0;                    // 0: no limit (a Group)
    const char* kind = "Group";                  // "Pool": for errors and wait reasons
    std::map<std::uint64_t, Member> members;     // by fiber id
    std::size_t reserved = 0;                    // slots taken by spawners, not yet members
    std::size_t grants = 0;                      // slots given to woken spawners not yet running
    std::uint64_t emptied = 0;                   // times the group became empty (join's "at least once")
    WaitList slot_waiters;                       // spawn/add on a full pool, FIFO
    WaitList watchers;                           // join, kill, wait_available: woken on any change
};

// Takes a slot (waits for one on a full pool, up to `timeout`; throws Full when none
// came, at once without block). The slot is then held until group_insert or group_release.
void group_acquire(GroupState& st, bool block, MaybeDuration timeout, const char* op);
// Gives back a slot taken by group_acquire that no member used.
void group_release(GroupState& st) noexcept;
// Makes g a member in the slot the caller acquired, and links it so that it leaves
// when it ends. A g that is a member already gives the slot back.
void group_insert(const std::shared_ptr<GroupState>& st, const Greenlet<>& g);
// Removes g if it is a member (its rawlink is taken off); wakes whoever waits on a change.
void group_discard(GroupState& st, const Greenlet<>& g);

// Spawns f(args...) as a member, waiting for a slot first on a full pool (back-pressure:
// the fiber does not exist before there is room for it).
template <class F, class... Args>
auto group_spawn(const std::shared_ptr<GroupState>& st, F&& f, Args&&... args) {
    group_acquire(*st, true, forever, st->capacity != 0 ? "Pool.spawn" : "Group.spawn");
    struct Release {
        GroupState* st;
        ~Release() {
            if (st != nullptr) group_release(*st);
        }
    } release{st.get()};
    auto g = gev::spawn(std::forward<F>(f), std::forward<Args>(args)...);
    release.st = nullptr;   // from here the slot is the member's, or group_insert gives it back
    group_insert(st, g);
    return g;
}

}  // namespace gev::detail
