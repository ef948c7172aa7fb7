// tests/sync/semaphore_test.cpp — Semaphore and BoundedSemaphore: counting, FIFO
// hand-over without barging, timeouts and cancellation that leave the count right, a
// granted-then-cancelled waiter passing its permit on, the bound, LoopExit, two hubs.
#include "support.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("acquire takes permits until none is left, then acquire(false) fails", "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(2);
        REQUIRE(s.counter() == 2);
        REQUIRE_FALSE(s.locked());
        REQUIRE(s.acquire());
        REQUIRE(s.acquire(false));
        REQUIRE(s.locked());
        REQUIRE(s.counter() == 0);
        REQUIRE_FALSE(s.acquire(false));
        REQUIRE_FALSE(s.try_lock());
        REQUIRE_FALSE(s.acquire(true, 0ns));
        REQUIRE(s.release() == 1);
        REQUIRE(s.release() == 2);
        REQUIRE(s.release() == 3);   // a plain Semaphore has no bound
    });
}

TEST_CASE("wait returns at once while a permit is free and otherwise parks until a release, taking nothing",
          "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(1);
        REQUIRE(s.wait() == 1);
        REQUIRE(s.counter() == 1);   // still free
        REQUIRE(s.acquire());
        REQUIRE(s.wait(1ms) == 0);   // none free: times out
        std::vector<std::string> trace;
        auto waiter = gev::spawn([&] {
            trace.push_back("waiting");
            int n = s.wait();
            trace.push_back("woke with " + std::to_string(n));
        });
        gev::sleep(0ns);
        trace.push_back("release");
        s.release();
        waiter.join();
        REQUIRE(trace == std::vector<std::string>{"waiting", "release", "woke with 1"});
        REQUIRE(s.counter() == 1);   // the waiter left the permit where it was
    });
}

TEST_CASE("acquire and wait with a zero timeout let a ready releaser run first", "[sync][semaphore][poll]") {
    gev::testing::run([] {
        gev::Semaphore s(0);
        auto r1 = gev::spawn([&] { s.release(); });
        REQUIRE(s.acquire(true, 0ns));
        auto r2 = gev::spawn([&] { s.release(); });
        REQUIRE(s.wait(0ns) == 1);
        REQUIRE(s.counter() == 1);
        gev::joinall({r1, r2});
        REQUIRE(s.acquire(true, 0ns));   // free: no switch needed
        REQUIRE_FALSE(s.acquire(true, 0ns));   // none left and nobody releases
        REQUIRE(s.wait(0ns) == 0);
    });
}

TEST_CASE("a negative initial value is rejected", "[sync][semaphore]") {
    REQUIRE_THROWS_AS(gev::Semaphore(-1), std::system_error);
    REQUIRE_THROWS_AS(gev::BoundedSemaphore(-1), std::system_error);
}

TEST_CASE("waiters get permits in the order they began to wait", "[sync][semaphore]") {
    std::vector<int> order;
    gev::testing::run([&] {
        gev::Semaphore s(0);
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 5; ++i)
            gs.push_back(gev::spawn([&, i] {
                s.acquire();
                order.push_back(i);
            }));
        gev::sleep(0ns);
        for (int i = 0; i < 5; ++i) s.release();
        gev::joinall(gs);
        REQUIRE(s.counter() == 0);
    });
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("release hands the permit to the first waiter, so nobody barges in", "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(1);
        s.acquire();
        bool waiter_got = false;
        auto g = gev::spawn([&] { waiter_got = s.acquire(); });
        gev::sleep(0ns);
        s.release();
        REQUIRE_FALSE(s.acquire(false));   // the permit is the waiter's, though it has not run yet
        REQUIRE(s.counter() == 0);
        g.join();
        REQUIRE(waiter_got);
    });
}

TEST_CASE("acquire with a timeout returns false and leaves the count right", "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(0);
        REQUIRE_FALSE(s.acquire(true, 1ms));
        REQUIRE(s.counter() == 0);
        s.release();   // no ghost of the timed-out waiter swallows it
        REQUIRE(s.counter() == 1);
        REQUIRE(s.acquire(true, 1ms));
    });
}

TEST_CASE("a gev::Timeout that interrupts acquire leaves the count right", "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(0);
        auto g = gev::spawn([&] { gev::silent_timeout(1ms, [&] { s.acquire(); }); });
        g.join();
        REQUIRE(s.counter() == 0);
        s.release();
        REQUIRE(s.counter() == 1);
        REQUIRE(s.acquire(false));
    });
}

TEST_CASE("a waiter killed while waiting gives up its place and the next waiter gets the permit",
          "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(0);
        bool b_got = false;
        auto a = gev::spawn([&] { s.acquire(); });
        auto b = gev::spawn([&] { b_got = s.acquire(); });
        gev::sleep(0ns);
        a.kill();
        s.release();
        b.join();
        REQUIRE(b_got);
        REQUIRE(s.counter() == 0);
    });
}

TEST_CASE("a waiter granted a permit and killed before it runs passes the permit on", "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(0);
        bool a_got = false, b_got = false;
        auto a = gev::spawn([&] { a_got = s.acquire(); });
        auto b = gev::spawn([&] { b_got = s.acquire(); });
        gev::sleep(0ns);
        s.release();   // granted to a, which is ready but has not run
        a.kill();      // a leaves by GreenletExit holding the grant: it must pass it on
        b.join();
        REQUIRE_FALSE(a_got);
        REQUIRE(b_got);
        REQUIRE(s.counter() == 0);
        s.release();
        REQUIRE(s.counter() == 1);
    });
}

TEST_CASE("a waiter granted a permit whose Timeout fires before it runs passes the permit on",
          "[sync][semaphore]") {
    gev::testing::run([] {
        gev::Semaphore s(0);
        bool a_timed_out = false, b_got = false;
        auto releaser = gev::spawn([&] {
            gev::sleep(1ms);
            s.release();
        });
        auto a = gev::spawn([&] {
            gev::Timeout t{1ms};   // due no earlier than the releaser's sleep
            try {
                s.acquire();
            } catch (const gev::Timeout& x) {
                a_timed_out = x.is(t);
            }
        });
        auto b = gev::spawn([&] { b_got = s.acquire(); });
        gev::sleep(0ns);   // all three are parked
        // Block the hub's thread so that both timers are due in the same turn: the
        // releaser runs first and grants a, whose Timeout has already been raised.
        std::this_thread::sleep_for(5ms);
        gev::joinall({releaser, a, b});
        REQUIRE(a_timed_out);
        REQUIRE(b_got);
        REQUIRE(s.counter() == 0);
    });
}

TEST_CASE("a BoundedSemaphore released past its initial value throws OverReleaseError",
          "[sync][semaphore]") {
    gev::testing::run([] {
        gev::BoundedSemaphore s(2);
        REQUIRE_THROWS_AS(s.release(), gev::OverReleaseError);
        s.acquire();
        s.release();
        try {
            s.release();
            FAIL("no error");
        } catch (const std::system_error& e) {
            REQUIRE(e.code() == std::errc::value_too_large);
            REQUIRE_THAT(e.what(), Catch::Contains("BoundedSemaphore::release: released too many times"));
        }
        REQUIRE(s.counter() == 2);
    });
}

TEST_CASE("a BoundedSemaphore hands a release to a waiter even at the bound's edge", "[sync][semaphore]") {
    gev::testing::run([] {
        gev::BoundedSemaphore s(1);
        s.acquire();
        auto g = gev::spawn([&] { s.acquire(); s.release(); });
        gev::sleep(0ns);
        s.release();   // to the waiter, not over the bound
        g.join();
        REQUIRE(s.counter() == 1);
    });
}

TEST_CASE("waiting on a Semaphore nobody releases throws LoopExit naming it", "[sync][semaphore][loopexit]") {
    std::string message;
    gev::testing::run([&] {
        gev::Semaphore s(0);
        try {
            s.acquire();
        } catch (const gev::LoopExit& x) {
            message = x.what();
        }
        REQUIRE(s.counter() == 0);
    });
    REQUIRE_THAT(message, Catch::Contains("Semaphore 0x"));
}

TEST_CASE("a Semaphore shared by fibers on two hubs never lets more than n in at once",
          "[sync][semaphore][multi]") {
    gev::RunOptions o;
    o.threads = 2;
    std::atomic<int> inside{0}, most{0}, entries{0};
    gev::run([&] {
        gev::Semaphore s(2);
        auto work = [&] {
            for (int i = 0; i < 2000; ++i) {
                gev::Guard hold(s);
                int now = ++inside;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                if (i % 7 == 0) gev::sleep(0ns);
                --inside;
                ++entries;
            }
        };
        std::vector<gev::Greenlet<>> gs;
        for (int k = 0; k < 3; ++k) {
            gs.push_back(gev::spawn(work));
            gs.push_back(gev::spawn_on(1, work));
        }
        gev::joinall(gs, gev::forever, true);
        REQUIRE(s.counter() == 2);
    }, o);
    REQUIRE(entries == 6 * 2000);
    REQUIRE(most <= 2);
}
