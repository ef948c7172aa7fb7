// runtime/monitor.hpp — the blocked-hub watchdog (gevent's monitor thread). One thread
// per process, alive while some hub is watched, looks at every watched hub's
// watch_word() each threshold/2; a hub whose running fiber has not switched for longer
// than the threshold is reported once per stall: which fiber, for how long, and its
// backtrace (taken on the hub's thread by a signal). Internal: gev::run calls these.
#pragma once

#include <optional>

namespace gev::detail {

class Hub;

// Watches `hub`, which runs on the calling thread, when `enable` says so; unset:
// GEV_MONITOR=1/0, else on in debug builds (NDEBUG not defined). The threshold is
// GEV_MONITOR_THRESHOLD_MS (default 100). Never throws: a watchdog that cannot start
// prints why and leaves the hub unwatched.
void monitor_hub(Hub* hub, std::optional<bool> enable) noexcept;
// Stops watching `hub` (a no-op when it was not watched); ~Hub calls it, so the
// monitor never looks at a destroyed hub.
void unmonitor_hub(Hub* hub) noexcept;

}  // namespace gev::detail
