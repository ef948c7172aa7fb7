// runtime/poller_epoll.cpp — the epoll backend: one epoll instance per hub, an eventfd
// for wake-ups from other threads.
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace gev::detail {
namespace {

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
        epoll_event events[128];
        int n = wait(events, 128, timeout_ns);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.ptr == nullptr) {   // the eventfd
                std::uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(efd_, &v, sizeof v);
            }
        }
    }

private:
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
    ev.data.ptr = nullptr;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0) {
        ec.assign(errno, std::generic_category());
        ::close(efd);
        ::close(ep);
        return nullptr;
    }
    return std::make_unique<EpollPoller>(hub, ep, efd);
}

}  // namespace gev::detail
