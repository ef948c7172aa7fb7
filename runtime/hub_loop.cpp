// runtime/hub_loop.cpp — the hub's own loop (the thread's native stack): dispatch when
// something is ready, block in the poller until the next deadline when nothing is,
// prove LoopExit when nothing ever can be, and clean up when main returns.
#include "runtime/hub.hpp"

#include "runtime/errors.hpp"
#include "runtime/fiber_switch.hpp"
#include "runtime/greenlet.hpp"
#include "runtime/multi.hpp"

#include <cstdio>
#include <vector>

namespace gev::detail {
namespace {

constexpr std::int64_t kLeftoverGraceNs = 1'000'000'000;

std::string format_seconds(std::int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ns) / 1e9);
    return buf;
}

void noop(void*, std::uint64_t) {}

const char* state_name(FiberState s) {
    switch (s) {
        case FiberState::created: return "not started";
        case FiberState::ready: return "ready";
        case FiberState::running: return "running";
        case FiberState::parked: return "parked";
        case FiberState::suspended: return "suspended";
        case FiberState::dead: return "dead";
    }
    return "?";
}

std::string format_reason(const Fiber* f, std::int64_t now) {
    const WaitReason& r = f->debug.reason;
    char buf[64];
    std::string s;
    switch (r.kind) {
        case WaitKind::none:
            return f->state == FiberState::suspended ? "switched away (greenlet switch)" : "";
        case WaitKind::sleep:
            return "sleep " + format_seconds(f->debug.wait_deadline - now) + " left";
        case WaitKind::join:
            s = "join fiber " + std::to_string(r.number);
            break;
        case WaitKind::object:
            std::snprintf(buf, sizeof buf, "%s %p", r.what, r.object);
            s = buf;
            break;
        case WaitKind::fd:
            s = std::string(r.what) + " fd " + std::to_string(r.number);
            break;
        case WaitKind::idle:
            s = "idle";
            break;
    }
    if (f->debug.wait_deadline >= 0) s += " (times out in " + format_seconds(f->debug.wait_deadline - now) + ")";
    return s;
}

}  // namespace

const char* describe_state(FiberState s) noexcept { return state_name(s); }
std::string describe_wait(const Fiber* f, std::int64_t now) { return format_reason(f, now); }

std::string Hub::describe_fibers(const Fiber* skip) const {
    std::string out;
    std::int64_t now = clock_ns();
    for (const Fiber* f = all_; f != nullptr; f = f->all_next) {
        if (f == skip) continue;
        out += "\n  " + f->display_name() + " id=" + std::to_string(f->id) + " " + state_name(f->state);
        std::string why = format_reason(f, now);
        if (!why.empty()) out += ": " + why;
    }
    return out;
}

// Nothing is ready, no timer is armed, no IO is outstanding and no other thread
// holds the hub (with several hubs: and the same holds on every hub at once): the
// wait of `main` (or of whichever fiber is parked) can never end.
void Hub::report_loop_exit(Fiber* main) {
    Fiber* victim = main != nullptr && main->state == FiberState::parked ? main : nullptr;
    for (Fiber* f = all_; victim == nullptr && f != nullptr; f = f->all_next)
        if (f->state == FiberState::parked) victim = f;
    if (victim == nullptr) die("LoopExit with no parked fiber");
    std::string parked = describe_fibers(victim);
    std::string msg = "\n  " + victim->display_name() + " id=" + std::to_string(victim->id) +
                      " waits on " + format_reason(victim, now_) +
                      (parked.empty() ? std::string() : "\n  other fibers:" + parked) +
                      (runtime != nullptr ? "\n  (all " + std::to_string(runtime->hubs.size()) +
                                                " hubs are idle: no fiber, timer, IO or KeepAlive on any can end it)"
                                          : std::string());
    // A kill held back (by a shield) is not lost: it is raised after the LoopExit.
    if (victim->pending && victim->pending_timeout == 0)
        victim->queued_kills.insert(victim->queued_kills.begin(), std::move(victim->pending));
    victim->pending = std::make_exception_ptr(LoopExit(msg));
    victim->pending_timeout = 0;
    wake(victim, victim->epoch);
}

// Runs until `main` has ended (or, with main == nullptr, until no fiber is left or
// none can progress), or until stop_at (ns, <0: never).
void Hub::loop_until_dead(Fiber* main, std::int64_t stop_at) {
    for (;;) {
        if (loop_done(main)) return;
        if (Fiber* next = pop_ready()) {
            switch_fast(root_, next);
            switches_.store(switches_.load(std::memory_order_relaxed) & ~std::uint64_t{1}, std::memory_order_relaxed);
            continue;
        }
        if (!idlers_.empty()) {
            while (Waiter* w = idlers_.pop_front()) {
                w->woken = true;
                wake(w->fiber, w->epoch);
            }
            budget_ = ready_count_;
            continue;
        }
        now_ = clock_ns();
        if (stop_at >= 0 && now_ >= stop_at) return;
        std::int64_t timeout = -1;
        if (!timers_.empty()) {
            timeout = timers_.top()->deadline - now_;
            if (timeout < 0) timeout = 0;
        } else if (quiet() && nothing_can_wake(main)) {
            if (main == nullptr) return;   // nothing will ever wake what is left
            report_loop_exit(main);
            continue;
        }
        if (stop_at >= 0 && (timeout < 0 || timeout > stop_at - now_)) timeout = stop_at - now_;
        turn(timeout);
    }
}

// No timer is armed: is anything else able to make a fiber of ours ready?
bool Hub::quiet() const noexcept {
    return poller_->outstanding() == 0 && keepalive_.load(std::memory_order_acquire) == 0 &&
           !inbox_.nonempty();
}

// The hub is quiet. Alone (or in a bounded phase: shutdown, grace), nothing can wake
// its fibers. With several hubs, main's hub and the serving hubs count themselves
// stuck and sleep until a post; only the hub whose count completes the set has proof
// that nothing anywhere can move, and main's hub then reports LoopExit.
bool Hub::nothing_can_wake(Fiber* main) {
    if (until_ != nullptr) return true;
    if (runtime == nullptr || (main == nullptr && !serve_mode_)) return !serve_mode_;
    if (!mark_stuck()) return false;
    if (main != nullptr) {
        unstick();
        return true;
    }
    // Main's hub is stuck too: wake it, so that it counts itself again and sees the set complete.
    try {
        runtime->hubs[0]->post(noop, nullptr, 0);
    } catch (...) {
        die("out of memory waking hub 0 to report a deadlock");
    }
    return false;
}

void Hub::run(Fiber* main) {
    main_ = main;
    // A fiber that forked takes main's place in the child (reinit_after_fork).
    do loop_until_dead(main_, -1);
    while (main_->state != FiberState::dead);
    unstick();
    kill_leftovers();
}

bool Hub::loop_done(const Fiber* main) const noexcept {
    if (until_ != nullptr) return until_(until_arg_);
    if (main != nullptr) return main->state == FiberState::dead;
    if (serve_mode_) return !serving_;
    // Fibers killed before they ran stay queued (holding a reference) until popped.
    return live_ == 0 && ready_head_ == nullptr;
}

void Hub::serve() {
    serve_mode_ = serving_ = true;   // fibers may be spawned onto this hub at any time
    loop_until_dead(nullptr, -1);
    unstick();
    serve_mode_ = false;
    kill_leftovers();
}

void Hub::shutdown_here(void* arg, std::uint64_t) {
    auto* hub = static_cast<Hub*>(arg);
    hub->serving_ = false;
}

void Hub::shutdown() { post(shutdown_here, this, 0); }

void Hub::run_until(bool (*done)(void*), void* arg) {
    until_ = done;
    until_arg_ = arg;
    hold();   // what we wait for happens on other threads
    loop_until_dead(nullptr, -1);
    release();
    until_ = nullptr;
}

// When main returns, what is still alive gets GreenletExit (so the destructors on its
// stack run) and a bounded grace period; what survives that is reported.
void Hub::kill_leftovers() {
    if (live_ == 0 && ready_head_ == nullptr) return;
    std::vector<Fiber*> left;
    for (Fiber* f = all_; f != nullptr; f = f->all_next) {
        f->ref();
        left.push_back(f);
    }
    for (Fiber* f : left) kill_fiber(f, nullptr, false, forever);
    for (Fiber* f : left) f->unref();
    loop_until_dead(nullptr, clock_ns() + kLeftoverGraceNs);
    if (live_ != 0)
        std::fprintf(stderr, "gev: hub %u: %zu fiber(s) still alive after they were killed at exit:%s\n", index_,
                     live_, describe_fibers().c_str());
}

}  // namespace gev::detail
