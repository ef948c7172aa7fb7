// runtime/multi.hpp — gev::run with several hubs: one thread per hub, main on hub 0.
// A fiber never moves to another thread; what crosses hubs are wake-ups, spawns and
// kills, each posted to the target hub's inbox. Internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace gev::detail {

class Hub;

struct Runtime {
    std::vector<Hub*> hubs;             // index -> hub, all set before main starts
    std::atomic<unsigned> stopped{0};   // hubs (other than 0) whose loops have ended
    std::mutex mu;
    std::condition_variable cv;
    unsigned started = 0;               // hubs (other than 0) that are up (or failed)
    bool release_hubs = false;          // every loop has ended: hubs may be destroyed
    // Hubs that found nothing able to wake their fibers (Hub::mark_stuck). When all
    // are stuck at once nothing anywhere can move: main gets LoopExit.
    std::atomic<std::size_t> stuck{0};
};

}  // namespace gev::detail
