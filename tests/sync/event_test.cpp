// tests/sync/event_test.cpp — Event: set/clear/wait, FIFO wake-up, timeouts, kill and
// Timeout while waiting, LoopExit naming the Event, and set/wait across two hubs.
#include "support.hpp"

#include <atomic>
#include <string>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("wait returns true at once when the event is already set", "[sync][event]") {
    gev::testing::run([] {
        gev::Event e;
        REQUIRE_FALSE(e.is_set());
        e.set();
        REQUIRE(e.is_set());
        REQUIRE(e.ready());
        REQUIRE(e.wait());
        REQUIRE(e.wait(0ns));
    });
}

TEST_CASE("set wakes every waiter in the order they began to wait", "[sync][event]") {
    std::vector<int> order;
    gev::testing::run([&] {
        gev::Event e;
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 5; ++i)
            gs.push_back(gev::spawn([&, i] {
                REQUIRE(e.wait());
                order.push_back(i);
            }));
        gev::sleep(0ns);   // all five are waiting now
        REQUIRE(order.empty());
        e.set();
        gev::joinall(gs);
    });
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("wait returns false when its timeout passes before set", "[sync][event]") {
    gev::testing::run([] {
        gev::Event e;
        REQUIRE_FALSE(e.wait(0ns));
        REQUIRE_FALSE(e.wait(1ms));
        auto setter = gev::spawn([&] { e.set(); });
        REQUIRE(e.wait(5s));
        setter.join();
    });
}

TEST_CASE("a waiter woken by set returns true even if the event is cleared before it runs", "[sync][event]") {
    gev::testing::run([] {
        gev::Event e;
        bool got = false;
        auto g = gev::spawn([&] { got = e.wait(); });
        gev::sleep(0ns);
        e.set();
        e.clear();   // gevent's rule: a woken waiter reports the wake-up, not the flag now
        g.join();
        REQUIRE(got);
        REQUIRE_FALSE(e.is_set());
        REQUIRE_FALSE(e.wait(1ms));   // cleared: later waits block again
    });
}

TEST_CASE("a killed waiter leaves the Event and the other waiters are still woken", "[sync][event]") {
    std::vector<int> woken;
    gev::testing::run([&] {
        gev::Event e;
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 3; ++i)
            gs.push_back(gev::spawn([&, i] {
                e.wait();
                woken.push_back(i);
            }));
        gev::sleep(0ns);
        gs[1].kill();
        REQUIRE(gs[1].successful());   // ended by GreenletExit
        e.set();
        gev::joinall(gs);
    });
    REQUIRE(woken == std::vector<int>{0, 2});
}

TEST_CASE("a loop polling wait(0) lets a ready setter run, so the event gets set", "[sync][event][poll]") {
    gev::testing::run([] {
        gev::Event e;
        auto setter = gev::spawn([&] { e.set(); });
        int polls = 0;
        while (!e.wait(0ns) && polls < 1000) ++polls;
        REQUIRE(e.is_set());
        REQUIRE(polls == 0);   // the first wait(0) let the setter run, and saw its set
        setter.join();
        e.clear();
        REQUIRE_FALSE(e.wait(0ns));   // nobody sets it: false after one turn
        REQUIRE_FALSE(e.wait(-5ms));  // negative: the same
    });
}

TEST_CASE("a waiter killed after set woke it raises the kill at once and the event stays set", "[sync][event][cancel]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Event e;
        auto a = gev::spawn([&] {
            e.wait();
            trace.push_back("a woke");
        });
        auto b = gev::spawn([&] {
            e.wait();
            trace.push_back("b woke");
        });
        gev::sleep(0ns);
        e.set();   // both are ready now, neither has run
        a.kill(gev::KillOptions{nullptr, false, gev::forever});
        gev::joinall({a, b});
        REQUIRE(a.successful());   // ended by GreenletExit, not by returning from wait
        REQUIRE(e.is_set());
    });
    REQUIRE(trace == std::vector<std::string>{"b woke"});
}

TEST_CASE("a gev::Timeout interrupts an Event wait", "[sync][event]") {
    gev::testing::run([] {
        gev::Event e;
        bool timed_out = false;
        {
            gev::Timeout t{1ms};
            try {
                e.wait();
            } catch (const gev::Timeout& x) {
                timed_out = x.is(t);
            }
        }
        REQUIRE(timed_out);
        // The interrupted wait left nothing behind: set and wait still work.
        auto g = gev::spawn([&] { return e.wait(); });
        gev::sleep(0ns);
        e.set();
        REQUIRE(g.get());
    });
}

TEST_CASE("waiting on an Event nobody sets throws LoopExit naming the Event", "[sync][event][loopexit]") {
    std::string message;
    gev::testing::run([&] {
        gev::Event e;
        try {
            e.wait();
        } catch (const gev::LoopExit& x) {
            message = x.what();
        }
    });
    REQUIRE_THAT(message, Catch::Contains("main id="));
    REQUIRE_THAT(message, Catch::Contains("Event 0x"));
}

TEST_CASE("waiting on an Event outside gev::run throws std::system_error", "[sync][event]") {
    gev::Event e;
    REQUIRE_THROWS_AS(e.wait(), std::system_error);
    REQUIRE_FALSE(e.wait(0ns));   // only looking needs no hub
    e.set();
    REQUIRE(e.wait());
}

TEST_CASE("an Event set on hub 1 wakes waiters on hub 0", "[sync][event][multi]") {
    std::atomic<int> woken{0};
    gev::run([&] {
        gev::Event e;
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 4; ++i) gs.push_back(gev::spawn([&] {
            if (e.wait(10s)) woken++;
        }));
        gev::sleep(1ms);
        gev::spawn_on(1, [&] { e.set(); }).join();
        gev::joinall(gs);
    }, gev::testing::hubs(2));
    REQUIRE(woken == 4);
}

TEST_CASE("two hubs ping-pong through a pair of Events without losing a wake-up", "[sync][event][multi]") {
    const int rounds = 5000;
    int pongs = 0;
    gev::run([&] {
        gev::Event ping, pong;
        auto far = gev::spawn_on(1, [&] {
            for (int i = 0; i < rounds; ++i) {
                ping.wait();
                ping.clear();
                pong.set();
            }
        });
        for (int i = 0; i < rounds; ++i) {
            ping.set();
            REQUIRE(pong.wait(10s));
            pong.clear();
            ++pongs;
        }
        far.get();
    }, gev::testing::hubs(2));
    REQUIRE(pongs == rounds);
}
