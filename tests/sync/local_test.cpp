// tests/sync/local_test.cpp — local<T>: one value per fiber, made on first access and
// destroyed when the fiber ends (spawned fibers, main, raw greenlets), by reset, or by
// the local's own destructor; fibers on two hubs.
#include "support.hpp"

#include <atomic>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::atomic<int> g_alive{0};

// Ends a test body whose fibers have just ended: lets their death links run. A fiber
// still queued when main returns is never freed (a runtime limitation), and neither
// would the values its link holds.

struct Counted {
    Counted() { ++g_alive; }
    ~Counted() { --g_alive; }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    int value = 0;
};

}  // namespace

TEST_CASE("each fiber sees its own value, default-constructed on first access", "[sync][local]") {
    gev::testing::run([] {
        gev::local<int> n;
        REQUIRE_FALSE(n.has_value());
        *n = 1;
        REQUIRE(n.has_value());
        std::vector<int> seen;
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 3; ++i)
            gs.push_back(gev::spawn([&, i] {
                seen.push_back(*n);   // 0: a fresh int for this fiber
                *n = 10 + i;
                gev::sleep(0ns);      // the others run and set theirs meanwhile
                seen.push_back(*n);
            }));
        gev::joinall(gs);
        REQUIRE(seen == std::vector<int>{0, 0, 0, 10, 11, 12});
        REQUIRE(*n == 1);
    });
}

TEST_CASE("a fiber's value is destroyed soon after the fiber ends", "[sync][local]") {
    gev::testing::run([] {
        gev::local<Counted> c;
        auto g = gev::spawn([&] {
            c->value = 5;
            REQUIRE(g_alive == 1);
        });
        g.join();
        gev::sleep(1ms);   // the fiber's death link runs
        REQUIRE(g_alive == 0);
        REQUIRE(c.size() == 0);
        auto killed = gev::spawn([&] {
            c->value = 6;
            gev::sleep(1h);
        });
        gev::sleep(0ns);
        REQUIRE(g_alive == 1);
        killed.kill();
        gev::sleep(1ms);
        REQUIRE(g_alive == 0);
    });
}

TEST_CASE("a local made with a factory starts each fiber's value from it", "[sync][local]") {
    gev::testing::run([] {
        int made = 0;
        gev::local<std::string> name([&] { return "fiber " + std::to_string(++made); });
        auto a = gev::spawn([&] { return *name; });
        auto b = gev::spawn([&] { return *name + "/" + *name; });
        REQUIRE(a.get() == "fiber 1");
        REQUIRE(b.get() == "fiber 2/fiber 2");
    });
}

TEST_CASE("reset destroys the calling fiber's value and the next access makes a new one", "[sync][local]") {
    gev::testing::run([] {
        gev::local<Counted> c;
        c->value = 3;
        REQUIRE(g_alive == 1);
        c.reset();
        REQUIRE(g_alive == 0);
        REQUIRE(c->value == 0);
        REQUIRE(g_alive == 1);
    });
    REQUIRE(g_alive == 0);
}

TEST_CASE("destroying a local destroys every value still alive", "[sync][local]") {
    gev::testing::run([] {
        std::vector<gev::Greenlet<>> gs;
        {
            gev::local<Counted> c;
            gev::Event stop;
            for (int i = 0; i < 4; ++i) gs.push_back(gev::spawn([&] {
                c->value = 1;
                stop.wait();
            }));
            gev::sleep(0ns);
            REQUIRE(g_alive == 4);
            stop.set();
            gev::sleep(0ns);
            // The fibers have ended but their links have not run yet, or have: either way
            // the local's destructor leaves nothing behind.
        }
        REQUIRE(g_alive == 0);
        gev::joinall(gs);
        gev::sleep(1ms);
        REQUIRE(g_alive == 0);
    });
}

TEST_CASE("main's value lives until the local is destroyed, even past gev::run", "[sync][local]") {
    {
        gev::local<Counted> c;
        gev::testing::run([&] {
            c->value = 1;
            REQUIRE(g_alive == 1);
        });
        REQUIRE(c.size() == 1);   // main has no death link (see sync/local.hpp)
    }
    REQUIRE(g_alive == 0);
}

TEST_CASE("a raw greenlet gets its own value, destroyed once it is dead", "[sync][local]") {
    gev::testing::run([] {
        gev::local<Counted> c;
        c->value = 1;
        gev::RawGreenlet g([&] { c->value = 2; });
        g.switch_to();
        REQUIRE(g.dead());
        REQUIRE(c->value == 1);
        REQUIRE(c.size() == 2);
        // A raw greenlet has no death link: a sweep finds it among the first accesses
        // of later raw greenlets on this thread.
        for (int i = 0; i < 100; ++i) gev::RawGreenlet([&] { c->value = 3; }).switch_to();
        REQUIRE(c.size() < 100);
        REQUIRE(g_alive == static_cast<int>(c.size()));
    });
    REQUIRE(g_alive == 0);
}

TEST_CASE("fibers on two hubs each get their own value", "[sync][local][multi]") {
    gev::RunOptions o;
    o.threads = 2;
    std::atomic<int> mismatches{0};
    gev::run([&] {
        gev::local<Counted> c;
        auto work = [&](int id) {
            for (int i = 0; i < 200; ++i) {
                c->value = id;
                gev::sleep(0ns);
                if (c->value != id) ++mismatches;
            }
        };
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 4; ++i) {
            gs.push_back(gev::spawn(work, i));
            gs.push_back(gev::spawn_on(1, work, 100 + i));
        }
        gev::joinall(gs);
        gev::sleep(5ms);   // both hubs run the death links (and drain cross-hub wake-ups)
    }, o);
    REQUIRE(mismatches == 0);
    REQUIRE(g_alive == 0);
}
