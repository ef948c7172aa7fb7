// runtime/poller_epoll.cpp — the epoll backend: one epoll instance per hub, each fd
// registered once (edge-triggered, both directions) the first time an operation on it
// would block; an op is "try, park on EAGAIN, retry". An eventfd wakes a blocked
// poll from other threads. Owned by the hub's thread, but for wake().
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"

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
    EpollPoller(Hub& hub, int ep, int efd) : hub_(hub), ep_(ep), efd_(efd) {}
    ~EpollPoller() override {
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
        if (timeout_ns == 0 && waiting_ == 0) return;   // nothing could be ready: skip the system call
        epoll_event events[256];
        int n = wait(events, 256, timeout_ns);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == kWakeTag) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(efd_, &v, sizeof v);
                continue;
            }
            FdState* s = fds_.find(static_cast<int>(events[i].data.u64));
            if (s == nullptr) continue;
            std::uint32_t ev = events[i].events;
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) wake_side(*s, 0);
            if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) wake_side(*s, 1);
        }
    }

    int io(IoOp& op, std::int64_t deadline_ns) override {
        for (;;) {
            int r = io_try(op);
            if (r != -EAGAIN) return r;
            FdState& s = fds_.at(op.fd);
            if (!op.transient) s.transient = false;
            if (!s.registered && !register_fd(op.fd, s)) return -errno;
            r = park(s, op, deadline_ns);
            if (r != 0) return r;
        }
    }

    void forget(int fd) noexcept override {
        FdState* s = fds_.find(fd);
        if (s == nullptr) return;
        if (s->registered) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
        s->registered = false;
        s->transient = true;
        for (IoOp*& w : s->waiter) {
            if (w == nullptr) continue;
            w->res = -ECANCELED;
            w->done = true;
            Hub::wake(w->fiber, w->epoch);
            w = nullptr;
        }
    }

private:
    bool register_fd(int fd, FdState& s) noexcept {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = static_cast<std::uint64_t>(fd);
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST) return false;
        s.registered = true;
        return true;
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
