// runtime/raw_greenlet.cpp — greenlet's switch, throw, parent and death rules.
#include "runtime/raw_greenlet.hpp"

#include "runtime/errors.hpp"
#include "runtime/fiber_switch.hpp"
#include "runtime/hub.hpp"

#include <cstdio>

namespace gev::detail {

void adopt_raw(Fiber* f, Fiber* parent) {
    f->id = next_fiber_id();
    f->handles = 1;
    f->greenlet.parent = parent != nullptr ? parent : current_fiber();
    f->greenlet.parent->ref();
}

Fiber* adopt_current() noexcept {
    Fiber* f = current_fiber();
    f->ref();
    ++f->handles;
    return f;
}

void set_raw_parent(Fiber* f, Fiber* parent) {
    if (parent == nullptr) throw_usage(std::errc::invalid_argument, "RawGreenlet::set_parent: empty parent");
    for (Fiber* p = parent; p != nullptr; p = p->greenlet.parent)
        if (p == f) throw_usage(std::errc::invalid_argument, "RawGreenlet::set_parent: cyclic parent chain");
    parent->ref();
    if (f->greenlet.parent != nullptr) f->greenlet.parent->unref();
    f->greenlet.parent = parent;
}

namespace {

// Starts a greenlet's life: a stack, and (inside gev::run) a place among the hub's fibers.
void start(Fiber* f) {
    prepare_stack(f);
    f->ref();   // held while alive; dropped once it has ended
    f->hub = Hub::current();
    if (f->hub != nullptr) f->hub->attach(f);
}

// The first living fiber up the parent chain (the thread's main greenlet at the end).
Fiber* living_ancestor(Fiber* f) {
    while (f != nullptr && f->state == FiberState::dead) f = f->greenlet.parent;
    return f != nullptr ? f : root_fiber();
}

bool waits_in_hub(const Fiber* f) {
    return f->state == FiberState::parked || f->state == FiberState::ready;
}

}  // namespace

namespace {

// The fast path's test: `target` switched away on this thread and may be resumed as it
// is. (A suspended target is never the running fiber, whose state is `running`.)
[[gnu::always_inline]] inline bool resumable(const Fiber* self, const Fiber* target) noexcept {
    return self != nullptr && target != nullptr && target->state == FiberState::suspended &&
           target->hub == t_hub;
}

// Switches from self to target (started, not waiting in the hub) and returns what the
// next switch back passes. A suspended greenlet's slot is empty (each resumption
// empties it), so nothing is moved when nothing was handed over.
[[gnu::always_inline]] inline std::any resume(Fiber* self, Fiber* target) {
    self->state = FiberState::suspended;
    target->state = FiberState::running;
    switch_fast(self, target);
    self->state = FiberState::running;
    Hub::raise_pending(self);
    std::any got;
    if (self->greenlet.transfer.has_value()) [[unlikely]] {
        got = std::move(self->greenlet.transfer);
        self->greenlet.transfer.reset();
    }
    return got;
}

// Apart from the fast paths below, so that their frames stay small.
[[gnu::noinline]] std::any switch_other(Fiber* target, std::any&& value) {
    return switch_slow(current_fiber(), target, std::move(value), nullptr);
}

}  // namespace

std::any switch_into(Fiber* target) {
    Fiber* self = t_current;
    if (!resumable(self, target)) [[unlikely]]
        return switch_other(target, {});
    return resume(self, target);
}

std::any switch_into(Fiber* target, std::any&& value) {
    Fiber* self = t_current;
    if (!resumable(self, target)) [[unlikely]]
        return switch_other(target, std::move(value));
    if (value.has_value()) target->greenlet.transfer = std::move(value);
    return resume(self, target);
}

std::any switch_slow(Fiber* self, Fiber* target, std::any value, std::exception_ptr exception) {
    if (target == nullptr) throw_usage(std::errc::invalid_argument, "RawGreenlet: empty handle");
    target = living_ancestor(target);
    if (target->kind == FiberKind::raw && target->state == FiberState::created && exception) {
        // Never started: it dies at once, and the exception goes where its result would.
        target->state = FiberState::dead;
        if (is_greenlet_exit(exception)) return switch_slow(self, target->greenlet.parent, {}, nullptr);
        return switch_slow(self, target->greenlet.parent, {}, std::move(exception));
    }
    if (target == self) {
        if (exception) std::rethrow_exception(exception);
        return value;
    }
    if (waits_in_hub(target))
        throw_usage(std::errc::operation_not_permitted,
                    "RawGreenlet::switch_to: " + target->display_name() + " is waiting in the hub");
    if (target->hub != nullptr && target->hub != Hub::current())
        throw_usage(std::errc::operation_not_permitted, "RawGreenlet::switch_to: the greenlet belongs to another thread");
    if (target->ctx == nullptr && target->kind == FiberKind::raw) start(target);
    target->greenlet.transfer = std::move(value);
    if (exception) {
        target->pending = std::move(exception);
        target->pending_timeout = 0;
    }
    return resume(self, target);
}

[[noreturn]] void finish_raw(Fiber* self, std::exception_ptr error) noexcept {
    self->state = FiberState::dead;
    if (self->hub != nullptr) {
        self->hub->detach(self);
        self->hub->settle_wakeups(self);
    }
    bool exited = error && is_greenlet_exit(error);
    Fiber* target = living_ancestor(self->greenlet.parent);
    // greenlet's rule for a parent that never ran: an exception kills it unstarted and
    // goes on up; a result starts it, with the result as its argument.
    while (error && target->kind == FiberKind::raw && target->state == FiberState::created) {
        target->state = FiberState::dead;
        target = living_ancestor(target->greenlet.parent);
    }
    Hub* hub = Hub::current();
    if (target == root_fiber() && hub != nullptr) {
        // The parent chain ends at the hub's own loop: nobody can receive the result.
        if (error && !exited) {
            self->error = error;
            hub->report_failure(self);
        }
    } else if (waits_in_hub(target)) {
        die(self->display_name() + " ended, but its parent " + target->display_name() + " is waiting in the hub");
    } else if (error && !exited) {
        target->pending = std::move(error);
        target->pending_timeout = 0;
    } else {
        target->greenlet.transfer = exited ? std::any{} : std::move(self->greenlet.transfer);
    }
    self->greenlet.transfer.reset();
    error = nullptr;   // switch_final never returns: nothing on this frame may still own memory
    if (target->kind == FiberKind::raw && target->ctx == nullptr) {
        try {
            start(target);
        } catch (...) {
            die("could not start " + target->display_name() + ": " + describe(std::current_exception()));
        }
    }
    target->state = FiberState::running;
    switch_final(self, target);
}

void release_raw(Fiber* f) noexcept {
    if (f->handles > 0 && --f->handles == 0 && f->kind == FiberKind::raw &&
        f->state == FiberState::suspended && f->hub == Hub::current()) {
        // greenlet's rule: the last reference to a suspended greenlet raises
        // GreenletExit inside it, and control comes back here once it has ended.
        try {
            set_raw_parent(f, current_fiber());
            switch_slow(current_fiber(), f, {}, std::make_exception_ptr(GreenletExit{}));
        } catch (...) {
            std::fprintf(stderr, "gev: %s raised while being destroyed: %s\n", f->display_name().c_str(),
                         describe(std::current_exception()).c_str());
        }
    }
    f->unref();
}

}  // namespace gev::detail

namespace gev {

std::any RawGreenlet::throw_in(std::exception_ptr exception) const {
    if (!exception) exception = std::make_exception_ptr(GreenletExit{});
    return detail::switch_slow(detail::current_fiber(), f_, {}, std::move(exception));
}

RawGreenlet RawGreenlet::parent() const {
    detail::Fiber* p = f_->greenlet.parent;
    if (p == nullptr) return RawGreenlet();
    p->ref();
    ++p->handles;
    return RawGreenlet(p);
}

RawGreenlet getcurrent() { return RawGreenlet(detail::adopt_current()); }

}  // namespace gev
