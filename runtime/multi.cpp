// runtime/multi.cpp — starting, running and stopping gev::run's extra hubs, spawn_on,
// and the proof of a deadlock across hubs (every hub stuck at once). Shutdown: main
// returns on hub 0, hub 0 kills its own leftovers, then asks every other hub to kill
// its fibers (each gets the grace period) and keeps serving its inbox until all have
// stopped; only then are the hubs destroyed.
#include "runtime/multi.hpp"

#include "runtime/greenlet.hpp"
#include "runtime/hub.hpp"
#include "runtime/monitor.hpp"
#include "runtime/run.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace gev::detail {
namespace {

void pin_to_cpu(unsigned i) {
    unsigned n = std::thread::hardware_concurrency();
    if (n == 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(i % n, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void noop(void*, std::uint64_t) {}

// RunOptions::spin in ns: spinning pays only while every hub has a CPU to itself.
std::int64_t spin_ns(const RunOptions& o, unsigned hubs) {
    if (o.spin) return o.spin->count() > 0 ? o.spin->count() : 0;
    if (const char* env = std::getenv("GEV_SPIN_US"); env != nullptr && *env != '\0')
        return std::max(0ll, std::atoll(env)) * 1000;
    return hubs <= std::thread::hardware_concurrency() ? 50'000 : 0;
}

void adopt_remote(void* arg, std::uint64_t) {
    auto* f = static_cast<Fiber*>(arg);
    if (f->state != FiberState::dead) {   // not killed on its way here
        f->hub->attach(f);
        f->hub->make_ready(f);
    }
    f->unref();   // the post's reference
}

void hub_thread(Runtime& rt, const RunOptions& o, unsigned i, std::exception_ptr& failure) {
    std::unique_ptr<Hub> hub;
    try {
        hub = std::make_unique<Hub>(o.poller, o.on_error);
        hub->set_index(i);
        hub->set_spin(spin_ns(o, static_cast<unsigned>(rt.hubs.size())));
        hub->runtime = &rt;
        if (o.pin_cpus) pin_to_cpu(i);
    } catch (...) {
        failure = std::current_exception();
    }
    {
        std::lock_guard lock(rt.mu);
        rt.hubs[i] = hub.get();
        ++rt.started;
    }
    rt.cv.notify_all();
    if (hub) {
        monitor_hub(hub.get(), o.monitor);
        hub->serve();
    }
    rt.stopped.fetch_add(1);
    if (Hub* h0 = rt.hubs[0]) h0->post(noop, nullptr, 0);   // hub 0 re-checks whether all have stopped
    std::unique_lock lock(rt.mu);
    rt.cv.wait(lock, [&] { return rt.release_hubs; });
}

}  // namespace

void run_main_multi(Fiber* main, const RunOptions& o, unsigned n) {
    Runtime rt;
    rt.hubs.assign(n, nullptr);
    std::unique_ptr<Hub> hub0;
    try {
        hub0 = std::make_unique<Hub>(o.poller, o.on_error);
    } catch (...) {
        main->unref();
        throw;
    }
    hub0->runtime = &rt;
    hub0->set_spin(spin_ns(o, n));
    if (o.pin_cpus) pin_to_cpu(0);
    std::vector<std::exception_ptr> failures(n);
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < n; ++i)
        threads.emplace_back(hub_thread, std::ref(rt), std::cref(o), i, std::ref(failures[i]));
    {
        std::unique_lock lock(rt.mu);
        rt.cv.wait(lock, [&] { return rt.started == n - 1; });
        rt.hubs[0] = hub0.get();
    }
    std::exception_ptr failure;
    for (auto& f : failures)
        if (f && !failure) failure = f;
    if (!failure) {
        main->is_main = true;
        main->hub = hub0.get();
        main->id = next_fiber_id();
        main->debug.name = "main";
        hub0->attach(main);
        hub0->make_ready(main);
        monitor_hub(hub0.get(), o.monitor);
        hub0->run(main);
    } else {
        main->unref();
    }
    for (unsigned i = 1; i < n; ++i)
        if (rt.hubs[i] != nullptr) rt.hubs[i]->shutdown();
    hub0->run_until([](void* a) {
        auto* r = static_cast<Runtime*>(a);
        return r->stopped.load() == r->hubs.size() - 1;
    }, &rt);
    {
        std::lock_guard lock(rt.mu);
        rt.release_hubs = true;
    }
    rt.cv.notify_all();
    for (std::thread& t : threads) t.join();
    hub0.reset();
    if (failure) std::rethrow_exception(failure);
    if (main->error && !main->ended_by_exit) std::rethrow_exception(main->error);
}

// The hub is quiet (nothing ready, no timer, IO, hold or post). Counts it stuck; true
// when that makes every hub stuck, which must then mean that nothing anywhere can move.
// - It spins first (RunOptions::spin): while a hub is counted, a post to it costs its
//   poster an un-count and a system call to wake it, so a hub counts itself only as it
//   goes to sleep.
// - It looks at its inbox after raising stuck_ and before joining the count. A post is
//   then seen here (a push swaps the inbox's tail before pushed() reads stuck_) or
//   un-counts the hub in pushed(), and a poster is not counted before its pushed()
//   returns. Looking after joining would let a poster that had already returned count
//   itself, complete the set and report while this hub still had the post to run.
// - A poster takes the hub off the count in two steps (kCounted → kUncounting, the
//   decrement, → kFree), and the hub cannot count itself again in between: a hub woken
//   by the node the poster pushed, while the poster was still between the two, would
//   otherwise be in the count twice and complete the set beside a hub still running.
// Lock-free; the count may dip by one while a poster un-counts a hub that has raised
// stuck_ but not yet joined (the hub then adds the one back), which only delays a report.
bool Hub::mark_stuck() noexcept {
    if (stuck_.load(std::memory_order_seq_cst) != kFree) return false;
    if (spin_ns_ > 0) {
        if (spin_for_work(spin_ns_)) return false;
        spun_ = true;   // turn() sleeps at once
    }
    stuck_.store(kCounted, std::memory_order_seq_cst);
    if (inbox_.nonempty()) {
        // A poster that found us counted takes one off the count for us: add it back.
        std::uint8_t s = kCounted;
        if (!stuck_.compare_exchange_strong(s, kFree, std::memory_order_seq_cst))
            runtime->stuck.fetch_add(1, std::memory_order_seq_cst);
        return false;
    }
    std::size_t counted = runtime->stuck.fetch_add(1, std::memory_order_seq_cst) + 1;
    if (counted != runtime->hubs.size()) return false;
    spun_ = false;   // no turn follows: the next idle spell spins afresh
    return true;
}

// Any thread: the hub has (or may have) work again. True if it was counted stuck.
bool Hub::unstick() noexcept {
    std::uint8_t s = kCounted;
    if (stuck_.load(std::memory_order_seq_cst) != kCounted ||
        !stuck_.compare_exchange_strong(s, kUncounting, std::memory_order_seq_cst))
        return false;
    runtime->stuck.fetch_sub(1, std::memory_order_seq_cst);
    stuck_.store(kFree, std::memory_order_seq_cst);
    return true;
}

void spawn_fiber_on(Fiber* f, unsigned index, const SpawnOptions& opts) {
    const void* site = __builtin_return_address(0);
    Hub* here = Hub::current();
    if (here == nullptr) {
        f->unref();
        Hub::require("gev::spawn_on");
    }
    std::size_t n = here->runtime != nullptr ? here->runtime->hubs.size() : 1;
    if (index >= n) {
        f->unref();
        throw_usage(std::errc::invalid_argument,
                    "gev::spawn_on: no hub " + std::to_string(index) + " (gev::run has " + std::to_string(n) + ")");
    }
    Hub* target = here->runtime != nullptr ? here->runtime->hubs[index] : here;
    if (target == here) {
        spawn_fiber(f, opts);
        f->debug.spawn_site = site;
        return;
    }
    f->debug.spawn_site = site;
    f->hub = target;
    f->id = next_fiber_id();
    f->stack_request = opts.stack_size;
    if (!opts.name.empty()) f->debug.name = opts.name;
    f->ref();   // for the post
    target->post(adopt_remote, f, 0);
}

}  // namespace gev::detail

namespace gev {

unsigned hub_count() noexcept {
    detail::Hub* h = detail::Hub::current();
    if (h == nullptr) return 0;
    return h->runtime != nullptr ? static_cast<unsigned>(h->runtime->hubs.size()) : 1;
}

unsigned hub_index() noexcept {
    detail::Hub* h = detail::Hub::current();
    return h != nullptr ? h->index() : 0;
}

}  // namespace gev
