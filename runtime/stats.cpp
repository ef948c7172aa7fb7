// runtime/stats.cpp — gev::stats(): each hub counts its own fibers and reads its own
// counters on its own thread. The asking fiber fills in its hub's entry, posts a
// reference-counted request to each other hub and parks until all have answered or
// its patience ends; a late answer lands in the still-alive request and is dropped.
#include "runtime/stats.hpp"

#include "runtime/hub.hpp"
#include "runtime/multi.hpp"
#include "runtime/threadpool_impl.hpp"

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

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
            switch (f->reason.kind) {
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

struct Request {
    std::mutex mu;
    std::condition_variable cv;     // for a caller on a hub's own loop
    std::vector<HubStats> parts;    // by hub index
    unsigned left = 0;
    Fiber* waiter = nullptr;        // the parked caller, while it waits
    std::uint64_t epoch = 0;
};
using RequestRef = std::shared_ptr<Request>;

void answer(void* arg, std::uint64_t index) {
    std::unique_ptr<RequestRef> ref(static_cast<RequestRef*>(arg));
    Request& r = **ref;
    HubStats s;
    try {
        s = measure(*Hub::current());
    } catch (...) {
        s = HubStats{};   // out of memory naming the poller: reported as not answered
        s.hub = static_cast<unsigned>(index);
    }
    std::lock_guard lock(r.mu);
    r.parts[index] = std::move(s);
    if (--r.left != 0) return;
    if (r.waiter != nullptr) Hub::wake(r.waiter, r.epoch);
    r.cv.notify_all();
}

std::vector<Hub*> hubs_of(Hub& here) {
    if (here.runtime == nullptr) return {&here};
    std::lock_guard lock(here.runtime->mu);
    return here.runtime->hubs;
}

void await_answers(Hub& hub, Request& r, std::chrono::milliseconds patience) {
    Fiber* self = current_fiber();
    bool in_fiber = self->hub == &hub && self->kind != FiberKind::root;
    std::int64_t deadline = hub.deadline_after(patience);
    auto until = std::chrono::steady_clock::now() + patience;
    std::unique_lock lock(r.mu);
    while (r.left > 0) {
        if (!in_fiber) {
            if (r.cv.wait_until(lock, until) == std::cv_status::timeout) break;
            continue;
        }
        r.waiter = self;
        r.epoch = self->epoch;
        lock.unlock();
        Wake w = hub.park(WaitReason{WaitKind::object, "gev::stats", &r}, deadline, false);
        lock.lock();
        if (w == Wake::timed_out) break;
    }
    r.waiter = nullptr;
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
    auto req = std::make_shared<Request>();
    req->parts.resize(hubs.size());
    {
        std::lock_guard lock(req->mu);
        for (Hub* h : hubs)
            if (h != nullptr && h != &hub) ++req->left;
    }
    for (std::size_t i = 0; i < hubs.size(); ++i)
        if (hubs[i] != nullptr && hubs[i] != &hub) hubs[i]->post(answer, new RequestRef(req), i);
    HubStats mine = measure(hub);
    await_answers(hub, *req, patience);
    std::lock_guard lock(req->mu);
    std::vector<HubStats> out = req->parts;
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].hub = static_cast<unsigned>(i);
        if (hubs[i] == &hub) out[i] = mine;
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
