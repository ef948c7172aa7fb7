// tests/sync/pool_test.cpp — Group and Pool: back-pressure order, members leaving when
// they end, join (timeout, raise_error, members added while joining), kill, discard,
// free_count/wait_available, cancelled spawners handing their slot on, apply and
// apply_async, and a Pool shared by two hubs (map and imap: pool_map_test.cpp).
#include "support.hpp"

#include <array>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gev::testing::run;

TEST_CASE("spawn on a full Pool parks the caller until a member ends", "[sync][pool]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Pool pool(2);
        gev::Queue<int> gate;   // holds b until c is done, so the order does not hang on the clock
        pool.spawn([&] {
            trace.push_back("a start");
            gev::sleep(1ms);
            trace.push_back("a end");
        });
        pool.spawn([&] {
            trace.push_back("b start");
            gate.get();
            trace.push_back("b end");
        });
        REQUIRE(pool.full());
        trace.push_back("spawning c");
        auto c = pool.spawn([&] { trace.push_back("c runs"); });   // parks until a ends
        trace.push_back("c spawned");
        c.join();
        gate.put(1);
        pool.join();
    });
    REQUIRE(trace == std::vector<std::string>{"spawning c", "a start", "b start", "a end", "c spawned", "c runs",
                                              "b end"});
}

TEST_CASE("spawners waiting on a full Pool get slots in the order they came", "[sync][pool]") {
    std::vector<int> started;
    run([&] {
        gev::Pool pool(1);
        pool.spawn([] { gev::sleep(1ms); });
        std::vector<gev::Greenlet<>> spawners;
        for (int i = 0; i < 4; ++i)
            spawners.push_back(gev::spawn([&, i] { pool.spawn([&, i] { started.push_back(i); }); }));
        gev::joinall(spawners);
        pool.join();
    });
    REQUIRE(started == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("a finished greenlet leaves its group by itself", "[sync][pool]") {
    run([] {
        gev::Group group;
        auto g = group.spawn([] { return 1; });
        REQUIRE(group.contains(g));
        REQUIRE(group.size() == 1);
        g.join();
        REQUIRE_FALSE(group.contains(g));   // at once after join, as in gevent
        REQUIRE(group.size() == 0);
        REQUIRE(group.greenlets().empty());
        REQUIRE(group.join(0ns));
    });
}

TEST_CASE("Group join waits for greenlets added while it waits", "[sync][pool]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Group group;
        group.spawn([&] {
            gev::sleep(1ms);
            group.spawn([&] {
                gev::sleep(2ms);
                trace.push_back("late member done");
            });
            trace.push_back("first member done");
        });
        REQUIRE(group.join());
        trace.push_back("joined");
    });
    REQUIRE(trace == std::vector<std::string>{"first member done", "late member done", "joined"});
}

TEST_CASE("join with a timeout says false while members run", "[sync][pool]") {
    run([] {
        gev::Group group;
        group.spawn([] { gev::sleep(1h); });
        REQUIRE_FALSE(group.join(1ms));
        REQUIRE(group.size() == 1);
        group.kill();
    });
}

TEST_CASE("join with raise_error rethrows a member's exception, and without it does not", "[sync][pool]") {
    gev::testing::Failures failures;
    run([] {
        gev::Group group;
        group.spawn([] { gev::sleep(1ms); });
        group.spawn([] { throw std::runtime_error("member failed"); });
        REQUIRE_THROWS_WITH(group.join(gev::forever, true), "member failed");
        gev::Group quiet;
        quiet.spawn([] { throw std::runtime_error("ignored"); });
        REQUIRE(quiet.join());
    }, &failures);
    REQUIRE(failures.messages.size() == 2);   // each failure is still reported once
}

TEST_CASE("kill kills every member and waits for them to end", "[sync][pool]") {
    int unwound = 0;
    run([&] {
        struct Count {
            int& n;
            ~Count() { ++n; }
        };
        gev::Pool pool(3);
        for (int i = 0; i < 3; ++i)
            pool.spawn([&] {
                Count c{unwound};
                gev::sleep(1h);
            });
        gev::sleep(0ns);
        pool.kill();
        REQUIRE(unwound == 3);
        REQUIRE(pool.size() == 0);
        REQUIRE(pool.free_count() == 3);
    });
}

TEST_CASE("kill also kills members spawned while it waits", "[sync][pool]") {
    run([] {
        gev::Group group;
        gev::Greenlet<> late;
        group.spawn([&] {
            try {
                gev::sleep(1h);
            } catch (const gev::GreenletExit&) {
                late = group.spawn([] { gev::sleep(1h); });   // a member starting another on its way out
                throw;
            }
        });
        gev::sleep(0ns);
        group.kill();
        REQUIRE(late);
        REQUIRE(late.dead());
        REQUIRE(group.empty());
    });
}

TEST_CASE("killone kills only that member, discard lets it run on untracked", "[sync][pool]") {
    run([] {
        gev::Pool pool(2);
        auto a = pool.spawn([] { gev::sleep(1h); });
        auto b = pool.spawn([] {
            gev::sleep(2ms);
            return 5;
        });
        REQUIRE(pool.free_count() == 0);
        pool.discard(b);
        REQUIRE_FALSE(pool.contains(b));
        REQUIRE(pool.free_count() == 1);   // its slot frees at once
        pool.killone(a);
        REQUIRE(a.dead());
        REQUIRE(b.get() == 5);
        REQUIRE(pool.free_count() == 2);
    });
}

TEST_CASE("free_count and wait_available follow the members", "[sync][pool]") {
    run([] {
        gev::Pool pool(2);
        REQUIRE(pool.capacity() == 2);
        REQUIRE(pool.free_count() == 2);
        REQUIRE(pool.wait_available(0ns) == 2);
        pool.spawn([] { gev::sleep(1ms); });
        pool.spawn([] { gev::sleep(1h); });
        REQUIRE(pool.free_count() == 0);
        REQUIRE(pool.wait_available(0ns) == 0);
        REQUIRE(pool.wait_available() == 1);   // parks until the first one ends
        REQUIRE(pool.free_count() == 1);
        pool.kill();
        gev::Group group;
        REQUIRE_FALSE(group.full());
        REQUIRE(group.wait_available(0ns) > 1'000'000);
    });
}

TEST_CASE("wait_available, add and join with a zero timeout let a ready member end first", "[sync][pool][poll]") {
    run([] {
        gev::Pool pool(1);
        pool.spawn([] {});   // ready, not yet run
        REQUIRE(pool.wait_available(0ns) == 1);   // it ran and ended meanwhile
        pool.spawn([] {});
        auto outside = gev::spawn([] { gev::sleep(1h); });
        REQUIRE_NOTHROW(pool.add(outside, true, 0ns));   // the member ended meanwhile
        REQUIRE(pool.contains(outside));
        outside.kill();
        pool.spawn([] {});
        REQUIRE(pool.join(0ns));   // the member ran to its end meanwhile
        pool.spawn([] { gev::sleep(1h); });
        REQUIRE_THROWS_AS(pool.add(gev::spawn([] {}), true, 0ns), gev::Full);
        pool.kill();
    });
}

TEST_CASE("add tracks an outside greenlet and a full Pool refuses it without block", "[sync][pool]") {
    run([] {
        gev::Pool pool(1);
        auto g = gev::spawn([] { gev::sleep(1h); });
        pool.add(g);
        pool.add(g);   // already a member: nothing happens
        REQUIRE(pool.size() == 1);
        auto h = gev::spawn([] {});
        REQUIRE_THROWS_AS(pool.add(h, false), gev::Full);
        REQUIRE_THROWS_AS(pool.add(h, true, 1ms), gev::Full);
        REQUIRE_FALSE(pool.contains(h));
        pool.kill();
        REQUIRE(g.dead());
        REQUIRE(pool.join(0ns));
        REQUIRE_THROWS_AS(gev::Pool(0), std::system_error);
    });
}

TEST_CASE("a spawner killed after it was given a slot hands the slot to the next one", "[sync][pool][cancel]") {
    std::vector<std::string> started;
    run([&] {
        gev::Pool pool(1);
        auto first = pool.spawn([] { gev::sleep(1h); });
        auto s1 = gev::spawn([&] { pool.spawn([&] { started.push_back("s1"); }); });
        auto s2 = gev::spawn([&] { pool.spawn([&] { started.push_back("s2"); }); });
        gev::sleep(0ns);        // both spawners wait for the slot
        pool.discard(first);    // the slot goes to s1 at once; s1 has not run yet
        s1.kill(gev::KillOptions{nullptr, false, gev::forever});
        s2.join();
        pool.join();
        first.kill();
    });
    REQUIRE(started == std::vector<std::string>{"s2"});
}

TEST_CASE("apply runs f in a member and returns its result, or rethrows its failure", "[sync][pool][apply]") {
    gev::testing::Failures failures;
    run([] {
        gev::Pool pool(2);
        std::uint64_t caller = gev::getcurrent().id(), ran_in = 0;
        int r = pool.apply([&](int x) {
            ran_in = gev::getcurrent().id();
            return x + 1;
        }, 41);
        REQUIRE(r == 42);
        REQUIRE(ran_in != caller);   // a member of its own
        REQUIRE(pool.empty());
        REQUIRE_THROWS_AS(pool.apply([] { throw std::runtime_error("boom"); }), std::runtime_error);
    }, &failures);
    REQUIRE(failures.messages.size() == 1);   // the failed member is reported, as gevent prints it
}

TEST_CASE("apply from a member of a full Pool runs f inline instead of waiting for a slot", "[sync][pool][apply]") {
    run([] {
        gev::Pool pool(1);
        auto member = pool.spawn([&] {
            std::uint64_t self = gev::getcurrent().id();
            return pool.apply([self] { return gev::getcurrent().id() == self; });
        });
        REQUIRE(member.get(std::chrono::seconds(5)));   // ran in the member itself: no deadlock
    });
}

TEST_CASE("apply_async returns at once and calls back with the result when f succeeds", "[sync][pool][apply]") {
    gev::testing::Failures failures;
    run([] {
        gev::Group group;
        std::vector<std::string> trace;
        gev::Event done;
        auto g = group.apply_async([&](int x) {
            trace.push_back("f");
            return x * 2;
        }, [&](int v) {
            trace.push_back("callback " + std::to_string(v));
            done.set();
        }, 21);
        trace.push_back("returned");
        REQUIRE(done.wait(std::chrono::seconds(5)));
        REQUIRE(trace == std::vector<std::string>{"returned", "f", "callback 42"});
        REQUIRE(g.get() == 42);
        bool called = false;
        auto bad = group.apply_async([]() -> int { throw std::runtime_error("no"); }, [&](int) { called = true; });
        bad.join();
        gev::sleep(std::chrono::milliseconds(1));   // where its link would have run
        REQUIRE_FALSE(called);
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("a Pool shared by fibers on two hubs never runs more than its size", "[sync][pool][multi]") {
    std::atomic<int> running{0}, peak{0}, done{0};
    gev::RunOptions o;
    o.threads = 2;
    gev::run([&] {
        gev::Pool pool(3);
        auto work = [&] {
            int now = ++running;
            int p = peak.load();
            while (now > p && !peak.compare_exchange_weak(p, now)) {
            }
            gev::sleep(std::chrono::microseconds(200));
            --running;
            ++done;
        };
        auto far = gev::spawn_on(1, [&] {
            for (int i = 0; i < 50; ++i) pool.spawn(work);
        });
        for (int i = 0; i < 50; ++i) pool.spawn(work);
        far.join();
        for (int waited = 0; done < 100 && waited < 5000; ++waited) gev::sleep(1ms);
        pool.join(5s);
    }, o);
    REQUIRE(done == 100);
    REQUIRE(peak <= 3);
}
