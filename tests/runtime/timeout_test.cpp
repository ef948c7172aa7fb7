// tests/runtime/timeout_test.cpp — gev::Timeout scopes: firing, cancelling, nesting,
// custom exceptions, with_timeout and silent_timeout, kills against timeouts, and the
// per-fiber exception state that `throw;` relies on when a catch block parks.
#include "support.hpp"

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;

static_assert(!std::is_base_of_v<std::exception, gev::Timeout>);
static_assert(!std::is_base_of_v<std::exception, gev::GreenletExit>);

TEST_CASE("a Timeout raises in its fiber when the scope outlives the deadline", "[runtime][timeout]") {
    gev::testing::run([] {
        bool caught_own = false;
        bool slept_through = false;
        {
            gev::Timeout t{2ms};
            REQUIRE(t.pending());
            try {
                gev::sleep(40ms);
                slept_through = true;
            } catch (const gev::Timeout& e) {
                caught_own = e.is(t);
            }
            REQUIRE_FALSE(t.pending());
        }
        REQUIRE_FALSE(slept_through);
        REQUIRE(caught_own);
    });
}

TEST_CASE("a Timeout whose scope ends before the deadline never fires", "[runtime][timeout]") {
    gev::testing::run([] {
        {
            gev::Timeout t{100ms};   // generous: a loaded machine must not fire it inside
            gev::sleep(0ns);
        }
        REQUIRE_NOTHROW(gev::sleep(150ms));   // past where its deadline was
    });
}

TEST_CASE("of nested Timeouts the inner one fires first when it is shorter", "[runtime][timeout]") {
    gev::testing::run([] {
        bool inner_fired = false, outer_fired = false;
        gev::Timeout outer{40ms};
        try {
            gev::Timeout inner{2ms};
            try {
                gev::sleep(30ms);
            } catch (const gev::Timeout& e) {
                inner_fired = e.is(inner);
                outer_fired = e.is(outer);
            }
        } catch (const gev::Timeout&) {
            FAIL("the Timeout escaped the inner handler");
        }
        REQUIRE(inner_fired);
        REQUIRE_FALSE(outer_fired);
        REQUIRE(outer.pending());
    });
}

TEST_CASE("the outer Timeout can fire while the fiber is inside the inner one", "[runtime][timeout]") {
    gev::testing::run([] {
        bool inner_saw_it = false, was_inner = true, outer_fired = false;
        {
            gev::Timeout outer{2ms};
            try {
                gev::Timeout inner{40ms};
                try {
                    gev::sleep(30ms);
                } catch (const gev::Timeout& e) {
                    inner_saw_it = true;
                    was_inner = e.is(inner);
                    if (!was_inner) throw;   // not mine: let it go
                }
            } catch (const gev::Timeout& e) {
                outer_fired = e.is(outer);
            }
        }
        REQUIRE(inner_saw_it);
        REQUIRE_FALSE(was_inner);
        REQUIRE(outer_fired);
    });
}

TEST_CASE("catch of std::exception catches neither Timeout nor GreenletExit", "[runtime][timeout]") {
    gev::testing::run([] {
        bool swallowed = false, timed_out = false;
        try {
            gev::Timeout t{1ms};
            try {
                gev::sleep(30ms);
            } catch (const std::exception&) {
                swallowed = true;
            }
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        REQUIRE(timed_out);
        REQUIRE_FALSE(swallowed);

        bool kill_swallowed = false;
        auto g = gev::spawn([&] {
            try {
                gev::sleep(1s);
            } catch (const std::exception&) {
                kill_swallowed = true;
            }
        });
        gev::sleep(0ns);
        g.kill();
        REQUIRE_FALSE(kill_swallowed);
        REQUIRE(g.successful());
    });
}

TEST_CASE("a Timeout of forever never fires", "[runtime][timeout]") {
    gev::testing::run([] {
        gev::Timeout t{gev::forever};
        REQUIRE_FALSE(t.pending());
        REQUIRE_NOTHROW(gev::sleep(5ms));
        REQUIRE(t.describe() == "forever");
    });
}

TEST_CASE("cancel stops a pending Timeout", "[runtime][timeout]") {
    gev::testing::run([] {
        gev::Timeout t{1ms};
        REQUIRE(t.pending());
        t.cancel();
        REQUIRE_FALSE(t.pending());
        REQUIRE_NOTHROW(gev::sleep(5ms));
    });
}

TEST_CASE("a Timeout with a custom exception raises that exception", "[runtime][timeout]") {
    gev::testing::run([] {
        bool custom = false, plain = false;
        try {
            gev::Timeout t{1ms, std::make_exception_ptr(std::runtime_error("too slow"))};
            gev::sleep(30ms);
        } catch (const std::runtime_error& e) {
            custom = std::string(e.what()) == "too slow";
        } catch (const gev::Timeout&) {
            plain = true;
        }
        REQUIRE(custom);
        REQUIRE_FALSE(plain);
    });
}

TEST_CASE("a Timeout interrupts a fiber that only yields", "[runtime][timeout]") {
    gev::testing::run([] {
        long spins = 0;
        bool timed_out = false;
        auto give_up = gev::Clock::now() + 2s;
        try {
            gev::Timeout t{50ms};   // room for a first yield on a loaded machine (ASan, 2 cores)
            while (gev::Clock::now() < give_up) {
                gev::sleep(0ns);   // never parks: the Timeout must be raised at the yield
                ++spins;
            }
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        REQUIRE(timed_out);
        REQUIRE(spins > 0);
    });
}

TEST_CASE("a Timeout fires only in the fiber that made it", "[runtime][timeout]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto other = gev::spawn([&] {
            gev::sleep(6ms);
            trace.push_back("other woke normally");
        });
        try {
            gev::Timeout t{1ms};
            gev::sleep(30ms);
        } catch (const gev::Timeout&) {
            trace.push_back("main timed out");
        }
        other.join();
    });
    REQUIRE(trace == std::vector<std::string>{"main timed out", "other woke normally"});
}

TEST_CASE("with_timeout throws Timeout when the function is too slow and returns its value otherwise",
          "[runtime][timeout]") {
    gev::testing::run([] {
        REQUIRE(gev::with_timeout(20ms, [](int x) { return x * 2; }, 21) == 42);
        bool timed_out = false;
        try {
            gev::with_timeout(1ms, [] { gev::sleep(30ms); });
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        REQUIRE(timed_out);
        REQUIRE_NOTHROW(gev::sleep(3ms));   // the scope's timer is gone
    });
}

TEST_CASE("with_timeout with a timeout_value returns that value when time runs out", "[runtime][timeout]") {
    gev::testing::run([] {
        auto slow = [] {
            gev::sleep(30ms);
            return 1;
        };
        REQUIRE(gev::with_timeout(1ms, gev::timeout_value{-1}, slow) == -1);
        REQUIRE(gev::with_timeout(20ms, gev::timeout_value{-1}, [] { return 7; }) == 7);
    });
}

TEST_CASE("silent_timeout says whether the function finished", "[runtime][timeout]") {
    gev::testing::run([] {
        REQUIRE_FALSE(gev::silent_timeout(1ms, [] { gev::sleep(30ms); }));
        REQUIRE(gev::silent_timeout(20ms, [] { gev::sleep(1ms); }));
        std::optional<int> cut = gev::silent_timeout(1ms, [] {
            gev::sleep(30ms);
            return 1;
        });
        REQUIRE_FALSE(cut.has_value());
        REQUIRE(gev::silent_timeout(20ms, [] { return 5; }) == std::optional<int>(5));
    });
}

TEST_CASE("a kill wins over a Timeout that fired but was not yet raised", "[runtime][timeout][kill]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Greenlet<> target;
        // Armed first with an equal or earlier deadline, the killer wakes first, in the
        // same turn in which the target's Timeout fires: it kills the target before the
        // target can run to raise the Timeout.
        auto killer = gev::spawn([&] {
            gev::sleep(3ms);
            target.kill(gev::KillOptions{.block = false});
        });
        target = gev::spawn([&] {
            try {
                gev::Timeout t{3ms};
                gev::sleep(40ms);
            } catch (const gev::Timeout&) {
                trace.push_back("Timeout");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        gev::joinall({killer, target});
        REQUIRE(target.successful());
    });
    REQUIRE(trace == std::vector<std::string>{"GreenletExit"});
}

TEST_CASE("throw; in a catch block that parked rethrows the fiber's own exception", "[runtime][timeout][eh]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto a = gev::spawn([&] {
            try {
                throw std::runtime_error("X");
            } catch (const std::runtime_error&) {
                try {
                    gev::Timeout t{2ms};
                    gev::sleep(30ms);   // B throws and catches Y meanwhile; then our Timeout fires
                } catch (const gev::Timeout&) {
                    trace.push_back("A timed out in its catch block");
                }
                try {
                    throw;
                } catch (const std::runtime_error& e) {
                    trace.push_back(std::string("A rethrew ") + e.what());
                } catch (...) {
                    trace.push_back("A rethrew something else");
                }
            }
        });
        auto b = gev::spawn([&] {
            try {
                throw std::logic_error("Y");
            } catch (const std::logic_error& e) {
                gev::sleep(1ms);
                trace.push_back(std::string("B caught ") + e.what());
            }
        });
        gev::joinall({a, b});
    });
    REQUIRE(trace == std::vector<std::string>{"B caught Y", "A timed out in its catch block", "A rethrew X"});
}

TEST_CASE("std::uncaught_exceptions is per fiber across a park during unwinding", "[runtime][timeout][eh]") {
    int during_before = -1, during_after = -1, other = -1;
    gev::testing::run([&] {
        struct ParksInDestructor {
            int& before;
            int& after;
            ~ParksInDestructor() {
                before = std::uncaught_exceptions();
                gev::sleep(3ms);
                after = std::uncaught_exceptions();
            }
        };
        auto a = gev::spawn([&] {
            try {
                ParksInDestructor p{during_before, during_after};
                throw std::runtime_error("unwinding");
            } catch (const std::runtime_error&) {
            }
        });
        auto b = gev::spawn([&] {
            gev::sleep(1ms);   // runs while a is parked mid-unwind
            other = std::uncaught_exceptions();
        });
        gev::joinall({a, b});
        REQUIRE(a.successful());
    });
    REQUIRE(during_before == 1);
    REQUIRE(during_after == 1);
    REQUIRE(other == 0);
}
