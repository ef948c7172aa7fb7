// sync/local.cpp — local<T>'s slot table: insertion with a death link, erasure from
// the link (or a sweep, or close), all under one mutex; values die outside it.
#include "sync/local.hpp"

#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"

#include <algorithm>
#include <vector>

namespace gev::detail {
namespace {

const void* this_thread_token() noexcept {
    static thread_local char token;
    return &token;
}

// Held by the death link's function: when that function is destroyed (after the link
// ran, or unrun when the hub shuts down, or when close() unlinks it) the slot goes.
struct Reaper {
    Reaper(std::shared_ptr<LocalSlots> s, Fiber* f) noexcept : slots(std::move(s)), fiber(f) {}
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;
    ~Reaper() { slots->erase(fiber); }
    std::shared_ptr<LocalSlots> slots;
    Fiber* fiber;
};

}  // namespace

void* LocalSlots::find(Fiber* f) const {
    std::lock_guard lock(mu_);
    auto it = slots_.find(f);
    return it != slots_.end() ? it->second.value : nullptr;
}

std::size_t LocalSlots::size() const {
    std::lock_guard lock(mu_);
    return slots_.size();
}

void LocalSlots::insert(Fiber* f, void* value) {
    // A spawned fiber running on its own hub can carry a link; a raw greenlet or a
    // thread's root context cannot, and is swept instead. Neither can gev::run's main:
    // a link on main is spawned as main ends and never runs (a runtime limitation), so
    // main's value lives until the local<T> is destroyed.
    bool linkable = f->kind == FiberKind::hub && f->hub != nullptr && f->hub == Hub::current() && !f->is_main;
    f->ref();
    try {
        std::lock_guard lock(mu_);
        slots_.emplace(f, Slot{value, 0, this_thread_token(), linkable});
        if (!linkable) ++unlinked_;
    } catch (...) {
        f->unref();
        destroy_(value);
        throw;
    }
    if (!linkable) {
        if (unlinked_ >= sweep_at_) sweep_dead_here();
        return;
    }
    try {
        auto reaper = std::make_shared<Reaper>(shared_from_this(), f);
        LinkId id = link_fiber(f, [reaper](Greenlet<>) {}, 0);
        std::lock_guard lock(mu_);
        if (auto it = slots_.find(f); it != slots_.end()) it->second.link = id;
    } catch (...) {
        erase(f);
        throw;
    }
}

void LocalSlots::erase(Fiber* f) noexcept {
    Slot s;
    {
        std::lock_guard lock(mu_);
        auto it = slots_.find(f);
        if (it == slots_.end()) return;
        s = it->second;
        slots_.erase(it);
        if (!s.linked) --unlinked_;
    }
    // The link (if any) has fired or is being torn down; if neither, drop it now.
    if (s.link != 0) unlink_fiber(f, s.link);
    destroy_(s.value);
    f->unref();
}

void LocalSlots::close() noexcept {
    std::unordered_map<Fiber*, Slot> all;
    {
        std::lock_guard lock(mu_);
        all.swap(slots_);
        unlinked_ = 0;
    }
    for (auto& [f, s] : all) {
        if (s.link != 0) unlink_fiber(f, s.link);   // its Reaper finds nothing left to erase
        destroy_(s.value);
        f->unref();
    }
}

void LocalSlots::sweep_dead_here() noexcept {
    std::vector<std::pair<Fiber*, void*>> dead;
    {
        std::lock_guard lock(mu_);
        const void* here = this_thread_token();
        for (auto it = slots_.begin(); it != slots_.end();) {
            const Slot& s = it->second;
            // Only this thread's fibers: their state is ours to read.
            if (!s.linked && s.thread == here && it->first->state == FiberState::dead) {
                dead.emplace_back(it->first, s.value);
                it = slots_.erase(it);
                --unlinked_;
            } else {
                ++it;
            }
        }
        sweep_at_ = std::max<std::size_t>(64, 2 * unlinked_);
    }
    for (auto [f, v] : dead) {
        destroy_(v);
        f->unref();
    }
}

}  // namespace gev::detail
