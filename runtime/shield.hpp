// runtime/shield.hpp — gev::Shield: a scope in which the current fiber's waits cannot
// be cut short by a kill or a Timeout (trio's shielded cancel scope). Cleanup that
// must finish — closing a connection politely, a destructor that waits for its
// workers — runs under one. What arrives meanwhile stays pending and is raised at the
// fiber's first wait after the outermost shield ends.
#pragma once

#include "runtime/fiber.hpp"

namespace gev {

class Shield {
public:
    // Shields the calling fiber until the scope ends; shields nest. Never throws.
    Shield() noexcept : fiber_(detail::current_fiber()) { ++fiber_->shields; }
    ~Shield() {
        // What arrived meanwhile was not allowed to wake the fiber: the next wait must
        // not sleep through it.
        if (--fiber_->shields == 0 && fiber_->pending) fiber_->wake_owed = true;
    }
    Shield(const Shield&) = delete;
    Shield& operator=(const Shield&) = delete;

private:
    detail::Fiber* fiber_;
};

}  // namespace gev
