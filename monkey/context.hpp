// monkey/context.hpp — the two questions every hook asks first, answered from thread-
// locals and one relaxed load: is this part patched, and is the caller a hub's fiber
// that may park right now? Not a fiber, no hub, the hub's own loop, or a fiber that is
// already switching away (the hub polls on its stack, and the poller's own reads of
// its eventfd come back through the hooks): the caller gets the real call.
#pragma once

#include "monkey/monkey.hpp"
#include "runtime/hub.hpp"

#include <atomic>

namespace gev::monkey::detail {

using gev::detail::Hub;

extern constinit std::atomic<unsigned> g_patched;

inline bool patched(Patch p) noexcept {
    return (g_patched.load(std::memory_order_relaxed) & static_cast<unsigned>(p)) != 0;
}

// The current hub when the caller is one of its fibers, running (not inside a switch).
inline Hub* fiber_hub() noexcept {
    Hub* h = gev::detail::t_hub;
    if (h == nullptr) return nullptr;
    gev::detail::Fiber* f = gev::detail::t_current;
    if (f == nullptr || f->kind == gev::detail::FiberKind::root || f->state != gev::detail::FiberState::running)
        return nullptr;
    return h;
}

// The hub to park on for a call of part `p`, or nullptr for the real call.
inline Hub* cooperative(Patch p) noexcept { return patched(p) ? fiber_hub() : nullptr; }

}  // namespace gev::monkey::detail
