// runtime/poller_epoll.cpp — the epoll backend: one epoll instance per hub, each fd
// registered once (edge-triggered, both directions) the first time an operation on it
// would block; an op is "try, park on EAGAIN, retry". The event data carries the fd's
// generation (poller_fds.hpp), so events of a file whose number was closed and reused
// are dropped, and a registration made before such a close is made again. An eventfd
// wakes a blocked poll from other threads. Owned by the hub's thread, but for wake().
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"
#include "runtime/poller_fds.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace gev::detail {
namespace {

constexpr std::uint64_t kWakeTag = ~std::uint64_t{0};

class EpollPoller final : public Poller {
public:
    EpollPoller(Hub& hub, int ep, int efd) : hub_(hub), ep_(ep), efd_(efd), owner_(hub, *this) {}
    ~EpollPoller() override {
        owner_.retire();
        fds_.for_each([this](int fd, FdState& s) {
            if (s.owned) owner_.release(fd, s.gen);
        });
        ::close(efd_);
        ::close(ep_);
    }
    const char* name() const noexcept override { return "epoll"; }
    std::size_t outstanding() const noexcept override { return waiting_; }

    void wake() noexcept override {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof one);
    }

    void poll(std::int64_t timeout_ns) noexcept override {
        if (owner_.has_sent()) take_forgets();
        if (timeout_ns == 0 && waiting_ == 0) return;   // nothing could be ready: skip the system call
        epoll_event events[256];
        int n = wait(events, 256, timeout_ns);
        for (int i = 0; i < n; ++i) {
            std::uint64_t data = events[i].data.u64;
            if (data == kWakeTag) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(efd_, &v, sizeof v);
                continue;
            }
            FdState* s = fds_.find(static_cast<int>(data & 0xffffffffu));
            if (s == nullptr || !s->registered || s->gen != static_cast<std::uint32_t>(data >> 32))
                continue;   // a file whose number has been closed since
            std::uint32_t ev = events[i].events;
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) wake_side(*s, 0);
            if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) wake_side(*s, 1);
        }
        if (owner_.has_sent()) take_forgets();
    }

    int io(IoOp& op, std::int64_t deadline_ns) override {
        if (is_file_kind(op.kind)) return -EOPNOTSUPP;   // epoll cannot wait for a file: the thread pool does
        for (;;) {
            int r = io_try(op);
            if (r != -EAGAIN) return r;
            FdState& s = fds_.at(op.fd);
            if (!prepare(s, op)) return -errno;
            r = park(s, op, deadline_ns);
            if (r != 0) return r;
        }
    }

    void forget(int fd) noexcept override {
        if (FdState* s = fds_.find(fd)) drop(fd, *s, true);
        FdOwner::forgetting(fd, &owner_);
    }

private:
    // Makes s watch op.fd at the number's current generation: drops what was left of a
    // file closed behind this hub's back, claims the fd for a socket op (dies when
    // another hub holds it), registers it. False with errno when epoll refuses.
    bool prepare(FdState& s, IoOp& op) {
        std::uint32_t gen = FdOwner::generation(op.fd);
        if (gen != s.gen) {
            if (s.registered || s.owned || s.waiter[0] != nullptr || s.waiter[1] != nullptr) drop(op.fd, s);
            s.gen = gen;
        }
        if (!op.transient) {
            s.transient = false;
            if (!s.owned) {
                std::uint32_t held = owner_.claim(op.fd);
                if (held != s.gen) {   // closed again meanwhile
                    if (s.registered) drop(op.fd, s);
                    s.gen = held;
                    s.transient = false;
                }
                s.owned = true;
            }
        }
        return s.registered || register_fd(op.fd, s);
    }

    bool register_fd(int fd, FdState& s) noexcept {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = std::uint64_t{s.gen} << 32 | static_cast<std::uint32_t>(fd);
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            // Still registered from before a forget that did not close it (detach).
            if (errno != EEXIST || ::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) != 0) return false;
        }
        s.registered = true;
        return true;
    }

    // Forgets everything about fd here: its waiters get -ECANCELED. `still_ours`: the
    // caller owns the number now (a local forget, before the close), so its epoll entry
    // can go; otherwise the number may be closing or reused on another thread, and the
    // entry is left alone: the kernel drops it with the file, its events carry an old
    // generation, and registering the number again updates it (EEXIST, then MOD).
    void drop(int fd, FdState& s, bool still_ours = false) noexcept {
        if (s.registered && still_ours) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
        s.registered = false;
        s.transient = true;
        s.owned = false;
        for (IoOp*& w : s.waiter) {
            if (w == nullptr) continue;
            w->res = -ECANCELED;
            w->done = true;
            Hub::wake(w->fiber, w->epoch);
            w = nullptr;
        }
    }

    // Other threads forgot fds this hub held: drop them unless the number has been
    // waited on again here since (a newer generation).
    void take_forgets() noexcept {
        for (auto [fd, gen] : owner_.take_sent()) {
            FdState* s = fds_.find(fd);
            if (s != nullptr && s->gen == gen) drop(fd, *s);
        }
    }

    // Parks until op's side is ready: 0 to retry, or -ETIMEDOUT / -ECANCELED.
    int park(FdState& s, IoOp& op, std::int64_t deadline_ns) {
        claim_side(s, op);
        Fiber* self = current_fiber();
        op.fiber = self;
        op.epoch = self->epoch;
        op.done = false;
        ++waiting_;
        Wake w;
        try {
            w = hub_.park(io_reason(op), deadline_ns);
        } catch (...) {
            settle(s, op);
            throw;
        }
        settle(s, op);
        if (op.done && op.res == -ECANCELED) return -ECANCELED;
        return w == Wake::timed_out ? -ETIMEDOUT : 0;
    }

    void settle(FdState& s, IoOp& op) noexcept {
        --waiting_;
        if (s.waiter[op.dir()] == &op) s.waiter[op.dir()] = nullptr;
        if (s.transient && s.registered && s.waiter[0] == nullptr && s.waiter[1] == nullptr) {
            ::epoll_ctl(ep_, EPOLL_CTL_DEL, op.fd, nullptr);
            s.registered = false;
        }
    }

    void wake_side(FdState& s, int side) noexcept {
        if (IoOp* op = s.waiter[side]) Hub::wake(op->fiber, op->epoch);
    }

    int wait(epoll_event* ev, int max, std::int64_t timeout_ns) noexcept {
        int n;
        if (timeout_ns < 0) {
            n = ::epoll_wait(ep_, ev, max, -1);
        } else {
            timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
            n = ::epoll_pwait2(ep_, ev, max, &ts, nullptr);
            if (n < 0 && errno == ENOSYS)   // before Linux 5.11: whole milliseconds, rounded up
                n = ::epoll_wait(ep_, ev, max, static_cast<int>((timeout_ns + 999'999) / 1'000'000));
        }
        return n < 0 ? 0 : n;
    }

    Hub& hub_;
    int ep_;
    int efd_;
    std::size_t waiting_ = 0;
    FdTable fds_;
    FdOwner owner_;
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller(Hub& hub, std::error_code& ec) {
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        ec.assign(errno, std::generic_category());
        return nullptr;
    }
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        ec.assign(errno, std::generic_category());
        ::close(ep);
        return nullptr;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0) {
        ec.assign(errno, std::generic_category());
        ::close(efd);
        ::close(ep);
        return nullptr;
    }
    return std::make_unique<EpollPoller>(hub, ep, efd);
}

}  // namespace gev::detail
