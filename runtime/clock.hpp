// runtime/clock.hpp — the time types of the public API.
// Durations are std::chrono::nanoseconds; "no timeout" is an empty optional
// (gevent's `timeout=None`), spelled gev::forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace gev {

using Duration = std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// A timeout argument: a duration, or gev::forever (block without limit).
using MaybeDuration = std::optional<Duration>;
inline constexpr std::nullopt_t forever = std::nullopt;

namespace detail {
// Monotonic nanoseconds; what the hub caches once per loop turn.
inline std::int64_t clock_ns() noexcept {
    return std::chrono::duration_cast<Duration>(Clock::now().time_since_epoch()).count();
}
}  // namespace detail

}  // namespace gev
