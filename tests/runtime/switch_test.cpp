// tests/runtime/switch_test.cpp — what the inline switch must keep: each fiber's own
// C++ exception state across greenlet switches and hub parks, switch_to with and
// without a value, and sleep(0)'s direct hand-off between ready fibers, which must
// still let the hub look at IO and timers once per pass over the ready queue.
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <any>
#include <exception>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

}  // namespace

TEST_CASE("a switch keeps each fiber's exception state", "[runtime][greenlet][switch]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    std::string peer_saw_current, peer_rethrew, main_rethrew;
    gev::RawGreenlet peer([&] {
        peer_saw_current = std::current_exception() ? "set" : "none";
        try {
            throw std::runtime_error("peer's");
        } catch (const std::exception&) {
            main_g.switch_to();   // main rethrows its own while this one is being handled
            try {
                throw;
            } catch (const std::exception& x) {
                peer_rethrew = x.what();
            }
        }
    });
    try {
        throw std::runtime_error("main's");
    } catch (const std::exception&) {
        peer.switch_to();
        REQUIRE(what_of(std::current_exception()) == "main's");
        try {
            throw;
        } catch (const std::exception& x) {
            main_rethrew = x.what();
        }
        peer.switch_to();   // peer finishes and returns here
    }
    REQUIRE_FALSE(std::current_exception());
    REQUIRE(peer_saw_current == "none");
    REQUIRE(main_rethrew == "main's");
    REQUIRE(peer_rethrew == "peer's");
    REQUIRE(peer.dead());
}

TEST_CASE("a fiber that parks while unwinding keeps its uncaught count, and others do not see it",
          "[runtime][hub][switch]") {
    int during_before = -1, during_after = -1, other = -1;
    gev::testing::run([&] {
        struct ParksInDestructor {
            int& before;
            int& after;
            ~ParksInDestructor() {
                before = std::uncaught_exceptions();
                gev::sleep(1ms);   // other fibers run meanwhile
                after = std::uncaught_exceptions();
            }
        };
        auto unwinding = gev::spawn([&] {
            try {
                ParksInDestructor p{during_before, during_after};
                throw std::runtime_error("unwind");
            } catch (const std::runtime_error&) {
            }
        });
        auto bystander = gev::spawn([&] {
            gev::sleep(0ns);
            other = std::uncaught_exceptions();
        });
        gev::joinall({unwinding, bystander});
    });
    REQUIRE(during_before == 1);
    REQUIRE(during_after == 1);
    REQUIRE(other == 0);
}

TEST_CASE("switch_to without a value hands over nothing, and a value handed over arrives once",
          "[runtime][greenlet][switch]") {
    gev::RawGreenlet main_g = gev::getcurrent();
    std::vector<std::string> got;
    gev::RawGreenlet peer([&](std::any first) {
        got.push_back(first.has_value() ? "value" : "empty");
        for (int i = 0; i < 3; ++i) {
            std::any v = main_g.switch_to();
            got.push_back(v.has_value() ? std::to_string(std::any_cast<int>(v)) : "empty");
        }
    });
    REQUIRE_FALSE(peer.switch_to().has_value());
    REQUIRE_FALSE(peer.switch_to(7).has_value());
    REQUIRE_FALSE(peer.switch_to().has_value());
    std::any last = peer.switch_to(std::any{});
    REQUIRE_FALSE(last.has_value());   // the greenlet returned nothing
    REQUIRE(peer.dead());
    REQUIRE(got == std::vector<std::string>{"empty", "7", "empty", "empty"});
}

TEST_CASE("a yield hands over directly to the next ready fiber and the hub still polls IO",
          "[runtime][hub][sleep][switch]") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    std::vector<std::string> trace;
    long spins_when_read = -1, spins = 0;
    ssize_t wrote = 0;
    std::uint64_t polls_before = 0, polls_after = 0;
    gev::testing::run([&] {
        polls_before = gev::stats()[0].polls;
        auto reader = gev::spawn([&] {
            gev::net::wait_read(sv[0], 2s);
            spins_when_read = spins;
        });
        auto spinner = [&](std::string name) {
            for (int i = 0; i < 2000 && spins_when_read < 0; ++i) {
                if (i < 2) trace.push_back(name + std::to_string(i));
                if (i == 10 && name == "A") wrote = ::write(sv[1], "x", 1);
                ++spins;
                gev::sleep(0ns);
            }
        };
        auto a = gev::spawn(spinner, std::string("A"));
        auto b = gev::spawn(spinner, std::string("B"));
        gev::joinall({reader, a, b});
        polls_after = gev::stats()[0].polls;
    });
    ::close(sv[0]);
    ::close(sv[1]);
    REQUIRE(wrote == 1);
    // The spinners alternate (each yield goes straight to the other)...
    REQUIRE(trace == std::vector<std::string>{"A0", "B0", "A1", "B1"});
    // ...and the readiness of the socket is seen within a pass or two of the write.
    REQUIRE(spins_when_read >= 11);
    REQUIRE(spins_when_read < 40);
    REQUIRE(polls_after - polls_before >= 5);
}
