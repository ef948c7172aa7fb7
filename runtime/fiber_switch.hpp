// runtime/fiber_switch.hpp — internal, never installed: the context switch itself,
// inline for the few files that switch (fiber.cpp, raw_greenlet.cpp, hub.cpp,
// hub_loop.cpp), so a switch costs Boost.Context's jump plus a few loads and stores
// rather than a call frame of its own. It keeps the sanitizers and the C++ runtime's
// per-thread exception state truthful for each fiber; Boost.Context stays out of the
// public headers (a consumer of the installed gev has no Boost).
#pragma once

#include "runtime/fiber.hpp"
#include "runtime/overflow.hpp"
#include "runtime/sanitizers.hpp"

#include <boost/context/detail/fcontext.hpp>

#include <cstdint>
#include <cstring>

#if GEV_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if GEV_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace gev::detail {

// This thread's libstdc++ exception globals (__cxa_eh_globals), set when the thread
// first uses fibers; a fiber never leaves its thread, so the pointer stays right
// across a switch.
[[gnu::tls_model("initial-exec")]] extern constinit thread_local EhState* t_eh;

// The fiber that ran before has ended: its stack goes back to the pool and the
// reference it held on itself is dropped (fiber.cpp).
[[gnu::cold]] void recycle_dead(Fiber* prev) noexcept;

// From `from`'s side, before the jump: the overflow check, `from`'s exception state,
// and who runs next.
[[gnu::always_inline]] inline void leave_fiber(Fiber* from, Fiber* to, EhState* eh) noexcept {
    // Where this frame sits tells whether the fiber ran past its stack (an unguarded
    // stack would otherwise overwrite its neighbour silently). Compared as integers:
    // a stack pointer already past the base is caught too, and a fiber without a stack
    // of ours (base 0) never trips it.
    char here;
    auto sp = reinterpret_cast<std::uintptr_t>(&here);
    if (sp < reinterpret_cast<std::uintptr_t>(from->stack.base) + kStackRedZone) [[unlikely]]
        die_stack_overflow(from, nullptr, sp);
    std::memcpy(&from->eh, eh, sizeof(EhState));
    t_current = to;
#if GEV_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
}

// In the fiber just resumed (`self`): record where the previous fiber stopped, or
// recycle it if it has ended, then restore `self`'s exception state.
[[gnu::always_inline]] inline void arrive(Fiber* self, boost::context::detail::transfer_t t, EhState* eh) noexcept {
    auto* prev = static_cast<Fiber*>(t.data);
#if GEV_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &prev->asan_bottom, &prev->asan_size);
#endif
    if (prev->state == FiberState::dead) [[unlikely]]
        recycle_dead(prev);
    else
        prev->ctx = t.fctx;
    std::memcpy(eh, &self->eh, sizeof(EhState));
}

// Leaves `from` (whose state the caller has already set) and resumes `to`. Returns
// when something switches back to `from`.
[[gnu::always_inline]] inline void switch_fast(Fiber* from, Fiber* to) noexcept {
    EhState* eh = t_eh;
    leave_fiber(from, to, eh);
#if GEV_ASAN
    __sanitizer_start_switch_fiber(&from->asan_fake_stack, to->asan_bottom, to->asan_size);
#endif
    boost::context::detail::transfer_t t = boost::context::detail::jump_fcontext(to->ctx, from);
    arrive(from, t, eh);
}

}  // namespace gev::detail
