// tests/debug/monitor_test.cpp — the blocked-hub watchdog names a fiber that keeps its
// hub past the threshold (100 ms), and stays quiet for one that yields or when off.
#include "debug/debug_support.hpp"
#include "support.hpp"

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void spin(std::chrono::milliseconds d, bool yield) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until)
        if (yield) gev::sleep(0ns);
}

std::string run_with_monitor(bool on, std::chrono::milliseconds d, bool yield) {
    gev::testing::CaptureStderr capture;
    gev::RunOptions opts;
    opts.monitor = on;
    gev::run([d, yield] {
        auto g = gev::spawn(gev::SpawnOptions{.name = "busy"}, [d, yield] { spin(d, yield); });
        g.join();
        gev::sleep(60ms);   // one more look by the watchdog: it sees the hub move again
    }, opts);
    return capture.text();
}

}  // namespace

TEST_CASE("a fiber that keeps its hub for 300 ms is reported by name with its backtrace", "[debug][monitor]") {
    std::string err = run_with_monitor(true, 300ms, false);
    INFO(err);
    REQUIRE(has(err, "gev: hub 0 blocked for at least "));
    REQUIRE(has(err, "(threshold 100 ms) by <busy id="));
    REQUIRE(has(err, "gev: its backtrace:\n"));
    REQUIRE(has(err, "gev: hub 0 switched again after about "));
}

TEST_CASE("a fiber that yields while it works is not reported", "[debug][monitor]") {
    std::string err = run_with_monitor(true, 300ms, true);
    INFO(err);
    REQUIRE_FALSE(has(err, "blocked for"));
}

TEST_CASE("RunOptions.monitor = false turns the watchdog off", "[debug][monitor]") {
    std::string err = run_with_monitor(false, 250ms, false);
    INFO(err);
    REQUIRE_FALSE(has(err, "blocked for"));
}
