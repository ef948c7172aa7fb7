// runtime/poller_uring_missing.cpp — stands in for the io_uring backend when the build
// has no liburing: the factory says so and the hub falls back to epoll.
#include "runtime/poller.hpp"

namespace gev::detail {

bool uring_built() noexcept { return false; }

std::unique_ptr<Poller> make_uring_poller(Hub&, std::error_code& ec) {
    ec = std::make_error_code(std::errc::function_not_supported);
    return nullptr;
}

}  // namespace gev::detail
