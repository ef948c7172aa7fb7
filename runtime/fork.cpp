// runtime/fork.cpp — gev::fork: the checks that make a fork safe, the parent's side
// (queued io_uring submissions handed to the kernel, module locks taken, signals held
// back for the instant of the fork) and the child's rebuild of its hub
// (Hub::prepare_fork, Hub::reinit_after_fork). Runs on the forking fiber's thread.
// Abandoned fibers are kept, never freed: freeing would run the parent's destructors.
#include "runtime/fork.hpp"

#include "runtime/errors.hpp"
#include "runtime/fork_hooks.hpp"
#include "runtime/hub.hpp"
#include "runtime/threadpool_impl.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define GEV_FORK_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GEV_FORK_LSAN 1
#endif
#endif
#ifdef GEV_FORK_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace gev::detail {
namespace {

// What forked children abandoned, kept reachable so that a leak checker sees what the
// abandoned stacks and records point to as live, as it is.
struct Graveyard {
    std::vector<Fiber*> fibers;
    std::vector<ThreadPool*> pools;
};

Graveyard& graveyard() {
    static Graveyard* g = new Graveyard;
    return *g;
}

// The fiber stays as it is in memory and never runs again; to the handles the child
// still holds it has ended by GreenletExit, so join() returns and kill() is a no-op.
// Its links and joiners are not told: they would run the parent's code.
void abandon(Fiber* f) {
    graveyard().fibers.push_back(f);
    f->ref();
    f->state = FiberState::dead;
    f->queued = false;
    f->next_ready = nullptr;
    f->debug.reason = WaitReason{};
    f->debug.wait_deadline = -1;
    f->error = std::make_exception_ptr(GreenletExit{});
    f->ended_by_exit = true;
    f->ended.store(true, std::memory_order_release);
#ifdef GEV_FORK_LSAN
    if (f->stack.base != nullptr) __lsan_register_root_region(f->stack.base, f->stack.size);
#endif
}

// Where the abandoned fibers' timers live: their stacks (parks, Timeouts) and their
// records (spawn_later). A timer anywhere else is the survivor's and stays armed.
class AbandonedMemory {
public:
    void add(const Fiber* f) {
        starts_.push_back(&f->start_timer);
        if (f->stack.base != nullptr) stacks_.emplace_back(f->stack.base, f->stack.top());
    }
    void seal() {
        std::sort(starts_.begin(), starts_.end());
        std::sort(stacks_.begin(), stacks_.end());
    }
    bool holds(const TimerNode* t) const noexcept {
        if (std::binary_search(starts_.begin(), starts_.end(), t)) return true;
        auto* p = reinterpret_cast<const char*>(t);
        auto it = std::upper_bound(stacks_.begin(), stacks_.end(), std::pair<const char*, const char*>(p, nullptr));
        if (it == stacks_.begin()) return false;
        --it;
        return p >= it->first && p < it->second;
    }

private:
    std::vector<const TimerNode*> starts_;
    std::vector<std::pair<const char*, const char*>> stacks_;
};

pid_t plain_fork() {
    pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "gev::fork");
    return pid;
}

}  // namespace

void Hub::prepare_fork(Fiber* self) {
    if (self == root_ || no_park_ != nullptr)
        throw_usage(std::errc::operation_not_permitted,
                    std::string("gev::fork: called from ") + (no_park_ != nullptr ? no_park_ : "the hub's own loop") +
                        "; call it from a fiber");
    if (self->kind != FiberKind::hub)
        throw_usage(std::errc::operation_not_permitted,
                    "gev::fork: called from a RawGreenlet; call it from a fiber made by gev::spawn or gev::run");
    if (std::size_t hubs = live_pollers(); hubs > 1 || runtime != nullptr)
        throw_usage(std::errc::operation_not_permitted,
                    "gev::fork: " + std::to_string(std::max<std::size_t>(hubs, 2)) +
                        " hubs run in this process, and the child would have the calling thread only; "
                        "fork before starting other hubs (gev::run's threads, gev::run on other threads)");
    if (main_ == nullptr || main_->state == FiberState::dead)
        throw_usage(std::errc::operation_not_permitted, "gev::fork: gev::run's main has ended and the hub is stopping");
    if (int held = keepalive_.load(std::memory_order_acquire); held != 0)
        throw_usage(std::errc::device_or_resource_busy,
                    "gev::fork: " + std::to_string(held) +
                        " KeepAlive(s) or run_in_thread job(s) hold the hub; the threads that would end "
                        "those waits do not exist in the child");
    // Hand what is queued to the kernel: nothing half-made stays in the ring at the fork.
    poll(0);
}

void Hub::reinit_after_fork(Fiber* self) noexcept {
    try {
        // What had fully arrived is taken as the parent would have taken it, while the
        // old poller is still there for the posts' callbacks.
        drain_inbox();
        // A poller of its own next: the ring, the epoll set and the wake-up eventfd are
        // the parent's (shared with it), and the old poller is only dropped: closing its
        // fds here leaves the parent's untouched.
        std::unique_ptr<Poller> fresh = make_poller(*this, poller_->name());
        poller_ = std::move(fresh);
        if (pool_) graveyard().pools.push_back(pool_.release());   // its threads are gone

        // Killed-before-run fibers wait in the ready queue to be dropped; the rest of
        // the queue is fibers about to be abandoned.
        for (Fiber* f = ready_head_; f != nullptr;) {
            Fiber* next = f->next_ready;
            f->queued = false;
            f->next_ready = nullptr;
            if (f->state == FiberState::dead && !f->attached) f->unref();
            f = next;
        }
        ready_head_ = ready_tail_ = nullptr;
        ready_count_ = 0;
        budget_ = 0;

        AbandonedMemory abandoned;
        for (Fiber* f = all_; f != nullptr;) {
            Fiber* next = f->all_next;
            if (f != self) {
                detach(f);
                abandon(f);
                abandoned.add(f);
            }
            f = next;
        }
        abandoned.seal();
        std::vector<TimerNode*> timers = timers_.take_all();
        std::sort(timers.begin(), timers.end(), [](const TimerNode* a, const TimerNode* b) {
            return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
        });
        for (TimerNode* t : timers)
            if (!abandoned.holds(t)) timers_.arm(t, t->deadline);

        idlers_ = WaitList{};
        inbox_.reset();   // after the drain above; the nodes left name abandoned fibers
        self->wake_token.fetch_and(~kTokenInInbox, std::memory_order_relaxed);
        sleeping_.store(false, std::memory_order_relaxed);
        stuck_.store(kFree, std::memory_order_relaxed);
        main_ = self;
        now_ = clock_ns();
    } catch (const std::exception& e) {
        die(std::string("gev::fork: the child could not rebuild its hub: ") + e.what());
    }
}

}  // namespace gev::detail

namespace gev {

pid_t fork() {
    using namespace detail;
    Hub* hub = Hub::current();
    if (hub == nullptr) return plain_fork();
    Fiber* self = current_fiber();
    hub->prepare_fork(self);
    // Held back until the child has pipes of its own, so a signal sent to the child
    // right after the fork is not read by the parent.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pollers_fork_lock();
    signals_fork_lock();
    monitor_fork_lock();
    pid_t pid = ::fork();
    int err = errno;
    if (pid != 0) {
        monitor_fork_unlock();
        signals_fork_unlock();
        pollers_fork_unlock();
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        if (pid < 0) throw std::system_error(err, std::generic_category(), "gev::fork");
        return pid;
    }
    pollers_fork_unlock();
    signals_fork_unlock();
    hub->reinit_after_fork(self);
    monitor_after_fork_child(hub);
    signals_after_fork_child();
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return 0;
}

}  // namespace gev
