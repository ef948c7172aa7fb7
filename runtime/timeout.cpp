// runtime/timeout.cpp — arming, firing and disarming Timeout scopes.
#include "runtime/timeout.hpp"

#include "runtime/hub.hpp"

#include <cstdio>

namespace gev {

Timeout::Timeout(MaybeDuration duration) : Timeout(duration, nullptr) {}

Timeout::Timeout(MaybeDuration duration, std::exception_ptr exception)
    : duration_(duration), id_(detail::next_fiber_id()), exception_(std::move(exception)) {
    hub_ = &detail::Hub::require("gev::Timeout");
    owner_ = detail::current_fiber();
    if (!duration_) return;
    timer_.self = this;
    timer_.fire = fire;
    hub_->arm(&timer_, hub_->deadline_after(*duration_));
}

Timeout::Timeout(const Timeout& other) noexcept
    : duration_(other.duration_), id_(other.id_), exception_(other.exception_) {}

Timeout Timeout::expired(Duration after) noexcept {
    Timeout t;
    t.duration_ = after;
    t.id_ = detail::next_fiber_id();
    return t;
}

Timeout::~Timeout() {
    cancel();
    if (owner_ != nullptr && owner_->pending_timeout == id_) {
        owner_->pending = nullptr;
        owner_->pending_timeout = 0;
    }
}

void Timeout::cancel() noexcept {
    if (hub_ != nullptr) hub_->cancel(&timer_);
}

void Timeout::fire(detail::TimerNode* n) {
    Timeout* t = static_cast<Node*>(n)->self;
    detail::Fiber* f = t->owner_;
    if (f->state == detail::FiberState::dead) return;
    if (f->pending && f->pending_timeout == 0) return;   // a kill is already on its way
    f->pending = t->exception_ ? t->exception_ : std::make_exception_ptr(Timeout(*t));
    f->pending_timeout = t->id_;
    // A shielded wait ends on its own terms; the Timeout waits for the shield to end.
    if (f->state == detail::FiberState::parked && f->shields == 0) detail::Hub::wake(f, f->epoch);
    else f->wake_owed = true;
}

std::string Timeout::describe() const {
    if (!duration_) return "forever";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%g seconds", std::chrono::duration<double>(*duration_).count());
    return buf;
}

}  // namespace gev
