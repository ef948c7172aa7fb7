// runtime/stats.cpp — gev::stats(): each hub counts its own fibers and reads its own
// counters on its own thread (runtime/gather.hpp asks them all); a hub that does not
// answer in time is reported with answered = false.
#include "runtime/stats.hpp"

#include "runtime/gather.hpp"
#include "runtime/hub.hpp"
#include "runtime/threadpool_impl.hpp"

#include <cstdio>
#include <optional>

namespace gev {
namespace detail {
namespace {

void count_fiber(const Fiber* f, HubStats& s) {
    switch (f->state) {
        case FiberState::created: ++s.not_started; return;
        case FiberState::ready: ++s.ready; break;
        case FiberState::running: ++s.running; break;
        case FiberState::suspended: ++s.suspended; break;
        case FiberState::dead: return;
        case FiberState::parked:
            ++s.parked;
            switch (f->debug.reason.kind) {
                case WaitKind::fd: ++s.parked_io; break;
                case WaitKind::sleep: ++s.parked_sleep; break;
                case WaitKind::object: ++s.parked_sync; break;
                case WaitKind::join: ++s.parked_join; break;
                case WaitKind::none:
                case WaitKind::idle: ++s.parked_other; break;
            }
            break;
    }
    if (f->stack.base != nullptr) s.stack_bytes_in_use += f->stack.size;
}

// This hub's entry; runs on the hub's own thread.
HubStats measure(Hub& hub) {
    HubStats s;
    s.hub = hub.index();
    s.poller = hub.poller().name();
    s.answered = true;
    s.fibers = hub.live();
    for (const Fiber* f = hub.fibers(); f != nullptr; f = f->all_next) count_fiber(f, s);
    s.switches = hub.watch_word() >> 1;
    s.polls = hub.polls();
    s.poll_ns = hub.poll_ns();
    s.sleeps = hub.sleeps();
    s.wakeups = hub.wakeups();
    s.inbox = hub.inbox_depth();
    s.timers = hub.timers_armed();
    const StackPool& pool = stack_pool();
    s.stacks_in_use = pool.in_use();
    s.stacks_cached = pool.idle();
    s.stacks_cached_warm = pool.idle_warm();
    s.stack_mapped_bytes = pool.mapped_bytes();
    s.stack_released_bytes = pool.released_bytes();
    if (const ThreadPool* tp = hub.started_threadpool()) {
        s.threadpool_queue = tp->queued();
        s.threadpool_threads = tp->threads();
    }
    return s;
}

void field(std::string& out, const char* name, std::uint64_t v) {
    out += ",\"";
    out += name;
    out += "\":" + std::to_string(v);
}

}  // namespace
}  // namespace detail

std::vector<HubStats> stats(std::chrono::milliseconds patience) {
    using namespace detail;
    Hub& hub = Hub::require("gev::stats");
    std::vector<Hub*> hubs = hubs_of(hub);
    std::vector<std::optional<HubStats>> parts = gather_from_hubs(hub, hubs, &measure, "gev::stats", patience);
    std::vector<HubStats> out(parts.size());
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i]) out[i] = std::move(*parts[i]);   // else answered stays false
        out[i].hub = static_cast<unsigned>(i);
    }
    return out;
}

std::string stats_json(const std::vector<HubStats>& snapshot) {
    std::string out = "{\"hubs\":[";
    for (const HubStats& s : snapshot) {
        if (&s != snapshot.data()) out += ',';
        // Poller names are fixed ASCII words: nothing to escape.
        out += "{\"hub\":" + std::to_string(s.hub) + ",\"poller\":\"" + s.poller + "\",\"answered\":" +
               (s.answered ? "true" : "false");
        detail::field(out, "fibers", s.fibers);
        detail::field(out, "not_started", s.not_started);
        detail::field(out, "ready", s.ready);
        detail::field(out, "running", s.running);
        detail::field(out, "suspended", s.suspended);
        detail::field(out, "parked", s.parked);
        detail::field(out, "parked_io", s.parked_io);
        detail::field(out, "parked_sleep", s.parked_sleep);
        detail::field(out, "parked_sync", s.parked_sync);
        detail::field(out, "parked_join", s.parked_join);
        detail::field(out, "parked_other", s.parked_other);
        detail::field(out, "switches", s.switches);
        detail::field(out, "polls", s.polls);
        detail::field(out, "poll_ns", s.poll_ns);
        detail::field(out, "sleeps", s.sleeps);
        detail::field(out, "wakeups", s.wakeups);
        detail::field(out, "inbox", s.inbox);
        detail::field(out, "timers", s.timers);
        detail::field(out, "stacks_in_use", s.stacks_in_use);
        detail::field(out, "stack_bytes_in_use", s.stack_bytes_in_use);
        detail::field(out, "stacks_cached", s.stacks_cached);
        detail::field(out, "stacks_cached_warm", s.stacks_cached_warm);
        detail::field(out, "stack_mapped_bytes", s.stack_mapped_bytes);
        detail::field(out, "stack_released_bytes", s.stack_released_bytes);
        detail::field(out, "threadpool_queue", s.threadpool_queue);
        detail::field(out, "threadpool_threads", s.threadpool_threads);
        out += '}';
    }
    return out + "]}\n";
}

}  // namespace gev
