// runtime/poller.cpp — choosing a backend: the name asked for, else $GEV_POLLER, else
// the first of {io_uring, epoll} that starts here (with one line saying why not).
#include "runtime/poller.hpp"

#include "runtime/hub.hpp"
#include "runtime/poller_fds.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace gev::detail {

namespace {

class UnavailableCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "gev.poller_unavailable"; }
    std::string message(int v) const override { return std::generic_category().message(v); }
    std::error_condition default_error_condition(int v) const noexcept override {
        return std::error_condition(v, std::generic_category());
    }
};

// ENOSYS and EPERM from io_uring_setup mean "not here" (an old kernel, a seccomp filter,
// kernel.io_uring_disabled); anything else (EMFILE, ENOMEM, ...) is a real failure.
std::error_code classify_uring(std::error_code ec) noexcept {
    if (ec == std::errc::function_not_supported || ec == std::errc::operation_not_permitted)
        return {ec.value(), poller_unavailable_category()};
    return ec;
}

}  // namespace

const std::error_category& poller_unavailable_category() noexcept {
    static const UnavailableCategory category;
    return category;
}

void forget_fd(int fd) noexcept {
    if (Hub* hub = Hub::current()) hub->poller().forget(fd);
    else FdOwner::forgetting(fd, nullptr);
}

std::unique_ptr<Poller> make_poller(Hub& hub, const std::string& choice) {
    std::string name = choice;
    if (name.empty())
        if (const char* env = std::getenv("GEV_POLLER")) name = env;
    std::error_code ec;
    if (name == "epoll") {
        auto p = make_epoll_poller(hub, ec);
        if (!p) throw std::system_error(ec, "gev: epoll poller");
        return p;
    }
    if (name == "io_uring") {
        if (!uring_built()) throw std::system_error(ENOSYS, poller_unavailable_category(),
                                                    "gev: io_uring poller (not built: liburing was missing)");
        auto p = make_uring_poller(hub, ec);
        if (!p) throw std::system_error(classify_uring(ec), "gev: io_uring poller");
        return p;
    }
    if (!name.empty())
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                "gev: unknown poller '" + name + "' (use io_uring or epoll)");
    if (uring_built()) {
        if (auto p = make_uring_poller(hub, ec)) return p;
        std::fprintf(stderr, "gev: io_uring unavailable (%s), using epoll\n", ec.message().c_str());
    }
    auto p = make_epoll_poller(hub, ec);
    if (!p) throw std::system_error(ec, "gev: epoll poller");
    return p;
}

}  // namespace gev::detail
