// runtime/keepalive.cpp — KeepAlive holds and lets go of its hub.
#include "runtime/keepalive.hpp"

#include "runtime/hub.hpp"

#include <utility>

namespace gev {

KeepAlive::KeepAlive() : hub_(&detail::Hub::require("gev::KeepAlive")) { hub_->hold(); }

KeepAlive& KeepAlive::operator=(KeepAlive&& other) noexcept {
    if (this != &other) {
        reset();
        hub_ = std::exchange(other.hub_, nullptr);
    }
    return *this;
}

void KeepAlive::reset() noexcept {
    if (detail::Hub* h = std::exchange(hub_, nullptr)) h->let_go();
}

}  // namespace gev
