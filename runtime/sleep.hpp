// runtime/sleep.hpp — gevent.sleep and gevent.idle.
#pragma once

#include "runtime/clock.hpp"

namespace gev {

// Parks only the calling fiber for `d`. sleep(0) lets every other ready fiber run
// once (and the hub poll IO and timers) before the caller resumes.
void sleep(Duration d);
// Parks until the hub has nothing else to run.
void idle();

}  // namespace gev
