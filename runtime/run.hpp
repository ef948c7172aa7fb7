// runtime/run.hpp — gev::run: a hub on this thread, `main` as its first fiber.
#pragma once

#include "runtime/clock.hpp"
#include "runtime/errors.hpp"
#include "runtime/greenlet.hpp"

#include <optional>
#include <string>
#include <type_traits>

namespace gev {

struct RunOptions {
    std::string poller{};     // "io_uring" or "epoll"; empty: $GEV_POLLER, else the best that starts here
    ErrorHandler on_error{};  // where failed fibers are reported; empty: one line on stderr.
                              // With several hubs it is called from each hub's thread.
    unsigned threads = 1;     // hubs, one per thread (0: one per CPU); main runs on hub 0
    bool pin_cpus = false;    // pin hub i's thread to CPU i
    std::optional<bool> monitor{};  // blocked-hub watchdog; unset: $GEV_MONITOR, else on
                                    // in debug builds (see README "Debugging")
    // How long a hub with nothing to run watches its inbox before it sleeps in the
    // poller (Go's spinning threads): a wake-up from another hub then costs a cache-line
    // transfer, not a system call and a thread wake-up. Unset: $GEV_SPIN_US, else 50 µs
    // when the hubs are no more than the CPUs, else 0 (sleep at once). One hub never spins.
    std::optional<Duration> spin{};
};

namespace detail {
// Runs the hub(s) until `main` (which run() adopted) has ended; rethrows its failure.
void run_main(Fiber* main, const RunOptions& options);
void run_main_multi(Fiber* main, const RunOptions& options, unsigned hubs);
}

// Runs main() as a fiber on a new hub on this thread and returns its exit code (0 when
// it returns void) once it has returned; then the fibers still alive get GreenletExit.
// Rethrows the exception that ended main. Throws std::system_error when the poller
// cannot start or a hub already runs on this thread.
template <class F>
    requires std::invocable<std::decay_t<F>&>
int run(F&& main, const RunOptions& options = {}) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    static_assert(std::is_void_v<R> || std::is_convertible_v<R, int>, "main must return void or an int");
    auto* task = detail::make_task(std::forward<F>(main));
    Greenlet<detail::spawn_result_t<F>> handle(task);
    detail::run_main(task, options);
    if constexpr (std::is_void_v<R>) {
        return 0;
    } else {
        return handle.value() ? static_cast<int>(*handle.value()) : 0;
    }
}

// How many hubs gev::run started (0 outside it), and which one runs the caller.
unsigned hub_count() noexcept;
unsigned hub_index() noexcept;

// Replaces the current hub's error handler; returns the previous one.
ErrorHandler set_error_handler(ErrorHandler handler);
// The name of the poller the current hub uses ("io_uring" or "epoll").
const char* poller_name();

}  // namespace gev
