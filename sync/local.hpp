// sync/local.hpp — gevent.local: fiber-local storage. Each fiber that touches a
// local<T> gets its own T (made on its first access) and its T is destroyed soon after
// the fiber ends: for a spawned fiber, by a rawlink (a callback the hub runs at its
// death, no fiber); for a RawGreenlet, by a sweep on later first-accesses from its thread; for
// gev::run's main fiber and a thread's root context, when the local<T> itself is
// destroyed, which also destroys every value still alive. Fibers of any hub may share one local<T> (a mutex
// guards the slot table); a T's destructor must not block.
#pragma once

#include "runtime/fiber.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace gev {

namespace detail {
// The part of local<T> that does not depend on T: one slot per fiber, keyed by its
// control block (referenced while the slot exists, so the key cannot be reused).
class LocalSlots : public std::enable_shared_from_this<LocalSlots> {
public:
    using Deleter = void (*)(void*) noexcept;
    explicit LocalSlots(Deleter destroy) noexcept : destroy_(destroy) {}
    LocalSlots(const LocalSlots&) = delete;
    LocalSlots& operator=(const LocalSlots&) = delete;

    // f's value, or null.
    void* find(Fiber* f) const;
    // Records `value` (owned from now on, destroyed if this throws) as the value of f,
    // the calling fiber, and arranges for it to be destroyed when f ends.
    void insert(Fiber* f, void* value);
    // Destroys f's value now, if it has one.
    void erase(Fiber* f) noexcept;
    // Destroys every value (the local<T> is going away).
    void close() noexcept;
    // How many fibers have a value (for tests and reports).
    std::size_t size() const;

private:
    struct Slot {
        void* value;
        RawLink* link;         // the death rawlink, while on the fiber's list; null while none
        const void* thread;    // which thread's fiber (sweeps only look at their own)
        bool linked;           // a rawlink will erase it
    };
    void sweep_dead_here() noexcept;
    // Takes f's slot, and its rawlink off f's list if it is still there (then `owned`,
    // to free); false when f has none.
    bool take(Fiber* f, Slot& out, RawLink*& owned) noexcept;

public:
    // The rawlink's callback, as f ends: erases f's slot if `link` still names it.
    void erase_ended(Fiber* f, const RawLink* link) noexcept;

    mutable std::mutex mu_;
    std::unordered_map<Fiber*, Slot> slots_;
    Deleter destroy_;
    std::size_t unlinked_ = 0;    // slots that only a sweep (or close) removes
    std::size_t sweep_at_ = 64;
};
}  // namespace detail

template <class T>
class local {
public:
    // Each fiber's value starts as T{}.
    local() : make_([] { return new T(); }), slots_(make_slots()) {}
    // Each fiber's value starts as make().
    explicit local(std::function<T()> make)
        : make_([m = std::move(make)] { return new T(m()); }), slots_(make_slots()) {}
    local(const local&) = delete;
    local& operator=(const local&) = delete;
    // Destroys every fiber's value (on this thread, whichever fibers they belong to).
    ~local() { slots_->close(); }

    // The calling fiber's value, made on first access (what T's constructor throws
    // propagates, and the next access tries again).
    T& get() {
        detail::Fiber* self = detail::current_fiber();
        if (void* p = slots_->find(self)) return *static_cast<T*>(p);
        T* v = make_();
        slots_->insert(self, v);
        return *v;
    }
    T& operator*() { return get(); }
    T* operator->() { return &get(); }
    // Whether the calling fiber has made its value yet.
    bool has_value() const { return slots_->find(detail::current_fiber()) != nullptr; }
    // Destroys the calling fiber's value now; its next access makes a fresh one.
    void reset() { slots_->erase(detail::current_fiber()); }
    // How many fibers hold a value now.
    std::size_t size() const { return slots_->size(); }

private:
    static std::shared_ptr<detail::LocalSlots> make_slots() {
        return std::make_shared<detail::LocalSlots>([](void* p) noexcept { delete static_cast<T*>(p); });
    }
    std::function<T*()> make_;
    std::shared_ptr<detail::LocalSlots> slots_;
};

}  // namespace gev
