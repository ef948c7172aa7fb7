// runtime/greenlet.cpp — the life of a hub fiber: spawn, death, joiners, links, kill.
#include "runtime/greenlet.hpp"

#include "runtime/hub.hpp"
#include "runtime/timeout.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <system_error>

namespace gev::detail {

// A public link: a callback node that starts a fiber running fn (gevent's SpawnedLink).
struct LinkNode : RawLink {
    LinkId id;
    int when;            // 0: always, 1: on success, 2: on failure
    std::function<void(Greenlet<>)> fn;
};

[[noreturn]] void finish_raw(Fiber* self, std::exception_ptr error) noexcept;

namespace {

// A joiner: wakes the joining fiber's park (the node lives on its stack).
struct JoinLink : RawLink {
    Fiber* fiber = nullptr;
    std::uint64_t epoch = 0;
};

bool failed(const Fiber* f) noexcept { return f->error && !f->ended_by_exit; }

void fire_link(RawLink* r, Fiber* f) {
    std::unique_ptr<LinkNode> n(static_cast<LinkNode*>(r));
    if ((n->when == 1 && failed(f)) || (n->when == 2 && !failed(f))) return;
    f->ref();
    gev::spawn(std::move(n->fn), Greenlet<>(f));
}

// A callback that threw goes to the hub's error handler, as gevent's handle_error.
void run_callback(Hub& hub, Fiber* f, RawLink* n) noexcept {
    try {
        n->callback(n, f);
    } catch (...) {
        FailureReport r;
        r.name = f->display_name();
        r.id = f->id;
        r.error = std::current_exception();
        r.message = "gev: a link of <" + r.name + " id=" + std::to_string(r.id) + "> failed with " +
                    describe(r.error);
        hub.report(r);
    }
}

// Takes the next callback off f's list, running the locked ones before it (joiners:
// claimed under the lock, delivered after it). Null when the list is empty. The first
// call (`ending`) also marks f ended, under the same lock.
RawLink* next_callback(Fiber* f, bool ending) noexcept {
    OwedWakes owed;
    RawLink* cb = nullptr;
    {
        std::lock_guard lock(f->observers);
        if (ending) f->ended.store(true, std::memory_order_release);
        while (RawLink* n = f->links.pop_front()) {
            if (n->callback != nullptr) {
                cb = n;
                break;
            }
            n->locked(n, f, owed);
        }
    }
    Hub::deliver(owed);
    return cb;
}

// The fiber has ended: notify its joiners, callbacks and links (on any hub) in the
// order they were added, as gevent's _notify_links does (a joiner resumes after the
// links added before it have started), then report a failure. Once `ended` is set no
// link is added; one whose owner removes it takes the same lock.
void notify_death(Fiber* f) noexcept {
    Hub* hub = f->hub;
    {
        Hub::NoPark guard(*hub, "a link callback");
        for (RawLink* cb = next_callback(f, true); cb != nullptr; cb = next_callback(f, false))
            run_callback(*hub, f, cb);
    }
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
    if (!opts.name.empty()) f->debug.name = opts.name;
    hub->attach(f);
    return *hub;
}
}  // namespace

void spawn_fiber(Fiber* f, const SpawnOptions& opts) {
    f->debug.spawn_site = __builtin_return_address(0);   // in the caller: gev::spawn is inlined there
    adopt(f, opts, "gev::spawn").make_ready(f);   // stays `created` until it first runs
}

void spawn_fiber_later(Fiber* f, Duration delay, const SpawnOptions& opts) {
    f->debug.spawn_site = __builtin_return_address(0);
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

bool add_rawlink(Fiber* f, RawLink* n) noexcept {
    std::lock_guard lock(f->observers);
    if (f->ended.load(std::memory_order_relaxed)) return false;
    f->links.push_back(n);
    return true;
}

bool remove_rawlink(Fiber* f, RawLink* n) noexcept {
    std::lock_guard lock(f->observers);
    return f->links.remove(n);
}

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
    JoinLink node;
    node.fiber = self;
    node.locked = [](RawLink* r, Fiber*, OwedWakes& owed) noexcept {
        auto* j = static_cast<JoinLink*>(r);
        Hub::claim(j->fiber, j->epoch, owed);
    };
    {
        std::lock_guard lock(f->observers);
        if (f->ended.load(std::memory_order_relaxed)) return true;
        node.epoch = self->epoch;
        f->links.push_back(&node);
    }
    struct Unlink {
        Fiber* f;
        JoinLink* node;
        ~Unlink() { remove_rawlink(f, node); }
    } unlink{f, &node};
    std::int64_t deadline = timeout ? hub.deadline_after(*timeout) : -1;
    while (!f->ended.load(std::memory_order_acquire)) {
        if (hub.park(WaitReason{WaitKind::join, "join", f, static_cast<std::int64_t>(f->id)}, deadline) ==
            Wake::timed_out)
            break;
        std::lock_guard lock(f->observers);
        node.epoch = self->epoch;
    }
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
    auto* n = new LinkNode;
    n->callback = fire_link;
    n->id = id;
    n->when = when;
    n->fn = std::move(fn);
    if (!add_rawlink(f, n)) fire_link(n, f);   // it has ended already: the link fires now
    return id;
}

bool unlink_fiber(Fiber* f, LinkId id) noexcept {
    LinkNode* found = nullptr;
    {
        std::lock_guard lock(f->observers);
        for (RawLink* n = f->links.front(); n != nullptr; n = n->next) {
            if (n->callback == fire_link && static_cast<LinkNode*>(n)->id == id) {
                f->links.remove(n);
                found = static_cast<LinkNode*>(n);
                break;
            }
        }
    }
    delete found;   // its function's captures die outside the lock
    return found != nullptr;
}

}  // namespace gev::detail
