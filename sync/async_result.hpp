// sync/async_result.hpp — gevent.event.AsyncResult: one value or one exception,
// delivered once (later set()s overwrite, as in gevent) to any number of waiters.
// An Event carries the wake-ups; a spin lock guards the stored result so that set()
// on one hub and get() on another see a whole value. Header-only (a template).
#pragma once

#include "runtime/clock.hpp"
#include "runtime/errors.hpp"
#include "runtime/spinlock.hpp"
#include "runtime/timeout.hpp"
#include "sync/event.hpp"

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

    // Stores `e` as the outcome and wakes every waiter; get() will rethrow it. Any
    // thread. Throws std::system_error (EINVAL) if `e` is null.
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
    // Ready with a value.
    bool successful() const noexcept { return ready() && exception() == nullptr; }
    // The stored exception; null while not ready or after a value.
    std::exception_ptr exception() const noexcept {
        if (!ready()) return nullptr;
        std::lock_guard lock(mu_);
        return error_;
    }
    // Parks until ready or the timeout passes; says whether it is ready (gevent's wait
    // returns the value instead). Throws what a park throws (kill, gev::Timeout, LoopExit).
    bool wait(MaybeDuration timeout = forever) { return ready_.wait_as(timeout, "AsyncResult"); }

protected:
    void publish() noexcept { ready_.set(); }

    mutable SpinLock mu_;
    std::exception_ptr error_;

private:
    Event ready_;
};
}  // namespace detail

template <class T = void>
class AsyncResult : public detail::AsyncResultBase {
public:
    // Stores `value` (replacing an earlier outcome) and wakes every waiter. Any thread.
    void set(T value) {
        {
            std::lock_guard lock(mu_);
            value_ = std::move(value);
            error_ = nullptr;
        }
        publish();
    }
    // Parks until ready (or the timeout) and returns a copy of the value; rethrows a
    // stored exception; throws gev::Timeout when not ready in time.
    T get(MaybeDuration timeout = forever) {
        if (!wait(timeout)) throw Timeout::expired(timeout.value_or(Duration{0}));
        std::exception_ptr e;
        {
            std::lock_guard lock(mu_);
            if (!error_) return *value_;
            e = error_;
        }
        std::rethrow_exception(e);
    }
    // get() without waiting: throws gev::Timeout if not ready (gevent's get_nowait).
    T get_nowait() { return get(Duration{0}); }
    // The value once set; empty while not ready or after an exception.
    std::optional<T> value() const {
        if (!ready()) return std::nullopt;
        std::lock_guard lock(mu_);
        if (error_) return std::nullopt;
        return value_;
    }

private:
    std::optional<T> value_;
};

template <>
class AsyncResult<void> : public detail::AsyncResultBase {
public:
    // Marks the result ready (successful) and wakes every waiter. Any thread.
    void set() noexcept {
        {
            std::lock_guard lock(mu_);
            error_ = nullptr;
        }
        publish();
    }
    // Parks until ready (or the timeout); rethrows a stored exception; throws
    // gev::Timeout when not ready in time.
    void get(MaybeDuration timeout = forever) {
        if (!wait(timeout)) throw Timeout::expired(timeout.value_or(Duration{0}));
        std::exception_ptr e = exception();
        if (e) std::rethrow_exception(e);
    }
    void get_nowait() { get(Duration{0}); }
};

}  // namespace gev
