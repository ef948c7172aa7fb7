// tests/runtime/kill_order_test.cpp — several kills of one fiber queue up, as
// gevent's throws do: each is raised in the order it was sent, the next at the first
// wait after the fiber has handled the previous one (not while it unwinds from it).
// A kill that meets an unwinding fiber is raised at its first wait after, whatever
// kind of wait that is (an io_uring read parks uninterruptibly).
#include "support.hpp"

#include <array>
#include <stdexcept>
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

TEST_CASE("a kill that arrives while a fiber unwinds is raised at its next socket read", "[runtime][kill][net]") {
    Trace trace;
    gev::testing::run([&] {
        gev::net::Socket l(AF_INET, SOCK_STREAM);
        l.bind(gev::net::Address("127.0.0.1", 0));
        l.listen(4);
        gev::net::Socket c(AF_INET, SOCK_STREAM);
        c.connect(l.local_address());
        auto [s, peer] = l.accept();
        auto target = gev::spawn([&, &s = s] {
            try {
                struct Cleanup {
                    ~Cleanup() { gev::sleep(5ms); }   // killed here: the kill stays pending
                } cleanup;
                throw std::runtime_error("failed");
            } catch (const std::runtime_error&) {
                trace.push_back("handled");
            }
            std::array<std::byte, 8> buf;
            try {
                s.recv(buf);   // nothing will ever arrive: only the kill can end it
                trace.push_back("read");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit at the read");
                throw;
            }
        });
        gev::sleep(1ms);
        target.kill(gev::KillOptions{.block = false});
        gev::Timeout guard{2s};   // a bound, should the read sleep through the kill
        target.join();
    });
    REQUIRE(trace == Trace{"handled", "GreenletExit at the read"});
}
