// tests/runtime/callback_test.cpp — callbacks the hub runs on a borrowed stack (the
// error handler, cross-hub posts, timer callbacks) may not park: a wait there would
// suspend whichever fiber lent its stack. Each attempt aborts with a message naming
// the callback (death tests: the hidden cases run in a child process).
#include "debug/debug_support.hpp"
#include "runtime/hub.hpp"
#include "support.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

bool in_child() { return std::getenv("GEV_TEST_CALLBACK_CHILD") != nullptr; }

gev::testing::ChildResult run_child(const std::string& name) {
    return gev::testing::run_test_in_child(name, {"GEV_TEST_CALLBACK_CHILD=1", "GEV_MONITOR=0"});
}

}  // namespace

TEST_CASE("callback child: error handler sleeps", "[.][callback-child]") {
    if (!in_child()) return;
    gev::RunOptions opts;
    opts.on_error = [](const gev::FailureReport&) { gev::sleep(1ms); };
    gev::run([] {
        auto g = gev::spawn([] { throw std::runtime_error("boom"); });
        g.join();
    }, opts);
}

TEST_CASE("callback child: error handler waits on an Event", "[.][callback-child]") {
    if (!in_child()) return;
    gev::Event never;
    gev::RunOptions opts;
    opts.on_error = [&never](const gev::FailureReport&) { never.wait(); };
    gev::run([] {
        auto g = gev::spawn([] { throw std::runtime_error("boom"); });
        g.join();
    }, opts);
}

TEST_CASE("callback child: post sleeps", "[.][callback-child]") {
    if (!in_child()) return;
    gev::run([] {
        gev::detail::Hub::current()->post([](void*, std::uint64_t) { gev::sleep(1ms); }, nullptr, 0);
        gev::sleep(5ms);
    });
}

TEST_CASE("callback child: timer yields", "[.][callback-child]") {
    if (!in_child()) return;
    gev::run([] {
        auto& hub = *gev::detail::Hub::current();
        gev::detail::TimerNode t;
        t.fire = [](gev::detail::TimerNode*) { gev::sleep(0ns); };
        hub.arm(&t, hub.deadline_after(1ms));
        gev::sleep(5ms);
        hub.cancel(&t);
    });
}

TEST_CASE("an error handler that parks aborts with a message naming it", "[runtime][callback]") {
    auto r = run_child("callback child: error handler sleeps");
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: the error handler tried to park (sleep)") != std::string::npos);
    REQUIRE(r.err.find("spawn a fiber for work that waits") != std::string::npos);
}

TEST_CASE("an error handler that waits on an Event aborts naming the Event wait", "[runtime][callback]") {
    auto r = run_child("callback child: error handler waits on an Event");
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: the error handler tried to park (Event)") != std::string::npos);
}

TEST_CASE("a cross-hub post that parks aborts with a message naming it", "[runtime][callback]") {
    auto r = run_child("callback child: post sleeps");
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: a cross-hub post tried to park (sleep)") != std::string::npos);
}

TEST_CASE("a timer callback that yields aborts with a message naming it", "[runtime][callback]") {
    auto r = run_child("callback child: timer yields");
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: a timer callback tried to park (sleep)") != std::string::npos);
}

TEST_CASE("an error handler that spawns a fiber to do its waiting works", "[runtime][callback]") {
    std::vector<std::string> seen;
    gev::RunOptions opts;
    opts.on_error = [&seen](const gev::FailureReport& r) {
        gev::spawn([&seen, m = r.message] {
            gev::sleep(1ms);   // the report's slow work, off the borrowed stack
            seen.push_back(m);
        });
    };
    gev::run([] {
        auto g = gev::spawn([] { throw std::runtime_error("boom"); });
        g.join();
        gev::sleep(5ms);
    }, opts);
    REQUIRE(seen.size() == 1);
    REQUIRE(seen[0].find("std::runtime_error: boom") != std::string::npos);
}
