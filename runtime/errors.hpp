// runtime/errors.hpp — the exceptions of gev's runtime.
// GreenletExit and Timeout (timeout.hpp) deliberately do not derive from
// std::exception: `catch (const std::exception&)` must not swallow a kill or a
// timeout. Everything else thrown by the public API derives from std::system_error.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <system_error>

namespace gev {

// Raised inside a fiber by kill(); a fiber that ends with it counts as successful.
class GreenletExit {
public:
    const char* what() const noexcept { return "GreenletExit"; }
};

// Thrown by a wait that nothing can ever end (no ready fiber, timer, IO or
// other thread could wake it). The message lists every parked fiber and why.
class LoopExit : public std::system_error {
public:
    explicit LoopExit(const std::string& parked)
        : std::system_error(std::make_error_code(std::errc::resource_deadlock_would_occur),
                            "This operation would block forever" + parked) {}
};

// Two fibers waited on one socket in the same direction (gevent's name).
class ConcurrentObjectUseError : public std::system_error {
public:
    explicit ConcurrentObjectUseError(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::device_or_resource_busy), what) {}
};

// What the hub's error handler is told about a fiber that failed (RunOptions::on_error).
struct FailureReport {
    std::string name;           // "Greenlet-7" or the name given to it
    std::uint64_t id = 0;
    std::exception_ptr error;
    std::string message;        // "gev: <Greenlet-7 id=7> failed with std::runtime_error: boom"
};
using ErrorHandler = std::function<void(const FailureReport&)>;

namespace detail {
// Misuse of the API (no hub on this thread, switching across threads, ...).
[[noreturn]] void throw_usage(std::errc code, const std::string& what);
// A broken invariant: print `gev: <message>` and abort.
[[noreturn]] void die(const std::string& message) noexcept;
// "std::runtime_error: boom" for any exception, gevent's `<type>: <message>`.
std::string describe(const std::exception_ptr& e);
// Whether e holds a GreenletExit.
bool is_greenlet_exit(const std::exception_ptr& e) noexcept;
}  // namespace detail

}  // namespace gev
