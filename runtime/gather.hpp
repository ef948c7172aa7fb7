// runtime/gather.hpp — asks every hub of this runtime for something only its own thread
// may read (its fibers for format_run_info, its counters for gev::stats) and waits for
// the answers. The asker computes its own hub's part, posts a reference-counted request
// to each other hub and parks (or blocks, on a hub's own loop) until the last one has
// answered or its patience ends; a late answer lands in the still-alive request and is
// dropped. Internal: runtime/debug.cpp and runtime/stats.cpp.
#pragma once

#include "runtime/hub.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace gev::detail {

// What the asker waits on; every member is guarded by mu.
struct GatherWait {
    std::mutex mu;
    std::condition_variable cv;   // for an asker on a hub's own loop
    unsigned left = 0;            // hubs still to answer
    Fiber* waiter = nullptr;      // the parked asker, while it waits
    std::uint64_t epoch = 0;
    // One more hub answered (mu held): the last one wakes the asker.
    void answered_one() noexcept;
};

// The hubs of here's runtime by index (just `here` when it runs alone); a slot may be
// null (a hub not started yet).
std::vector<Hub*> hubs_of(Hub& here);

// Waits until every posted hub has answered or `patience` has passed; `what` names the
// wait in dumps. Uninterruptible: a kill or Timeout stays pending for the caller.
void await_gather(Hub& here, GatherWait& w, const char* what, std::chrono::milliseconds patience);

// compute(hub) on every hub of `hubs`, each on its own thread; a slot stays empty when
// its hub is null, did not answer in time, or its compute threw.
template <class T>
std::vector<std::optional<T>> gather_from_hubs(Hub& here, const std::vector<Hub*>& hubs, T (*compute)(Hub&),
                                               const char* what, std::chrono::milliseconds patience) {
    struct Request : GatherWait {
        T (*compute)(Hub&) = nullptr;
        std::vector<std::optional<T>> parts;
    };
    using Ref = std::shared_ptr<Request>;
    auto req = std::make_shared<Request>();
    req->compute = compute;
    req->parts.resize(hubs.size());
    {
        std::lock_guard lock(req->mu);
        for (Hub* h : hubs)
            if (h != nullptr && h != &here) ++req->left;
    }
    auto answer = +[](void* arg, std::uint64_t index) {
        std::unique_ptr<Ref> ref(static_cast<Ref*>(arg));
        Request& r = **ref;
        std::optional<T> part;
        try {
            part = r.compute(*Hub::current());
        } catch (...) {   // out of memory: the slot stays empty, reported as no answer
        }
        std::lock_guard lock(r.mu);
        r.parts[index] = std::move(part);
        r.answered_one();
    };
    for (std::size_t i = 0; i < hubs.size(); ++i)
        if (hubs[i] != nullptr && hubs[i] != &here) hubs[i]->post(answer, new Ref(req), i);
    std::optional<T> mine = compute(here);
    await_gather(here, *req, what, patience);
    std::lock_guard lock(req->mu);
    std::vector<std::optional<T>> out = req->parts;
    for (std::size_t i = 0; i < hubs.size(); ++i)
        if (hubs[i] == &here) out[i] = std::move(mine);
    return out;
}

}  // namespace gev::detail
