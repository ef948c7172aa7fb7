// sync/local.cpp — local<T>'s slot table: insertion with a death rawlink, erasure from
// its callback (or a sweep, or close), all under one mutex; values die outside it.
#include "sync/local.hpp"

#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"

#include <algorithm>
#include <memory>
#include <vector>

namespace gev::detail {
namespace {

const void* this_thread_token() noexcept {
    static thread_local char token;
    return &token;
}

// A fiber's death rawlink (lock order: the table's mutex, then the fiber's
// `observers`; the callback runs after the fiber has let go of the latter).
struct LocalLink : RawLink {
    std::shared_ptr<LocalSlots> slots;
};

void reap_ended(RawLink* r, Fiber* f) {
    std::unique_ptr<LocalLink> n(static_cast<LocalLink*>(r));
    n->slots->erase_ended(f, n.get());
}

void free_link(RawLink* r) noexcept { delete static_cast<LocalLink*>(r); }

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
    // A spawned fiber running on its own hub can carry a rawlink; a raw greenlet or a
    // thread's root context cannot, and is swept instead. Neither can gev::run's main,
    // whose value lives until the local<T> is destroyed.
    bool linkable = f->kind == FiberKind::hub && f->hub != nullptr && f->hub == Hub::current() && !f->is_main;
    std::unique_ptr<LocalLink> n;
    f->ref();
    try {
        if (linkable) {
            n = std::make_unique<LocalLink>();
            n->slots = shared_from_this();
            n->callback = reap_ended;
        }
        std::lock_guard lock(mu_);
        auto it = slots_.emplace(f, Slot{value, nullptr, this_thread_token(), linkable}).first;
        if (linkable && add_rawlink(f, n.get())) it->second.link = n.release();
        else if (linkable) it->second.linked = false;   // it has ended: a sweep or close takes it
        if (!it->second.linked) ++unlinked_;
    } catch (...) {
        f->unref();
        destroy_(value);
        throw;
    }
    if (!linkable && unlinked_ >= sweep_at_) sweep_dead_here();
}

bool LocalSlots::take(Fiber* f, Slot& out, RawLink*& owned) noexcept {
    std::lock_guard lock(mu_);
    auto it = slots_.find(f);
    if (it == slots_.end()) return false;
    out = it->second;
    slots_.erase(it);
    if (!out.linked) --unlinked_;
    // Off the list: ours to free. Gone already: its callback has it and finds no slot.
    if (out.link != nullptr && remove_rawlink(f, out.link)) owned = out.link;
    return true;
}

void LocalSlots::erase(Fiber* f) noexcept {
    Slot s;
    RawLink* owned = nullptr;
    if (!take(f, s, owned)) return;
    if (owned != nullptr) free_link(owned);
    destroy_(s.value);
    f->unref();
}

void LocalSlots::erase_ended(Fiber* f, const RawLink* link) noexcept {
    void* value;
    {
        std::lock_guard lock(mu_);
        auto it = slots_.find(f);
        if (it == slots_.end() || it->second.link != link) return;   // reset() or close() came first
        value = it->second.value;
        slots_.erase(it);
    }
    destroy_(value);
    f->unref();
}

void LocalSlots::close() noexcept {
    std::unordered_map<Fiber*, Slot> all;
    {
        std::lock_guard lock(mu_);
        all.swap(slots_);
        unlinked_ = 0;
        // Under the mutex: a callback that has its node waits for it, then finds no slot.
        // (Freeing a node here cannot free this table: the local<T> still holds it.)
        for (auto& [f, s] : all)
            if (s.link != nullptr && remove_rawlink(f, s.link)) free_link(s.link);
    }
    for (auto& [f, s] : all) {
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
