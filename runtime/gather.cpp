// runtime/gather.cpp — the waiting half of gather_from_hubs (runtime/gather.hpp).
#include "runtime/gather.hpp"

#include "runtime/multi.hpp"

namespace gev::detail {

void GatherWait::answered_one() noexcept {
    if (--left != 0) return;
    if (waiter != nullptr) Hub::wake(waiter, epoch);
    cv.notify_all();
}

std::vector<Hub*> hubs_of(Hub& here) {
    if (here.runtime == nullptr) return {&here};
    std::lock_guard lock(here.runtime->mu);
    return here.runtime->hubs;
}

void await_gather(Hub& here, GatherWait& w, const char* what, std::chrono::milliseconds patience) {
    Fiber* self = current_fiber();
    bool in_fiber = self->hub == &here && self->kind != FiberKind::root;
    std::int64_t deadline = here.deadline_after(patience);
    auto until = std::chrono::steady_clock::now() + patience;
    std::unique_lock lock(w.mu);
    while (w.left > 0) {
        if (!in_fiber) {
            if (w.cv.wait_until(lock, until) == std::cv_status::timeout) break;
            continue;
        }
        w.waiter = self;
        w.epoch = self->epoch;
        lock.unlock();
        Wake r = here.park(WaitReason{WaitKind::object, what, &w}, deadline, false);
        lock.lock();
        if (r == Wake::timed_out) break;
    }
    w.waiter = nullptr;
}

}  // namespace gev::detail
