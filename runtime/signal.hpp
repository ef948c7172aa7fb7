// runtime/signal.hpp — gevent.signal_handler: run a function in a fiber when a Unix
// signal arrives, instead of in an async-signal context. The real handler only writes
// the signal number to the self-pipe of each hub that registered for it; that hub's
// reader fiber spawns the functions there. With several hubs every hub's handlers for
// the signal run, whichever thread received it (signal.cpp).
#pragma once

#include <cstdint>
#include <functional>

namespace gev {

class SignalHandler {
public:
    SignalHandler() noexcept = default;
    SignalHandler(SignalHandler&& o) noexcept : id_(o.id_) { o.id_ = 0; }
    SignalHandler& operator=(SignalHandler&& o) noexcept;
    SignalHandler(const SignalHandler&) = delete;
    SignalHandler& operator=(const SignalHandler&) = delete;
    ~SignalHandler() { cancel(); }
    // Stops calling the function; the signal's previous disposition comes back once no
    // handler is left for it.
    void cancel() noexcept;
    explicit SignalHandler(std::uint64_t id) noexcept : id_(id) {}

private:
    std::uint64_t id_ = 0;
};

// From now on, each delivery of `sig` spawns f() on the current hub (keep the returned
// object alive as long as you want that; it stops when its hub ends). Deliveries that
// arrive together may coalesce into one call, as in POSIX. Throws std::system_error
// outside gev::run or for a signal that cannot be caught.
[[nodiscard]] SignalHandler signal_handler(int sig, std::function<void()> f);

}  // namespace gev
