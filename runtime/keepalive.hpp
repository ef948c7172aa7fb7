// runtime/keepalive.hpp — gev::KeepAlive: tells the hub that a thread outside gev (a
// std::thread, a C library's callback thread) will end a wait of one of its fibers,
// so the hub must not conclude LoopExit while the token lives. run_in_thread takes one
// by itself; waits that other hubs will end need none.
#pragma once

namespace gev {

namespace detail { class Hub; }

class KeepAlive {
public:
    // Holds the current hub. Throws std::system_error (EPERM) outside gev::run.
    KeepAlive();
    KeepAlive(KeepAlive&& other) noexcept : hub_(other.hub_) { other.hub_ = nullptr; }
    KeepAlive& operator=(KeepAlive&& other) noexcept;
    KeepAlive(const KeepAlive&) = delete;
    KeepAlive& operator=(const KeepAlive&) = delete;
    // Any thread. The hub must still exist: end every KeepAlive before gev::run
    // returns (a hub that ends while held aborts, naming the count).
    ~KeepAlive() { reset(); }

    // Lets go early (any thread); a hub held by nothing else looks for LoopExit again.
    void reset() noexcept;
    explicit operator bool() const noexcept { return hub_ != nullptr; }

private:
    detail::Hub* hub_;
};

}  // namespace gev
