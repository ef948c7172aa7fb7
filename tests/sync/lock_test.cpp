// tests/sync/lock_test.cpp — Lock and RLock: exclusion, the Lockable interface with
// std::scoped_lock / std::unique_lock, gev::Guard, over-release and non-owner errors,
// re-entrance, FIFO hand-over, kill while waiting, and a Lock shared by two hubs.
#include "support.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("a held Lock makes try_lock fail, even for its holder, and another fiber wait", "[sync][lock]") {
    std::vector<std::string> log;
    gev::testing::run([&] {
        gev::Lock lock;
        REQUIRE_FALSE(lock.locked());
        lock.acquire();
        REQUIRE(lock.locked());
        REQUIRE_FALSE(lock.try_lock());   // no owner, no re-entrance: this would deadlock
        auto g = gev::spawn([&] {
            lock.acquire();
            log.push_back("other in");
            lock.release();
        });
        gev::sleep(1ms);
        log.push_back("main out");
        lock.release();
        g.join();
        REQUIRE_FALSE(lock.locked());
    });
    REQUIRE(log == std::vector<std::string>{"main out", "other in"});
}

TEST_CASE("releasing an unlocked Lock throws OverReleaseError", "[sync][lock]") {
    gev::testing::run([] {
        gev::Lock lock;
        REQUIRE_THROWS_AS(lock.release(), gev::OverReleaseError);
        REQUIRE_THROWS_WITH(lock.release(), Catch::Contains("Lock::release: the lock is not locked"));
        REQUIRE_FALSE(lock.locked());
    });
}

TEST_CASE("std::scoped_lock and std::unique_lock work with Lock", "[sync][lock]") {
    gev::testing::run([] {
        gev::Lock a, b;
        {
            std::scoped_lock both(a, b);
            REQUIRE(a.locked());
            REQUIRE(b.locked());
        }
        REQUIRE_FALSE(a.locked());
        REQUIRE_FALSE(b.locked());
        {
            std::unique_lock u(a);
            REQUIRE(a.locked());
            u.unlock();
            REQUIRE_FALSE(a.locked());
            REQUIRE(u.try_lock_for(1ms));
        }
        REQUIRE_FALSE(a.locked());
        a.acquire();
        auto holder = gev::spawn([&] { std::unique_lock t(a, std::defer_lock); return t.try_lock_for(1ms); });
        REQUIRE_FALSE(holder.get());   // a stays held by main: the timed try gives up
        a.release();
    });
}

TEST_CASE("gev::Guard releases at the end of its scope and when an exception leaves it", "[sync][lock]") {
    gev::testing::run([] {
        gev::Lock lock;
        {
            gev::Guard g(lock);
            REQUIRE(lock.locked());
        }
        REQUIRE_FALSE(lock.locked());
        try {
            gev::Guard g(lock);
            throw std::runtime_error("leave");
        } catch (const std::runtime_error&) {
        }
        REQUIRE_FALSE(lock.locked());
        gev::Guard g(lock);
        g.release();
        REQUIRE_FALSE(lock.locked());
        REQUIRE_FALSE(g.held());
    });
}

TEST_CASE("a fiber killed while waiting for a Lock leaves it usable", "[sync][lock]") {
    gev::testing::run([] {
        gev::Lock lock;
        lock.acquire();
        auto a = gev::spawn([&] { gev::Guard g(lock); });
        auto b = gev::spawn([&] { gev::Guard g(lock); return 1; });
        gev::sleep(0ns);
        a.kill();
        lock.release();
        REQUIRE(b.get() == 1);
        REQUIRE_FALSE(lock.locked());
    });
}

TEST_CASE("a Lock granted to a waiter killed before it ran goes to the next waiter, or is free again",
          "[sync][lock][cancel]") {
    gev::testing::run([] {
        gev::Lock lock;
        lock.acquire();
        bool a_got = false;
        auto a = gev::spawn([&] { a_got = lock.acquire(); });
        auto b = gev::spawn([&] {
            gev::Guard g(lock);
            return 2;
        });
        gev::sleep(0ns);
        lock.release();   // granted to a, which is ready but has not run
        a.kill();
        REQUIRE(b.get() == 2);
        REQUIRE_FALSE(a_got);
        REQUIRE_FALSE(lock.locked());

        lock.acquire();
        auto c = gev::spawn([&] { lock.acquire(); });
        gev::sleep(0ns);
        lock.release();   // granted to c, and nobody else waits
        c.kill();
        REQUIRE_FALSE(lock.locked());
        REQUIRE(lock.acquire(false));
        lock.release();
    });
}

TEST_CASE("an RLock granted to a waiter killed before it ran is not owned by it", "[sync][rlock][cancel]") {
    gev::testing::run([] {
        gev::RLock lock;
        lock.acquire();
        auto a = gev::spawn([&] { lock.acquire(); });
        gev::sleep(0ns);
        lock.release();
        a.kill();
        REQUIRE_FALSE(lock.locked());
        REQUIRE(lock.acquire(false));
        REQUIRE(lock.count() == 1);
        lock.release();
    });
}

TEST_CASE("acquire with a zero timeout lets a ready holder run and release first", "[sync][lock][poll]") {
    gev::testing::run([] {
        gev::Lock lock;
        lock.acquire();
        auto releaser = gev::spawn([&] { lock.release(); });
        REQUIRE_FALSE(lock.acquire(false));   // blocking=false never switches
        int polls = 0;
        while (!lock.acquire(true, 0ns) && polls < 100) ++polls;
        REQUIRE(polls == 0);
        REQUIRE(lock.locked());
        releaser.join();
        REQUIRE_FALSE(lock.try_lock_for(0ns));   // nobody releases: false after one turn
        lock.release();
    });
}

TEST_CASE("the owner may re-acquire an RLock, which is free again after as many releases", "[sync][rlock]") {
    gev::testing::run([] {
        gev::RLock r;
        REQUIRE(r.acquire());
        REQUIRE(r.acquire());
        REQUIRE(r.count() == 2);
        REQUIRE(r.is_owned());
        auto other = gev::spawn([&] { return r.acquire(false); });
        REQUIRE_FALSE(other.get());
        r.release();
        REQUIRE(r.locked());
        REQUIRE(r.count() == 1);
        r.release();
        REQUIRE_FALSE(r.locked());
        REQUIRE(r.count() == 0);
        {
            std::scoped_lock nested(r);
            std::scoped_lock again(r);
            REQUIRE(r.count() == 2);
        }
        REQUIRE_FALSE(r.locked());
    });
}

TEST_CASE("releasing an RLock the caller does not own throws NotOwnerError", "[sync][rlock]") {
    gev::testing::run([] {
        gev::RLock r;
        REQUIRE_THROWS_AS(r.release(), gev::NotOwnerError);
        r.acquire();
        auto thief = gev::spawn([&] {
            try {
                r.release();
            } catch (const std::system_error& e) {
                return std::string(e.what());
            }
            return std::string("released");
        });
        std::string what = thief.get();
        REQUIRE_THAT(what, Catch::Contains("cannot release un-acquired lock"));
        REQUIRE(r.is_owned());
        REQUIRE(r.count() == 1);
        r.release();
    });
}

TEST_CASE("an RLock is handed over in FIFO order and held across a switch", "[sync][rlock]") {
    std::vector<int> order;
    gev::testing::run([&] {
        gev::RLock r;
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 4; ++i)
            gs.push_back(gev::spawn([&, i] {
                std::scoped_lock outer(r);
                order.push_back(i);
                gev::sleep(0ns);   // others queue up meanwhile
                std::scoped_lock inner(r);
                order.push_back(i);
            }));
        gev::joinall(gs);
    });
    REQUIRE(order == std::vector<int>{0, 0, 1, 1, 2, 2, 3, 3});
}

TEST_CASE("a Lock contended by fibers on two hubs protects a plain counter", "[sync][lock][multi]") {
    gev::RunOptions o;
    o.threads = 2;
    long counter = 0;
    gev::run([&] {
        gev::Lock lock;
        auto add = [&] {
            for (int i = 0; i < 10'000; ++i) {
                std::scoped_lock hold(lock);
                long v = counter;
                if (i % 1000 == 0) gev::sleep(0ns);   // a switch inside the critical section
                counter = v + 1;
            }
        };
        std::vector<gev::Greenlet<>> gs{gev::spawn(add), gev::spawn(add), gev::spawn_on(1, add), gev::spawn_on(1, add)};
        REQUIRE(gev::joinall(gs, 60s, true).size() == 4);
    }, o);
    REQUIRE(counter == 40'000);
}

TEST_CASE("an RLock shared by two hubs keeps each owner's nested sections whole", "[sync][rlock][multi]") {
    gev::RunOptions o;
    o.threads = 2;
    long a = 0, b = 0;
    std::atomic<bool> torn{false};
    gev::run([&] {
        gev::RLock r;
        auto work = [&] {
            for (int i = 0; i < 5000; ++i) {
                std::scoped_lock outer(r);
                ++a;
                {
                    std::scoped_lock inner(r);
                    ++b;
                }
                if (a != b) torn = true;
            }
        };
        gev::joinall({gev::spawn(work), gev::spawn_on(1, work), gev::spawn_on(1, work)});
    }, o);
    REQUIRE_FALSE(torn);
    REQUIRE(a == 15'000);
    REQUIRE(b == 15'000);
}
