// sync/async_result.hpp — gevent.event.AsyncResult: a value or an exception, delivered
// to any number of waiters. As in gevent, a later set() replaces the value, and a value
// once set wins over any exception (get() returns it; exception() still reports one).
// An Event carries the wake-ups; a spin lock guards the stored result so that set()
// on one hub and get() on another see a whole value. Header-only (a template).
#pragma once

#include "runtime/clock.hpp"
#include "runtime/errors.hpp"
#include "runtime/spinlock.hpp"
#include "runtime/timeout.hpp"
#include "sync/event.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace gev {

namespace detail {
// What AsyncResult<T> and AsyncResult<void> share: the flag, the exception, the waits.
class AsyncResultBase {
public:
    AsyncResultBase() = default;
    AsyncResultBase(const AsyncResultBase&) = delete;
    AsyncResultBase& operator=(const AsyncResultBase&) = delete;

    // Stores `e` and wakes every waiter; get() rethrows it unless a value was set (before
    // or after: the value wins, as in gevent). Any thread. Throws std::system_error
    // (EINVAL) if `e` is null.
    void set_exception(std::exception_ptr e) {
        if (!e) throw_usage(std::errc::invalid_argument, "AsyncResult::set_exception: null exception");
        {
            std::lock_guard lock(mu_);
            error_ = std::move(e);
        }
        ready_.set();
    }
    // A value or an exception has been stored.
    bool ready() const noexcept { return ready_.is_set(); }
    // Ready with a value (gevent's: a value was set, whatever exception was too).
    bool successful() const noexcept { return has_value_.load(std::memory_order_acquire); }
    // The exception set_exception stored, if any (also when a value won over it, as in
    // gevent); null while not ready or when none was set.
    std::exception_ptr exception() const noexcept {
        if (!ready()) return nullptr;
        std::lock_guard lock(mu_);
        return error_;
    }
    // Parks until ready or the timeout passes; says whether it is ready (gevent's wait
    // returns the value instead). Throws what a park throws (kill, gev::Timeout, LoopExit).
    bool wait(MaybeDuration timeout = forever) { return ready_.wait_as(timeout, "AsyncResult"); }

protected:
    // After a value was stored and has_value_ set: wakes every waiter.
    void publish() noexcept { ready_.set(); }
    [[noreturn]] static void throw_not_ready(MaybeDuration timeout) {
        throw Timeout::expired(timeout.value_or(Duration{0}));
    }

    mutable SpinLock mu_;
    std::exception_ptr error_;
    std::atomic<bool> has_value_{false};

private:
    Event ready_;
};
}  // namespace detail

template <class T = void>
class AsyncResult : public detail::AsyncResultBase {
public:
    // Stores `value` (replacing an earlier one) and wakes every waiter. Any thread.
    void set(T value) {
        {
            std::lock_guard lock(mu_);
            value_ = std::move(value);
            has_value_.store(true, std::memory_order_release);
        }
        publish();
    }
    // Parks until ready (or the timeout) and returns a copy of the value, else rethrows
    // the stored exception; throws gev::Timeout when not ready in time.
    T get(MaybeDuration timeout = forever) {
        if (!wait(timeout)) throw_not_ready(timeout);
        return outcome();
    }
    // get() without waiting, or switching: throws gev::Timeout if not ready (gevent's
    // get_nowait, get(block=False)).
    T get_nowait() {
        if (!ready()) throw_not_ready(Duration{0});
        return outcome();
    }
    // The value once set; empty until then.
    std::optional<T> value() const {
        std::lock_guard lock(mu_);
        return value_;
    }

private:
    T outcome() {
        std::exception_ptr e;
        {
            std::lock_guard lock(mu_);
            if (value_) return *value_;
            e = error_;
        }
        std::rethrow_exception(e);
    }

    std::optional<T> value_;
};

template <>
class AsyncResult<void> : public detail::AsyncResultBase {
public:
    // Marks the result ready and successful (over any exception, as in gevent) and
    // wakes every waiter. Any thread.
    void set() noexcept {
        has_value_.store(true, std::memory_order_release);
        publish();
    }
    // Parks until ready (or the timeout); rethrows a stored exception unless set() was
    // called; throws gev::Timeout when not ready in time.
    void get(MaybeDuration timeout = forever) {
        if (!wait(timeout)) throw_not_ready(timeout);
        outcome();
    }
    // get() without waiting, or switching (gevent's get_nowait).
    void get_nowait() {
        if (!ready()) throw_not_ready(Duration{0});
        outcome();
    }

private:
    void outcome() {
        if (successful()) return;
        if (std::exception_ptr e = exception()) std::rethrow_exception(e);
    }
};

}  // namespace gev
