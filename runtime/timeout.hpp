// runtime/timeout.hpp — gevent's Timeout: a scope object raised in the fiber that made
// it if that fiber is still inside the scope at the deadline. The thrown object is an
// inert copy; `t.is(scope)` tells which of several nested scopes fired. Timeout does
// not derive from std::exception, so a generic catch cannot swallow it.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/timer.hpp"

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace gev {

namespace detail { class Fiber; class Hub; }

class Timeout {
public:
    // Arms a timer for the current fiber (gevent::forever: never fires).
    // Throws std::system_error outside gev::run.
    explicit Timeout(MaybeDuration duration);
    // Raises `exception` instead of the Timeout itself when it fires.
    Timeout(MaybeDuration duration, std::exception_ptr exception);
    // The scope ends: the timer is cancelled, and a firing not yet raised is dropped.
    ~Timeout();
    // Copies are what gets thrown: same identity, no timer.
    Timeout(const Timeout& other) noexcept;
    Timeout& operator=(const Timeout&) = delete;

    // A thrown Timeout for an operation with its own timeout (Greenlet::get, ...).
    static Timeout expired(Duration after) noexcept;

    void cancel() noexcept;
    // Armed and not yet fired.
    bool pending() const noexcept { return timer_.armed(); }
    // Whether this and `other` are the same scope (or copies of it).
    bool is(const Timeout& other) const noexcept { return id_ == other.id_; }
    MaybeDuration duration() const noexcept { return duration_; }
    // "2 seconds", as gevent prints it.
    std::string describe() const;

private:
    struct Node : detail::TimerNode { Timeout* self = nullptr; };
    Timeout() noexcept = default;
    static void fire(detail::TimerNode* n);

    Node timer_;
    MaybeDuration duration_;
    std::uint64_t id_ = 0;
    detail::Fiber* owner_ = nullptr;   // null in copies
    detail::Hub* hub_ = nullptr;
    std::exception_ptr exception_;
};

// Runs f(args...) under a Timeout; the Timeout propagates if it fires.
template <class F, class... Args>
decltype(auto) with_timeout(MaybeDuration d, F&& f, Args&&... args) {
    Timeout scope{d};
    return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
}

// gevent's `timeout_value=`: what with_timeout returns when the time runs out.
template <class V>
struct timeout_value {
    V value;
};
template <class V>
timeout_value(V) -> timeout_value<V>;

template <class V, class F, class... Args>
auto with_timeout(MaybeDuration d, timeout_value<V> fallback, F&& f, Args&&... args)
    -> std::common_type_t<V, std::invoke_result_t<F, Args...>> {
    Timeout scope{d};
    try {
        return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    } catch (const Timeout& t) {
        if (!t.is(scope)) throw;
        return std::move(fallback.value);
    }
}

// gevent's `with Timeout(d, False):` — if the time runs out, the block just ends.
// Returns true (or the value) if f finished, false (or empty) if it was cut short.
template <class F, class... Args>
auto silent_timeout(MaybeDuration d, F&& f, Args&&... args) {
    using R = std::invoke_result_t<F, Args...>;
    Timeout scope{d};
    try {
        if constexpr (std::is_void_v<R>) {
            std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
            return true;
        } else {
            return std::optional<R>(std::invoke(std::forward<F>(f), std::forward<Args>(args)...));
        }
    } catch (const Timeout& t) {
        if (!t.is(scope)) throw;
        if constexpr (std::is_void_v<R>) return false;
        else return std::optional<R>();
    }
}

}  // namespace gev
