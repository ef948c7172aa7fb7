// runtime/poller_epoll.cpp — the epoll backend: one epoll instance per hub, each fd
// registered once (edge-triggered, both directions) the first time an operation on it
// would block; readiness is reported to the common layer (io_wait.cpp), which parks
// and retries ("try, park on EAGAIN, retry"). The event data carries the fd's
// generation (poller_fds.hpp), so events of a file whose number was closed and reused
// are dropped, and a registration made before such a close is made again. An eventfd
// (edge-triggered, never read) wakes a blocked poll from other threads. Owned by the
// hub's thread, but for wake().
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

namespace gev::detail {
namespace {

constexpr std::uint64_t kWakeTag = ~std::uint64_t{0};

class EpollPoller final : public Poller {
public:
    EpollPoller(Hub& hub, int ep, int efd) : Poller(hub, {false, true, true}), ep_(ep), efd_(efd) {}
    ~EpollPoller() override {
        retire();
        ::close(efd_);
        ::close(ep_);
    }
    const char* name() const noexcept override { return "epoll"; }

    void wake() noexcept override {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof one);
    }

    void poll(std::int64_t timeout_ns) noexcept override {
        if (forgets_sent()) take_forgets();
        if (timeout_ns == 0 && outstanding() == 0) return;   // nothing could be ready: skip the system call
        poll_events(timeout_ns);
    }

private:
    // Apart from poll(), whose look between two passes over the ready queue then needs
    // no frame (this one holds 3 KiB of events).
    [[gnu::noinline]] void poll_events(std::int64_t timeout_ns) noexcept {
        epoll_event events[256];
        int n = wait(events, 256, timeout_ns);
        for (int i = 0; i < n; ++i) {
            std::uint64_t data = events[i].data.u64;
            if (data == kWakeTag) continue;   // edge-triggered: nothing to read back
            std::uint32_t ev = events[i].events;
            side_ready(static_cast<int>(data & 0xffffffffu), static_cast<std::uint32_t>(data >> 32),
                       (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
                       (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0);
        }
        if (forgets_sent()) take_forgets();
    }

    // Registers op's fd once, for both directions, at the generation the common layer
    // keeps in s; later waits find it registered. One a watch left (s->kept) is checked
    // with a MOD, which finds only this very file under the number (a number closed and
    // reused since is not found, and added), and re-arms its readiness as an ADD would.
    int arm(IoOp& op, FdState* s, bool) noexcept override {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = std::uint64_t{s->gen} << 32 | static_cast<std::uint32_t>(op.fd);
        int r = std::exchange(s->kept, false) ? ctl(EPOLL_CTL_MOD, op.fd, ev) : -ENOENT;
        if (r == -ENOENT) r = ctl(EPOLL_CTL_ADD, op.fd, ev);
        // Still registered from before a forget that did not close it (detach), or from a
        // file closed behind this hub's back that a dup keeps alive.
        if (r == -EEXIST) r = ctl(EPOLL_CTL_MOD, op.fd, ev);
        if (r < 0) return r;
        s->registered = true;
        return 0;
    }

    int ctl(int how, int fd, epoll_event& ev) noexcept { return ::epoll_ctl(ep_, how, fd, &ev) == 0 ? 0 : -errno; }

    void unwatch(int fd) noexcept override { ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }

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

    int ep_;
    int efd_;
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
    // Edge-triggered: every write() by wake() is an edge of its own (eventfd wakes its
    // waiters on each write, readable or not), so the counter is never read back and a
    // wake-up costs the sleeping hub no read(2). It would need 2^64 wakes to fill up.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
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
