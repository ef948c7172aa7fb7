// runtime/greenlet.cpp — the life of a hub fiber: spawn, death, joiners, links, kill.
#include "runtime/greenlet.hpp"

#include "runtime/hub.hpp"
#include "runtime/timeout.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <system_error>

namespace gev::detail {

struct LinkNode {
    LinkNode* next;
    LinkId id;
    int when;            // 0: always, 1: on success, 2: on failure
    std::uint64_t seq;   // next_observer_seq() when added
    std::function<void(Greenlet<>)> fn;
};

[[noreturn]] void finish_raw(Fiber* self, std::exception_ptr error) noexcept;

namespace {

thread_local std::uint64_t t_death_seq = 0;   // per thread: a hub orders its own fibers' deaths
// Process-wide, so links and joiners added from different hubs still get one order;
// taken under the fiber's `observers` lock, so each fiber's own are increasing.
std::atomic<std::uint64_t> g_observer_seq{0};

bool failed(const Fiber* f) noexcept { return f->error && !f->ended_by_exit; }

void fire_link(Fiber* f, LinkNode* n) {
    if ((n->when == 1 && failed(f)) || (n->when == 2 && !failed(f))) return;
    f->ref();
    gev::spawn(std::move(n->fn), Greenlet<>(f));
}

// Wakes the joiners added before `before` (a link's seq; UINT64_MAX: all), in order.
// Once `ended` is set no joiner is added, and one that leaves takes the same lock.
// Joiners on other hubs are claimed under the lock and pushed to their hubs after it.
void wake_joiners(Fiber* f, std::uint64_t before) noexcept {
    OwedWakes owed;
    {
        std::lock_guard lock(f->observers);
        while (Waiter* w = f->joiners.front()) {
            if (w->data >= before) break;
            f->joiners.pop_front();
            w->woken = true;
            Hub::claim(w->fiber, w->epoch, owed);
        }
    }
    Hub::deliver(owed);
}

// The fiber has ended: notify its links and joiners (on any hub) in the order they were
// added, as gevent does (a joiner resumes after the links added before it have started),
// then report a failure.
void notify_death(Fiber* f) noexcept {
    f->death_seq = ++t_death_seq;
    Hub* hub = f->hub;
    LinkNode* links;
    {
        std::lock_guard lock(f->observers);
        f->ended.store(true, std::memory_order_release);
        links = std::exchange(f->links, nullptr);
    }
    // The list was built newest first.
    LinkNode* ordered = nullptr;
    while (links != nullptr) ordered = std::exchange(links, std::exchange(links->next, ordered));
    while (ordered != nullptr) {
        LinkNode* n = std::exchange(ordered, ordered->next);
        wake_joiners(f, n->seq);
        try {
            fire_link(f, n);
        } catch (...) {
            std::fprintf(stderr, "gev: could not start a link of %s\n", f->display_name().c_str());
        }
        delete n;
    }
    wake_joiners(f, UINT64_MAX);
    if (failed(f) && !f->is_main) hub->report_failure(f);
    hub->detach(f);
}

void record_end(Fiber* f, std::exception_ptr error) noexcept {
    f->ended_by_exit = error && is_greenlet_exit(error);
    f->error = std::move(error);
    f->state = FiberState::dead;
}

}  // namespace

namespace {
Hub& adopt(Fiber* f, const SpawnOptions& opts, const char* op) {
    Hub* hub = Hub::current();
    if (hub == nullptr) {
        f->unref();   // the reference it would have held while alive
        Hub::require(op);
    }
    f->hub = hub;
    f->id = next_fiber_id();
    f->stack_request = opts.stack_size;
    if (!opts.name.empty()) f->name = opts.name;
    hub->attach(f);
    return *hub;
}
}  // namespace

void spawn_fiber(Fiber* f, const SpawnOptions& opts) {
    f->spawn_site = __builtin_return_address(0);   // in the caller: gev::spawn is inlined there
    adopt(f, opts, "gev::spawn").make_ready(f);   // stays `created` until it first runs
}

void spawn_fiber_later(Fiber* f, Duration delay, const SpawnOptions& opts) {
    f->spawn_site = __builtin_return_address(0);
    Hub& hub = adopt(f, opts, "gev::spawn_later");
    f->start_timer.owner = f;
    f->start_timer.fire = [](TimerNode* t) {
        Fiber* fb = static_cast<Fiber::OwnedTimer*>(t)->owner;
        fb->hub->make_ready(fb);
    };
    hub.arm(&f->start_timer, hub.deadline_after(delay));
}

[[noreturn]] void finish_fiber(Fiber* self, std::exception_ptr error) noexcept {
    if (self->kind == FiberKind::raw) finish_raw(self, std::move(error));
    record_end(self, std::move(error));
    Hub* hub = self->hub;
    notify_death(self);
    hub->settle_wakeups(self);
    if (self->is_main) hub->leave_main(self);
    hub->reschedule(self);   // never returns for a dead fiber
    __builtin_unreachable();
}

void end_unstarted(Fiber* f, std::exception_ptr why) noexcept {
    record_end(f, std::move(why));
    notify_death(f);
    f->drop_function();
    if (!f->queued) f->unref();   // otherwise the ready queue drops it when it gets there
}

bool only_looks(const MaybeDuration& timeout) noexcept {
    return timeout && timeout->count() <= 0 && (Hub::current() == nullptr || current_fiber() == root_fiber());
}

std::uint64_t next_observer_seq() noexcept { return g_observer_seq.fetch_add(1, std::memory_order_relaxed) + 1; }

void throw_taken(Fiber* f, const char* op) {
    throw std::system_error(std::make_error_code(std::errc::no_message_available),
                            std::string(op) + ": the result of " + f->display_name() + " was already taken");
}

bool join_fiber(Fiber* f, MaybeDuration timeout) {
    if (f->ended.load(std::memory_order_acquire)) return true;
    if (only_looks(timeout)) return false;
    Hub& hub = Hub::require("Greenlet::join");
    Fiber* self = current_fiber();
    if (f == self) throw_usage(std::errc::resource_deadlock_would_occur, "Greenlet::join: a fiber cannot join itself");
    // Our own reference: the handle we were called through may go away while we wait
    // (a caller's frame unwinding at exit), and the lists below live in *f.
    f->ref();
    struct Unref {
        Fiber* f;
        ~Unref() { f->unref(); }
    } keep{f};
    Waiter w;
    w.fiber = self;
    {
        std::lock_guard lock(f->observers);
        if (f->ended.load(std::memory_order_relaxed)) return true;
        w.epoch = self->epoch;
        w.data = next_observer_seq();
        f->joiners.push_back(&w);
    }
    auto unlink = [&] {
        std::lock_guard lock(f->observers);
        f->joiners.remove(&w);
    };
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    try {
        while (!f->ended.load(std::memory_order_acquire)) {
            if (hub.park(WaitReason{WaitKind::join, "join", f, static_cast<std::int64_t>(f->id)}, deadline) ==
                Wake::timed_out)
                break;
            std::lock_guard lock(f->observers);
            w.epoch = self->epoch;
        }
    } catch (...) {
        unlink();
        throw;
    }
    unlink();
    return f->ended.load(std::memory_order_acquire);
}

bool check_result(Fiber* f, MaybeDuration timeout) {
    if (!join_fiber(f, timeout)) throw Timeout::expired(timeout.value_or(Duration{0}));
    if (f->ended_by_exit) return false;
    if (f->error) std::rethrow_exception(f->error);
    return true;
}

namespace {
struct RemoteKill {
    Fiber* fiber;
    std::exception_ptr exception;
};

void kill_here(void* arg, std::uint64_t) {
    auto* k = static_cast<RemoteKill*>(arg);
    kill_fiber(k->fiber, std::move(k->exception), false, forever);
    k->fiber->unref();
    delete k;
}
}  // namespace

void kill_fiber(Fiber* f, std::exception_ptr exception, bool block, MaybeDuration timeout) {
    if (f->ended.load(std::memory_order_acquire)) return;
    if (!exception) exception = std::make_exception_ptr(GreenletExit{});
    Hub* hub = f->hub;
    if (hub != Hub::current()) {   // another hub's fiber: that hub raises it
        f->ref();
        hub->post(kill_here, new RemoteKill{f, std::move(exception)}, 0);
        if (block && Hub::current() != nullptr && current_fiber() != root_fiber()) join_fiber(f, timeout);
        return;
    }
    if (f->state == FiberState::dead) return;
    if (f->state == FiberState::created) {
        hub->cancel(&f->start_timer);
        end_unstarted(f, std::move(exception));
        return;
    }
    // Killing yourself raises at once; but a kill that arrives while this fiber is
    // switching away (the hub's turn runs on its stack) waits for it to park.
    if (f == current_fiber() && f->state == FiberState::running) std::rethrow_exception(exception);
    if (f->pending && f->pending_timeout == 0) {
        f->queued_kills.push_back(std::move(exception));   // raised after the pending one
    } else {
        f->pending = std::move(exception);   // a kill wins over a Timeout not yet raised
        f->pending_timeout = 0;
        if (f->state == FiberState::parked && f->shields == 0) Hub::wake(f, f->epoch);
        else if (f->state == FiberState::suspended) hub->make_ready(f);
        else f->wake_owed = true;   // its next park, even an uninterruptible one, ends at once
    }
    if (block && current_fiber() != root_fiber()) join_fiber(f, timeout);
}

LinkId link_fiber(Fiber* f, std::function<void(Greenlet<>)> fn, int when) {
    static thread_local LinkId next_id = 0;
    LinkId id = ++next_id;
    auto* n = new LinkNode{nullptr, id, when, 0, std::move(fn)};
    {
        std::lock_guard lock(f->observers);
        if (!f->ended.load(std::memory_order_relaxed)) {
            n->seq = next_observer_seq();
            n->next = f->links;
            f->links = n;
            return id;
        }
    }
    {   // it has ended already: the link fires now
        try {
            fire_link(f, n);
        } catch (...) {
            delete n;
            throw;
        }
        delete n;
        return id;
    }
}

bool unlink_fiber(Fiber* f, LinkId id) noexcept {
    std::lock_guard lock(f->observers);
    for (LinkNode** p = &f->links; *p != nullptr; p = &(*p)->next) {
        if ((*p)->id == id) {
            delete std::exchange(*p, (*p)->next);
            return true;
        }
    }
    return false;
}

}  // namespace gev::detail
