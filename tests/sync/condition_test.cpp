// tests/sync/condition_test.cpp — Condition over Lock and RLock: notify(n) and
// notify_all in FIFO order, wait's timeout, wait_for, ownership errors, a notified
// waiter killed before it runs, a kill raised with the lock held, a shielded waiter,
// LoopExit, two hubs.
#include "support.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("notify(n) wakes exactly n waiters, longest waiting first", "[sync][condition]") {
    std::vector<int> woken;
    gev::testing::run([&] {
        gev::Lock lock;
        gev::Condition cond(lock);
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 5; ++i)
            gs.push_back(gev::spawn([&, i] {
                std::scoped_lock hold(cond);
                cond.wait();
                woken.push_back(i);
            }));
        gev::sleep(0ns);
        {
            std::scoped_lock hold(cond);
            cond.notify(2);
        }
        gev::sleep(1ms);
        REQUIRE(woken == std::vector<int>{0, 1});
        {
            std::scoped_lock hold(cond);
            cond.notify();
        }
        gev::sleep(1ms);
        REQUIRE(woken == std::vector<int>{0, 1, 2});
        {
            std::scoped_lock hold(cond);
            cond.notify_all();
        }
        gev::joinall(gs);
        REQUIRE_FALSE(lock.locked());
    });
    REQUIRE(woken == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("wait returns false when its timeout passes, with the lock held again", "[sync][condition]") {
    gev::testing::run([] {
        gev::Lock lock;
        gev::Condition cond(lock);
        std::scoped_lock hold(cond);
        REQUIRE_FALSE(cond.wait(1ms));
        REQUIRE(lock.locked());
        REQUIRE_FALSE(cond.wait(0ns));
        REQUIRE(lock.locked());
    });
}

TEST_CASE("wait lets go of the lock so the notifier can take it", "[sync][condition]") {
    gev::testing::run([] {
        gev::Lock lock;
        gev::Condition cond(lock);
        std::deque<int> items;
        auto consumer = gev::spawn([&] {
            std::scoped_lock hold(cond);
            REQUIRE(cond.wait_for([&] { return !items.empty(); }, 5s));
            return items.front();
        });
        gev::sleep(0ns);
        {
            std::scoped_lock hold(cond);   // free: the consumer let go while waiting
            items.push_back(42);
            cond.notify();
        }
        REQUIRE(consumer.get() == 42);
    });
}

TEST_CASE("wait(0) lets go of the lock for one turn, so a ready notifier can take it and notify",
          "[sync][condition][poll]") {
    gev::testing::run([] {
        gev::Lock lock;
        gev::Condition cond(lock);
        bool flag = false;
        auto notifier = gev::spawn([&] {
            std::scoped_lock hold(cond);
            flag = true;
            cond.notify();
        });
        std::unique_lock hold(cond);
        int polls = 0;
        bool notified = false;
        while (!flag && polls < 100) {
            notified = cond.wait(0ns);
            ++polls;
        }
        REQUIRE(flag);
        REQUIRE(polls == 1);
        REQUIRE(notified);
        REQUIRE(lock.locked());   // held again
        hold.unlock();
        notifier.join();
    });
}

TEST_CASE("wait_for returns the predicate's value when the timeout passes", "[sync][condition]") {
    gev::testing::run([] {
        gev::Condition cond;   // over its own RLock
        std::scoped_lock hold(cond);
        int calls = 0;
        REQUIRE_FALSE(cond.wait_for([&] { return ++calls > 100; }, 2ms));
        REQUIRE(calls >= 2);
        REQUIRE(cond.wait_for([] { return true; }, 0ns));
    });
}

TEST_CASE("wait or notify without holding the lock throws NotOwnerError", "[sync][condition]") {
    gev::testing::run([] {
        gev::Lock lock;
        gev::Condition cond(lock);
        REQUIRE_THROWS_AS(cond.wait(1ms), gev::NotOwnerError);
        REQUIRE_THROWS_AS(cond.notify(), gev::NotOwnerError);
        REQUIRE_THROWS_AS(cond.notify_all(), gev::NotOwnerError);
        gev::RLock r;
        gev::Condition rc(r);
        auto owner = gev::spawn([&] {
            r.acquire();
            gev::sleep(2ms);
            r.release();
        });
        gev::sleep(0ns);
        REQUIRE_THROWS_WITH(rc.notify(), Catch::Contains("cannot notify on un-acquired lock"));
        owner.join();
    });
}

TEST_CASE("a notified waiter killed before it runs passes the notification on", "[sync][condition]") {
    gev::testing::run([] {
        gev::Lock lock;
        gev::Condition cond(lock);
        bool a_woke = false, b_woke = false;
        auto a = gev::spawn([&] {
            std::scoped_lock hold(cond);
            cond.wait();
            a_woke = true;
        });
        auto b = gev::spawn([&] {
            std::scoped_lock hold(cond);
            b_woke = cond.wait(5s);
        });
        gev::sleep(0ns);
        {
            std::scoped_lock hold(cond);
            cond.notify(1);   // to a, which has not run yet
        }
        a.kill();
        b.join();
        REQUIRE_FALSE(a_woke);
        REQUIRE(b_woke);
        REQUIRE_FALSE(lock.locked());
    });
}

TEST_CASE("a kill while waiting on a Condition is raised with the lock held again", "[sync][condition]") {
    gev::testing::run([] {
        gev::Lock lock;
        gev::Condition cond(lock);
        bool held_when_killed = false;
        auto g = gev::spawn([&] {
            std::scoped_lock hold(cond);
            try {
                cond.wait();
            } catch (const gev::GreenletExit&) {
                held_when_killed = lock.locked();
                throw;
            }
        });
        gev::sleep(0ns);
        lock.acquire();        // g cannot re-acquire until main lets go
        g.kill({.block = false});
        gev::sleep(1ms);
        REQUIRE_FALSE(g.ready());   // still re-acquiring, not interrupted
        lock.release();
        g.join();
        REQUIRE(held_when_killed);
        REQUIRE_FALSE(lock.locked());   // the scoped_lock released it once
    });
}

TEST_CASE("a Condition over an RLock lets go of every level while waiting and restores them",
          "[sync][condition]") {
    gev::testing::run([] {
        gev::RLock r;
        gev::Condition cond(r);
        auto g = gev::spawn([&] {
            std::scoped_lock a(r), b(r);
            REQUIRE(r.count() == 2);
            REQUIRE(cond.wait(5s));
            return r.count();
        });
        gev::sleep(0ns);
        REQUIRE_FALSE(r.locked());   // both levels let go of
        {
            std::scoped_lock hold(cond);
            cond.notify();
        }
        REQUIRE(g.get() == 2);
        REQUIRE_FALSE(r.locked());
    });
}

TEST_CASE("waiting on a Condition nobody notifies throws LoopExit naming it", "[sync][condition][loopexit]") {
    std::string message;
    bool held = false;
    gev::testing::run([&] {
        gev::Lock lock;
        gev::Condition cond(lock);
        std::scoped_lock hold(cond);
        try {
            cond.wait();
        } catch (const gev::LoopExit& x) {
            message = x.what();
            held = lock.locked();
        }
    });
    REQUIRE_THAT(message, Catch::Contains("Condition 0x"));
    REQUIRE(held);
}

TEST_CASE("a producer on hub 1 and a consumer on hub 0 share a Condition", "[sync][condition][multi]") {
    gev::RunOptions o;
    o.threads = 2;
    const int n = 3000;
    long sum = 0;
    gev::run([&] {
        gev::Lock lock;
        gev::Condition cond(lock);
        std::deque<int> items;
        auto producer = gev::spawn_on(1, [&] {
            for (int i = 1; i <= n; ++i) {
                std::scoped_lock hold(cond);
                items.push_back(i);
                cond.notify();
            }
        });
        for (int got = 0; got < n;) {
            std::scoped_lock hold(cond);
            REQUIRE(cond.wait_for([&] { return !items.empty(); }, 10s));
            while (!items.empty()) {
                sum += items.front();
                items.pop_front();
                ++got;
            }
        }
        producer.get();
    }, o);
    REQUIRE(sum == static_cast<long>(n) * (n + 1) / 2);
}

TEST_CASE("a shielded waiter notified while a kill is pending keeps its notification", "[sync][condition][shield]") {
    std::vector<std::string> log;
    gev::testing::run([&] {
        gev::Lock lock;
        gev::Condition cond(lock);
        auto a = gev::spawn([&] {
            {
                gev::Shield shield;
                std::scoped_lock hold(cond);
                log.push_back(cond.wait() ? "a notified" : "a not notified");
            }
            gev::sleep(0ns);   // the pending kill is raised here, after the shield
            log.push_back("a went on");
        });
        auto c = gev::spawn([&] {
            std::scoped_lock hold(cond);
            cond.wait();
            log.push_back("c notified");
        });
        gev::sleep(0ns);   // both wait, a first
        a.kill(gev::KillOptions{.block = false});
        gev::sleep(1ms);
        {
            std::scoped_lock hold(cond);
            cond.notify(1);
        }
        a.join();
        gev::sleep(1ms);
        // Before the fix a's wait also passed the notification on to c.
        REQUIRE(log == std::vector<std::string>{"a notified"});
        {
            std::scoped_lock hold(cond);
            cond.notify(1);
        }
        c.join();
        REQUIRE(log == std::vector<std::string>{"a notified", "c notified"});
    });
}
