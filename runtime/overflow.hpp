// runtime/overflow.hpp — naming the fiber that ran off its stack. A SIGSEGV/SIGBUS
// handler on an alternate signal stack recognises a fault in the current fiber's guard
// page (or a stack pointer below its stack) and reports it; any other crash goes to
// the handler that was there before (or the default action). Internal: fiber.cpp
// calls these when a thread first uses fibers, when it ends, and at a failed switch-out check.
#pragma once

#include <cstdint>

namespace gev::detail {

class Fiber;

// Once per process: the fault handlers; per calling thread: an alternate signal stack
// (unless the thread has one already, as under AddressSanitizer).
void install_overflow_handler() noexcept;
// Drops the calling thread's alternate stack if install_overflow_handler made it.
void remove_overflow_handler() noexcept;
// Writes "gev: stack overflow in <name id=N> (...), spawned at ..." and a backtrace to
// stderr, then aborts. Async-signal-safe. `fault`: the faulting address, or null when
// the switch-out check found the stack pointer `sp` too deep.
[[noreturn]] void die_stack_overflow(const Fiber* f, const void* fault, std::uintptr_t sp) noexcept;

}  // namespace gev::detail
