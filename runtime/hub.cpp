// runtime/hub.cpp — the ready queue, parking (with shields and queued kills), local
// wake-ups and the loop turn (the cross-thread half is hub_inbox.cpp).
#include "runtime/hub.hpp"

#include "runtime/errors.hpp"
#include "runtime/fiber_switch.hpp"
#include "runtime/monitor.hpp"
#include "runtime/multi.hpp"
#include "runtime/threadpool_impl.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <utility>

namespace gev::detail {

[[gnu::tls_model("initial-exec")]] constinit thread_local Hub* t_hub = nullptr;

namespace {

struct ParkTimer : TimerNode {
    Fiber* fiber;
    std::uint64_t epoch;
    bool fired = false;
};

void on_park_timeout(TimerNode* n) {
    auto* t = static_cast<ParkTimer*>(n);
    t->fired = Hub::wake(t->fiber, t->epoch);
}

bool is_loop_exit(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const LoopExit&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

Hub::Hub(const std::string& poller, ErrorHandler on_error) : root_(root_fiber()) {
    if (t_hub != nullptr) throw_usage(std::errc::device_or_resource_busy, "gev::run: a hub already runs on this thread");
    if (current_fiber() != root_)
        throw_usage(std::errc::operation_not_permitted, "gev::run: must be called outside any greenlet");
    poller_ = make_poller(*this, poller);
    on_error_ = std::move(on_error);
    now_ = clock_ns();
    t_hub = this;
}

Hub::~Hub() {
    unmonitor_hub(this);
    pool_.reset();   // joins the workers before the inbox they post to goes
    // Posts and wake-ups that arrived after the loop's last turn (another hub waking or
    // killing a fiber of ours while it stopped): run them. A fiber
    // handed to us that never ran ends now, and what is queued is released.
    drain_inbox();
    while (Fiber* f = ready_head_) {
        ready_head_ = f->next_ready;
        f->queued = false;
        if (f->state == FiberState::created) end_unstarted(f, std::make_exception_ptr(GreenletExit{}));
        else if (f->state == FiberState::dead) f->unref();
    }
    ready_tail_ = nullptr;
    ready_count_ = 0;
    t_hub = nullptr;
    // A KeepAlive would release a hub that no longer exists.
    if (int held = keepalive_.load(std::memory_order_acquire); held != 0)
        die("hub " + std::to_string(index_) + " ends while " + std::to_string(held) +
            " KeepAlive(s) still hold it: end every gev::KeepAlive before gev::run returns");
}

ThreadPool& Hub::threadpool() {
    if (!pool_) pool_ = std::make_unique<ThreadPool>();
    return *pool_;
}

void Hub::no_hub(const char* op) {
    throw_usage(std::errc::operation_not_permitted, std::string(op) + ": no hub on this thread (call it inside gev::run)");
}

void Hub::make_ready(Fiber* f) noexcept {
    if (f->state != FiberState::created) f->state = FiberState::ready;
    f->queued = true;
    f->next_ready = nullptr;
    (ready_tail_ ? ready_tail_->next_ready : ready_head_) = f;
    ready_tail_ = f;
    ++ready_count_;
}

bool Hub::wake(Fiber* f, std::uint64_t epoch) noexcept {
    Hub* h = f->hub;
    if (h != t_hub) return h->wake_remote(f, epoch);
    if (f->state != FiberState::parked || f->epoch != epoch) return false;
    // Claimed here, so a waker on another hub racing with this one loses.
    std::uint64_t t = f->wake_token.load(std::memory_order_relaxed);
    if (token_epoch(t) != epoch_bits(epoch) ||
        !f->wake_token.compare_exchange_strong(t, t + kTokenStep, std::memory_order_relaxed))
        return false;
    h->make_ready(f);
    return true;
}

namespace {
// A popped fiber without a context: one killed before it ever ran (dropped), or one
// about to run for the first time (given a stack). True if it can run now.
bool start_popped(Fiber* f) noexcept {
    if (f->state == FiberState::dead) {
        f->unref();
        return false;
    }
    try {
        prepare_stack(f);
    } catch (...) {
        end_unstarted(f, std::current_exception());
        return false;
    }
    return true;
}
}  // namespace

namespace {
// The ready queue's fields, so that pop_ready's body inlines where it is hot.
struct ReadyQueue {
    Fiber*& head;
    Fiber*& tail;
    std::size_t& count;
    std::size_t& budget;
    std::atomic<std::uint64_t>& switches;
};

[[gnu::always_inline]] inline Fiber* pop_runnable(ReadyQueue q) noexcept {
    while (Fiber* f = q.head) {
        q.head = f->next_ready;
        if (q.head == nullptr) q.tail = nullptr;
        --q.count;
        if (q.budget > 0) --q.budget;
        f->queued = false;
        // A fiber that has run keeps its context until it dies (and a dead one is
        // never queued again), so only a fiber that never ran lacks one.
        if (f->ctx == nullptr && !start_popped(f)) [[unlikely]]
            continue;
        f->state = FiberState::running;
        q.switches.store((q.switches.load(std::memory_order_relaxed) | 1) + 2, std::memory_order_relaxed);
        return f;
    }
    return nullptr;
}
}  // namespace

Fiber* Hub::pop_ready() noexcept {
    return pop_runnable({ready_head_, ready_tail_, ready_count_, budget_, switches_});
}

void Hub::reschedule(Fiber* self) noexcept {
    // A pass over the ready queue is done: look at IO, timers and the inbox before the
    // next. With nothing ready the hub's loop does that turn anyway (and may block), so
    // a turn here would only add a system call.
    if (budget_ == 0 && ready_count_ > 0) between_passes();
    Fiber* next = pop_runnable({ready_head_, ready_tail_, ready_count_, budget_, switches_});
    if (next == nullptr) next = root_;
    if (next == self) return;
    if (self->state == FiberState::dead) switch_final(self, next);
    switch_fast(self, next);
    self->state = FiberState::running;
}

void Hub::leave_main(Fiber* self) noexcept {
    switch_final(self, root_);
}

bool Hub::can_raise_slow(const Fiber* self) noexcept {
    if (std::uncaught_exceptions() != 0) return false;
    // A shield holds back kills and Timeouts, not the proof that the wait never ends.
    return self->shields == 0 || is_loop_exit(self->pending);
}

void Hub::raise_pending_slow(Fiber* self) {
    if (!can_raise_slow(self)) return;
    std::exception_ptr e = std::move(self->pending);
    self->pending = nullptr;
    self->pending_timeout = 0;
    self->wake_owed = false;
    if (!self->queued_kills.empty()) {
        self->pending = std::move(self->queued_kills.front());
        self->queued_kills.erase(self->queued_kills.begin());
        self->wake_owed = true;
    }
    std::rethrow_exception(e);
}

void Hub::die_parked(const char* what) const noexcept {
    die(std::string(no_park_) + " tried to park (" + what +
        "): it runs on a borrowed stack, where a wait would corrupt the fiber that lends it; "
        "spawn a fiber for work that waits");
}

Wake Hub::park(const WaitReason& why, std::int64_t deadline_ns, bool interruptible) {
    if (no_park_ != nullptr) die_parked(why.what);
    Fiber* self = current_fiber();
    if (self == root_) die("the hub's own loop tried to wait");
    bool owed = false;
    if (can_raise(self)) {
        if (interruptible) {
            // The caller may have registered this wait already and a wake-up for it may
            // be in flight from another hub: end the wait's epoch, or that wake-up would
            // end this fiber's next park early.
            next_epoch(self);
            raise_pending(self);
        }
        // An uninterruptible wait (an io_uring operation, a job) owed a wake-up ends at
        // once, as if the kill had just come; its caller then raises it.
        owed = std::exchange(self->wake_owed, false);
    } else if (!self->pending) {
        self->wake_owed = false;
    }
    ParkTimer timer;
    if (deadline_ns >= 0) {
        timer.fiber = self;
        timer.epoch = self->epoch;
        timer.fire = on_park_timeout;
        arm(&timer, deadline_ns);
    }
    self->debug.reason = why;
    self->debug.wait_deadline = deadline_ns;
    self->state = FiberState::parked;
    // A waker on another hub may have claimed this park between the wait's
    // registration and here: then it is as good as woken.
    if (owed || token_epoch(self->wake_token.load(std::memory_order_acquire)) != epoch_bits(self->epoch))
        make_ready(self);
    reschedule(self);
    next_epoch(self);
    self->debug.reason = WaitReason{};
    self->debug.wait_deadline = -1;
    cancel(&timer);
    if (interruptible) raise_pending(self);
    // Woken by a kill while unwinding: that wake-up is spent, so the first wait after
    // the unwinding must not sleep through the kill (an uninterruptible one included).
    if (self->pending && std::uncaught_exceptions() != 0) self->wake_owed = true;
    return timer.fired ? Wake::timed_out : Wake::notified;
}

void Hub::yield() {
    if (no_park_ != nullptr) die_parked("sleep");
    Fiber* self = t_current;   // never null under a hub
    raise_pending(self);
    // make_ready(self), for a fiber that runs:
    self->state = FiberState::ready;
    self->queued = true;
    self->next_ready = nullptr;
    (ready_tail_ ? ready_tail_->next_ready : ready_head_) = self;
    ready_tail_ = self;
    ++ready_count_;
    // What reschedule() does, inline for the common case: the queue's head has run
    // before (so it has a stack and is not dead), and self, now queued behind it, keeps
    // the head's link non-null.
    if (budget_ == 0) [[unlikely]]
        between_passes();
    Fiber* next = ready_head_;
    if (next == self || next->ctx == nullptr) [[unlikely]] {
        reschedule(self);
    } else {
        ready_head_ = next->next_ready;
        --ready_count_;
        --budget_;   // a pass over at least self and next: it was not spent
        next->queued = false;
        next->state = FiberState::running;
        switches_.store((switches_.load(std::memory_order_relaxed) | 1) + 2, std::memory_order_relaxed);
        switch_fast(self, next);
        self->state = FiberState::running;
    }
    raise_pending(self);
}

void Hub::idle() {
    Fiber* self = current_fiber();
    Waiter w;
    w.fiber = self;
    w.epoch = self->epoch;
    idlers_.push_back(&w);
    try {
        park(WaitReason{WaitKind::idle, "idle"});
    } catch (...) {
        idlers_.remove(&w);
        throw;
    }
    idlers_.remove(&w);
}

void Hub::arm(TimerNode* t, std::int64_t deadline_ns) { timers_.arm(t, deadline_ns); }

std::int64_t Hub::deadline_after(Duration d) noexcept {
    // Read the clock: the turn's cached time is stale when the caller held the thread
    // for a while (blocking work), and a deadline from it would fire early.
    now_ = clock_ns();
    std::int64_t ns = d.count() < 0 ? 0 : d.count();
    if (ns > std::numeric_limits<std::int64_t>::max() - now_) return std::numeric_limits<std::int64_t>::max();
    return now_ + ns;
}

void Hub::fire_timers() noexcept {
    NoPark guard(*this, "a timer callback");
    while (TimerNode* t = timers_.pop_due(now_)) t->fire(t);
}

// One turn of the loop: other threads' posts, IO, then timers. Runs on the stack of
// whichever fiber is switching away (timeout 0) or on the hub's own (blocking).
void Hub::turn(std::int64_t timeout_ns) noexcept {
    // A post may have made someone ready or changed what the loop waits for (a shutdown,
    // a stop condition): do not block before the loop has looked again.
    if (drain_inbox() || ready_count_ > 0) timeout_ns = 0;
    bool polled = false;
    bool spun = std::exchange(spun_, false);   // mark_stuck() has spun this idle spell already
    if (timeout_ns != 0 && spin_ns_ > 0 && !spun) {
        std::int64_t limit = timeout_ns < 0 ? spin_ns_ : std::min(spin_ns_, timeout_ns);
        // Work found while spinning: the spin has looked at the poller lately, so this
        // turn skips that system call.
        if (spin_for_work(limit)) timeout_ns = 0, polled = true;
        else if (timeout_ns > 0) timeout_ns -= limit;
    }
    bool slept = timeout_ns != 0;
    if (slept) {
        // Dekker with pushed(): either it sees us sleeping and wakes the poller, or we see its node.
        sleeping_.store(true, std::memory_order_seq_cst);
        if (inbox_.nonempty()) timeout_ns = 0;
        else ++sleeps_;
    }
    if (!polled) poll(timeout_ns);
    if (slept) {
        sleeping_.store(false, std::memory_order_relaxed);
        drain_inbox();
    }
    if (!timers_.empty() || timeout_ns != 0) {
        now_ = clock_ns();
        fire_timers();
    }
    budget_ = ready_count_;
}

void Hub::poll(std::int64_t timeout_ns) noexcept {
    NoPark guard(*this, "an IO completion");
    if (timeout_ns == 0 && poller_->outstanding() == 0) {
        // The look between two passes over the ready queue with no IO in flight: the
        // poller only tidies up, so the two clock reads would cost more than the call.
        poller_->poll(0);
        ++polls_;
        return;
    }
    std::int64_t start = clock_ns();
    poller_->poll(timeout_ns);
    ++polls_;
    poll_ns_ += static_cast<std::uint64_t>(clock_ns() - start);
}

// Watches the inbox (and, now and then, the poller) for up to limit_ns; true as soon as
// there is something to do. Bounded, so a hub left idle stops using CPU. Every 128 looks
// (a few µs) it yields the CPU: a thread that shares it, the hub it waits on maybe, then
// runs now rather than when the kernel preempts the spinner; alone, that costs a fast
// system call.
bool Hub::spin_for_work(std::int64_t limit_ns) noexcept {
    std::int64_t end = clock_ns() + limit_ns;
    for (unsigned i = 1;; ++i) {
        if (inbox_.nonempty()) return true;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if ((i & 127) == 0) {
            if (poller_->outstanding() != 0) {
                poll(0);
                if (ready_count_ > 0) return true;
            }
            if (clock_ns() >= end) return false;
            sched_yield();
        }
    }
}

void Hub::attach(Fiber* f) noexcept {
    f->attached = true;
    f->debug.spawn_ns = now_;
    f->all_prev = nullptr;
    f->all_next = all_;
    if (all_ != nullptr) all_->all_prev = f;
    all_ = f;
    ++live_;
}

void Hub::detach(Fiber* f) noexcept {
    if (!f->attached) return;
    f->attached = false;
    (f->all_prev ? f->all_prev->all_next : all_) = f->all_next;
    if (f->all_next != nullptr) f->all_next->all_prev = f->all_prev;
    f->all_prev = f->all_next = nullptr;
    --live_;
}

ErrorHandler Hub::set_error_handler(ErrorHandler h) {
    std::swap(h, on_error_);
    return h;
}

void Hub::report_failure(Fiber* f) {
    FailureReport r;
    r.name = f->display_name();
    r.id = f->id;
    r.error = f->error;
    r.message = "gev: <" + r.name + " id=" + std::to_string(r.id) + "> failed with " + describe(f->error);
    report(r);
}

void Hub::report(const FailureReport& r) {
    try {
        if (on_error_) {
            NoPark guard(*this, "the error handler");
            on_error_(r);
            return;
        }
    } catch (...) {
        std::fprintf(stderr, "gev: the error handler itself failed: %s\n",
                     describe(std::current_exception()).c_str());
    }
    std::fprintf(stderr, "%s\n", r.message.c_str());
}

}  // namespace gev::detail
