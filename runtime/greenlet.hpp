// runtime/greenlet.hpp — gevent's Greenlet: spawn, spawn_later, and the handle with
// join/get/kill/link. Spawning never switches: a new fiber first runs when its
// spawner parks or yields, in spawn order. Handles are reference-counted and cheap
// to copy; a fiber keeps running when every handle to it is gone.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/errors.hpp"
#include "runtime/fiber.hpp"

#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace gev {

template <class T = void>
class Greenlet;

struct SpawnOptions {
    std::size_t stack_size = 0;   // usable stack bytes; 0: default_stack_size()
    std::string name{};           // empty: "Greenlet-<id>"
};

// gevent's kill(exception=GreenletExit, block=True, timeout=None).
struct KillOptions {
    std::exception_ptr exception{}; // null: GreenletExit
    bool block = true;              // wait for the fiber to end (up to `timeout`)
    MaybeDuration timeout = forever;
};

using LinkId = std::uint64_t;

namespace detail {
// The non-template machinery behind the handles (greenlet.cpp).
void spawn_fiber(Fiber* f, const SpawnOptions& opts);
void spawn_fiber_later(Fiber* f, Duration delay, const SpawnOptions& opts);
void spawn_fiber_on(Fiber* f, unsigned hub, const SpawnOptions& opts);
bool join_fiber(Fiber* f, MaybeDuration timeout);
void kill_fiber(Fiber* f, std::exception_ptr exception, bool block, MaybeDuration timeout);
LinkId link_fiber(Fiber* f, std::function<void(Greenlet<>)> fn, int when);
bool unlink_fiber(Fiber* f, LinkId id) noexcept;
// Rethrows a failure; throws Timeout if f has not ended. Returns false if f ended by GreenletExit.
bool check_result(Fiber* f, MaybeDuration timeout);
// gevent's Timeout(0): a wait whose timeout is <= 0 still parks until the hub's next
// turn, so the other ready fibers run once and a polling loop cannot starve them. Only
// off a fiber (no hub, or the hub's own loop) may it not park: then it just looks.
bool only_looks(const MaybeDuration& timeout) noexcept;
// gevent's rawlink: adds n to f's links, notified when f ends in the order added
// (runtime/rawlink.hpp). False, adding nothing, when f has ended already.
bool add_rawlink(Fiber* f, RawLink* n) noexcept;
// Takes n off f's links; false when it was not there (notified, or never added):
// then a callback node belongs to the notification, and must not be touched.
bool remove_rawlink(Fiber* f, RawLink* n) noexcept;
// A result asked for after take() moved it out: std::system_error (ENODATA) naming `op`.
[[noreturn]] void throw_taken(Fiber* f, const char* op);

template <class T>
struct ValueFiber : Fiber {
    ValueFiber() : Fiber(FiberKind::hub, 2) {}
    std::optional<T> value;
    std::atomic<bool> taken{false};   // take() moved the value out
};
template <>
struct ValueFiber<void> : Fiber {
    ValueFiber() : Fiber(FiberKind::hub, 2) {}
};

template <class T, class F>
class Task final : public ValueFiber<T> {
public:
    explicit Task(F&& fn) : fn_(std::move(fn)) {}
    void invoke() override {
        // Drop what the function captured as soon as it is done, however it ended
        // (gevent clears _run): a capture must not keep its owner alive in a cycle.
        DropOnExit<F> drop{fn_};
        if constexpr (std::is_void_v<T>) {
            (*fn_)();
        } else {
            this->value.emplace((*fn_)());
        }
    }
    void drop_function() noexcept override { fn_.reset(); }

private:
    std::optional<F> fn_;
};

template <class F, class... Args>
using spawn_result_t = std::decay_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

template <class F, class... Args>
auto make_task(F&& f, Args&&... args) {
    using R = spawn_result_t<F, Args...>;
    auto call = [fn = std::forward<F>(f), ... a = std::forward<Args>(args)]() mutable -> R {
        return std::invoke(std::move(fn), std::move(a)...);
    };
    return new Task<R, decltype(call)>(std::move(call));
}
}  // namespace detail

// A handle to any spawned fiber, whatever its result type.
template <>
class Greenlet<void> {
public:
    Greenlet() noexcept = default;
    Greenlet(const Greenlet& o) noexcept : f_(o.f_) { if (f_) f_->ref(); }
    Greenlet(Greenlet&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
    Greenlet& operator=(Greenlet o) noexcept { std::swap(f_, o.f_); return *this; }
    ~Greenlet() { if (f_) f_->unref(); }

    // Waits until the fiber has ended, or the timeout; says whether it ended.
    bool join(MaybeDuration timeout = forever) const { return detail::join_fiber(fiber(), timeout); }
    // Waits, then rethrows the fiber's exception if it failed; throws gev::Timeout
    // if it has not ended in time.
    void get(MaybeDuration timeout = forever) const { detail::check_result(fiber(), timeout); }
    // Raises `exception` (GreenletExit by default) in the fiber at its park point;
    // never throws the fiber's exception to the caller. A fiber killed before it
    // ran never runs.
    void kill(const KillOptions& o = {}) const { detail::kill_fiber(fiber(), o.exception, o.block, o.timeout); }

    bool ready() const noexcept { return fiber()->ended.load(std::memory_order_acquire); }
    bool dead() const noexcept { return ready(); }
    // gevent's `started` (its bool(greenlet)): true from spawn (spawn_later too) until
    // the fiber has ended, whether or not it has run yet.
    bool started() const noexcept { return !ready(); }
    // Ended, and not by an exception (ending by GreenletExit counts as success).
    bool successful() const noexcept { return ready() && (!fiber()->error || fiber()->ended_by_exit); }
    // The exception it failed with; null while running, on success, or after GreenletExit.
    std::exception_ptr exception() const noexcept {
        return fiber()->ended_by_exit ? nullptr : fiber()->error;
    }
    std::uint64_t id() const noexcept { return fiber()->id; }
    std::string name() const { return fiber()->display_name(); }
    void set_name(std::string n) const { fiber()->debug.name = std::move(n); }

    // Calls fn(handle) in a new fiber once this one has ended (at once if it has).
    LinkId link(std::function<void(Greenlet<>)> fn) const { return detail::link_fiber(fiber(), std::move(fn), 0); }
    // Only if it ends successfully / only if it fails.
    LinkId link_value(std::function<void(Greenlet<>)> fn) const { return detail::link_fiber(fiber(), std::move(fn), 1); }
    LinkId link_exception(std::function<void(Greenlet<>)> fn) const { return detail::link_fiber(fiber(), std::move(fn), 2); }
    // Removes a link that has not fired yet; says whether it did.
    bool unlink(LinkId id) const noexcept { return detail::unlink_fiber(fiber(), id); }

    explicit operator bool() const noexcept { return f_ != nullptr; }
    friend bool operator==(const Greenlet& a, const Greenlet& b) noexcept { return a.f_ == b.f_; }
    detail::Fiber* fiber() const noexcept { return f_; }

    // Adopts a fiber reference (used by spawn).
    explicit Greenlet(detail::Fiber* f) noexcept : f_(f) {}

private:
    detail::Fiber* f_ = nullptr;
};

// A handle whose get() returns the function's result.
template <class T>
class Greenlet : public Greenlet<void> {
public:
    Greenlet() noexcept = default;
    explicit Greenlet(detail::ValueFiber<T>* f) noexcept : Greenlet<void>(f) {}

    // Waits and returns the result; rethrows a failure; throws gev::Timeout if not
    // ended in time, and GreenletExit if it was killed (there is no value). A copy for
    // copyable results; a reference to the one stored for move-only ones (valid while a
    // handle lives; take() moves it out). Throws std::system_error after take().
    T get(MaybeDuration timeout = forever) const
        requires std::copy_constructible<T>
    {
        return stored(timeout, "Greenlet::get");
    }
    const T& get(MaybeDuration timeout = forever) const
        requires(!std::copy_constructible<T>)
    {
        return stored(timeout, "Greenlet::get");
    }
    // Waits like get(), then moves the result out to the caller: once (later take()
    // and get() calls throw std::system_error, ENODATA), by one fiber at a time.
    T take(MaybeDuration timeout = forever) const {
        T& v = stored(timeout, "Greenlet::take");
        if (typed()->taken.exchange(true, std::memory_order_acq_rel)) detail::throw_taken(fiber(), "Greenlet::take");
        T out = std::move(v);
        typed()->value.reset();
        return out;
    }
    // The result once it has ended successfully with one; empty otherwise, and after take().
    const std::optional<T>& value() const noexcept { return typed()->value; }

private:
    detail::ValueFiber<T>* typed() const noexcept { return static_cast<detail::ValueFiber<T>*>(fiber()); }
    T& stored(MaybeDuration timeout, const char* op) const {
        if (!detail::check_result(fiber(), timeout)) throw GreenletExit{};
        if (typed()->taken.load(std::memory_order_acquire)) detail::throw_taken(fiber(), op);
        return *typed()->value;
    }
};

// Starts f(args...) in a new fiber on this hub; it first runs when the caller parks.
template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
Greenlet<detail::spawn_result_t<F, Args...>> spawn(F&& f, Args&&... args) {
    auto* t = detail::make_task(std::forward<F>(f), std::forward<Args>(args)...);
    Greenlet<detail::spawn_result_t<F, Args...>> g(t);
    detail::spawn_fiber(t, {});
    return g;
}

template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
Greenlet<detail::spawn_result_t<F, Args...>> spawn(const SpawnOptions& opts, F&& f, Args&&... args) {
    auto* t = detail::make_task(std::forward<F>(f), std::forward<Args>(args)...);
    Greenlet<detail::spawn_result_t<F, Args...>> g(t);
    detail::spawn_fiber(t, opts);
    return g;
}

// Starts f(args...) in a new fiber on hub `hub` of gev::run (0 = main's). It stays on
// that hub's thread for its whole life; the handle works from any hub.
template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
Greenlet<detail::spawn_result_t<F, Args...>> spawn_on(unsigned hub, F&& f, Args&&... args) {
    auto* t = detail::make_task(std::forward<F>(f), std::forward<Args>(args)...);
    Greenlet<detail::spawn_result_t<F, Args...>> g(t);
    detail::spawn_fiber_on(t, hub, {});
    return g;
}

// Starts f(args...) after `delay`; killing it before then means it never runs.
template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
Greenlet<detail::spawn_result_t<F, Args...>> spawn_later(Duration delay, F&& f, Args&&... args) {
    auto* t = detail::make_task(std::forward<F>(f), std::forward<Args>(args)...);
    Greenlet<detail::spawn_result_t<F, Args...>> g(t);
    detail::spawn_fiber_later(t, delay, {});
    return g;
}

}  // namespace gev
