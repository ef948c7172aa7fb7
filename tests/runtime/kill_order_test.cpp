// tests/runtime/kill_order_test.cpp — several kills of one fiber queue up, as
// gevent's throws do: each is raised in the order it was sent, the next at the first
// wait after the fiber has handled the previous one (not while it unwinds from it).
#include "support.hpp"

#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using Trace = std::vector<std::string>;

struct First {};
struct Second {};
struct Third {};

// Parks up to `rounds` times, recording which kill (if any) ended each park.
void record_kills(Trace& trace, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        try {
            gev::sleep(10ms);
            trace.push_back("slept");
        } catch (const First&) {
            trace.push_back("First");
        } catch (const Second&) {
            trace.push_back("Second");
        } catch (const Third&) {
            trace.push_back("Third");
        }
    }
}

}  // namespace

TEST_CASE("two non-blocking kills are raised one after the other, in order", "[runtime][kill]") {
    Trace trace;
    gev::testing::run([&] {
        auto target = gev::spawn([&] { record_kills(trace, 3); });
        gev::sleep(0ns);
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(First{}), .block = false});
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(Second{}), .block = false});
        target.join();
    });
    REQUIRE(trace == Trace{"First", "Second", "slept"});
}

TEST_CASE("three kills of a fiber that has not yet resumed are all raised, in order", "[runtime][kill]") {
    Trace trace;
    gev::testing::run([&] {
        auto target = gev::spawn([&] { record_kills(trace, 4); });
        gev::sleep(0ns);
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(First{}), .block = false});
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(Second{}), .block = false});
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(Third{}), .block = false});
        target.join();
    });
    REQUIRE(trace == Trace{"First", "Second", "Third", "slept"});
}

TEST_CASE("a queued kill waits while the fiber unwinds from the previous one", "[runtime][kill]") {
    Trace trace;
    gev::testing::run([&] {
        auto target = gev::spawn([&] {
            try {
                struct Cleanup {
                    Trace& trace;
                    ~Cleanup() {
                        gev::sleep(2ms);   // unwinding from First: Second stays queued
                        trace.push_back("cleanup done");
                    }
                } cleanup{trace};
                gev::sleep(1s);
            } catch (const First&) {
                trace.push_back("First");
            }
            try {
                gev::sleep(1s);
            } catch (const Second&) {
                trace.push_back("Second");
            }
        });
        gev::sleep(0ns);
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(First{}), .block = false});
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(Second{}), .block = false});
        target.join();
    });
    REQUIRE(trace == Trace{"cleanup done", "First", "Second"});
}

TEST_CASE("a fiber that dies of the first kill ignores the ones queued after it", "[runtime][kill]") {
    gev::testing::run([&] {
        auto target = gev::spawn([] { gev::sleep(1s); });
        gev::sleep(0ns);
        target.kill(gev::KillOptions{.block = false});
        target.kill(gev::KillOptions{.exception = std::make_exception_ptr(Second{}), .block = false});
        target.join();
        REQUIRE(target.successful());   // GreenletExit, not Second
    });
}
