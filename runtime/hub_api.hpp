// runtime/hub_api.hpp — what the public headers' templates (sync/'s waits, Queue,
// Channel) ask of the hub, without the Hub class: that stays internal (hub.hpp, with
// the poller and the IO seam behind it), so gev.hpp pulls in no scheduler internals.
// Each call is one out-of-line function, as the Hub members they stand for were; the
// checks that are inline there (is anything pending?) are inline here too.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/fiber.hpp"

#include <cstdint>

namespace gev::detail {

class Hub;

// How a park ended.
enum class Wake : std::uint8_t { notified, timed_out };

[[gnu::tls_model("initial-exec")]] extern constinit thread_local Hub* t_hub;

// The hub running on this thread, or nullptr outside gev::run.
inline Hub* current_hub() noexcept { return t_hub; }
// The current hub; throws std::system_error (EPERM) naming `op` when there is none.
Hub& require_hub(const char* op);
// hub's clock now + d, saturating (Hub::deadline_after).
std::int64_t hub_deadline_after(Hub& hub, Duration d) noexcept;
// Makes f ready if it still parks in the wait `epoch` names, from any thread (Hub::wake).
bool wake_fiber(Fiber* f, std::uint64_t epoch) noexcept;
// wake_fiber in two halves, for a waker holding a lock (Hub::claim, Hub::deliver).
bool claim_wake(Fiber* f, std::uint64_t epoch, OwedWakes& owed) noexcept;
void deliver_wakes(OwedWakes& owed) noexcept;
// Raises the fiber's pending kill or Timeout when it may be raised now (Hub::raise_pending).
void raise_pending_slow(Fiber* self);
inline void raise_pending(Fiber* self) {
    if (self->pending) [[unlikely]] raise_pending_slow(self);
}

}  // namespace gev::detail
