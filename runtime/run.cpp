// runtime/run.cpp — gev::run, sleep, idle and the per-hub settings.
#include "runtime/run.hpp"

#include "runtime/hub.hpp"
#include "runtime/monitor.hpp"
#include "runtime/sleep.hpp"

#include <algorithm>
#include <thread>

namespace gev {
namespace detail {

void run_main(Fiber* main, const RunOptions& options) {
    unsigned n = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    if (n > 1) {
        run_main_multi(main, options, n);
        return;
    }
    std::unique_ptr<Hub> hub;
    try {
        hub = std::make_unique<Hub>(options.poller, options.on_error);
    } catch (...) {
        main->unref();   // the reference it would have held while alive
        throw;
    }
    main->is_main = true;
    main->hub = hub.get();
    main->id = next_fiber_id();
    main->debug.name = "main";
    hub->attach(main);
    hub->make_ready(main);
    monitor_hub(hub.get(), options.monitor);
    hub->run(main);
    hub.reset();
    if (main->error && !main->ended_by_exit) std::rethrow_exception(main->error);
}

}  // namespace detail

namespace detail {
namespace {
// Apart from sleep(0), which then needs no frame of its own.
[[gnu::noinline]] void sleep_parked(Duration d) {
    Hub& hub = Hub::require("gev::sleep");
    hub.park(WaitReason{WaitKind::sleep, "sleep"}, hub.deadline_after(d));
}
}  // namespace
}  // namespace detail

void sleep(Duration d) {
    if (d.count() <= 0) return detail::Hub::require("gev::sleep").yield();
    detail::sleep_parked(d);
}

void idle() { detail::Hub::require("gev::idle").idle(); }

ErrorHandler set_error_handler(ErrorHandler handler) {
    return detail::Hub::require("gev::set_error_handler").set_error_handler(std::move(handler));
}

const char* poller_name() { return detail::Hub::require("gev::poller_name").poller().name(); }

}  // namespace gev
