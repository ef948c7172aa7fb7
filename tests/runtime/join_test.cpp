// tests/runtime/join_test.cpp — waiting for fibers: join and get with and without
// timeouts, the ready/successful/exception states, joinall's order, timeout, count
// and raise_error rules, and killall.
#include "support.hpp"

#include <memory>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

std::vector<std::uint64_t> ids(const std::vector<gev::Greenlet<>>& gs) {
    std::vector<std::uint64_t> out;
    for (const auto& g : gs) out.push_back(g.id());
    return out;
}

}  // namespace

TEST_CASE("join returns false on timeout and true once the fiber has ended", "[runtime][join]") {
    gev::testing::run([] {
        auto g = gev::spawn([] { gev::sleep(10ms); });
        REQUIRE_FALSE(g.join(1ms));
        REQUIRE_FALSE(g.ready());
        REQUIRE(g.join(2s));
        REQUIRE(g.ready());
        REQUIRE(g.join(0ns));   // already ended: true even without waiting
        REQUIRE(g.join());
    });
}

TEST_CASE("get with a timeout throws gev::Timeout when the fiber has not ended in time", "[runtime][join]") {
    gev::testing::run([] {
        auto g = gev::spawn([] {
            gev::sleep(10ms);
            return 1;
        });
        bool timed_out = false;
        try {
            (void)g.get(1ms);
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        REQUIRE(timed_out);
        REQUIRE_FALSE(g.ready());
        REQUIRE(g.get(2s) == 1);
    });
}

TEST_CASE("get rethrows the exception the fiber failed with", "[runtime][join]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto g = gev::spawn([]() -> int { throw std::runtime_error("broken"); });
        REQUIRE_THROWS_AS(g.get(), std::runtime_error);
        REQUIRE_THROWS_WITH(g.get(), "broken");   // every get rethrows it
        auto v = gev::spawn([] { throw std::logic_error("void too"); });
        REQUIRE_THROWS_WITH(v.get(), "void too");
    }, &failures);
    REQUIRE(failures.messages.size() == 2);
}

TEST_CASE("ready, successful, exception and dead follow a fiber's life", "[runtime][join]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto ok = gev::spawn([] { gev::sleep(1ms); });
        auto bad = gev::spawn([] {
            gev::sleep(1ms);
            throw std::runtime_error("bad");
        });
        for (auto* g : {&ok, &bad}) {
            REQUIRE_FALSE(g->ready());
            REQUIRE_FALSE(g->dead());
            REQUIRE_FALSE(g->successful());
            REQUIRE(g->exception() == nullptr);
        }
        gev::joinall({ok, bad});
        REQUIRE(ok.ready());
        REQUIRE(ok.dead());
        REQUIRE(ok.successful());
        REQUIRE(ok.exception() == nullptr);
        REQUIRE(bad.ready());
        REQUIRE(bad.dead());
        REQUIRE_FALSE(bad.successful());
        REQUIRE(bad.exception() != nullptr);
        REQUIRE_THROWS_WITH(std::rethrow_exception(bad.exception()), "bad");
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("a fiber ended by GreenletExit counts as successful", "[runtime][join]") {
    gev::testing::run([] {
        auto v = gev::spawn([] { gev::sleep(1s); });
        auto i = gev::spawn([] {
            gev::sleep(1s);
            return 1;
        });
        auto thrown = gev::spawn([] { throw gev::GreenletExit{}; });
        gev::sleep(0ns);
        v.kill();
        i.kill();
        thrown.join();
        for (auto* g : {static_cast<gev::Greenlet<>*>(&v), static_cast<gev::Greenlet<>*>(&i), &thrown}) {
            REQUIRE(g->dead());
            REQUIRE(g->successful());
            REQUIRE(g->exception() == nullptr);
        }
        v.get();   // returns: no failure to rethrow
        thrown.get();
        bool exited = false;
        try {
            (void)i.get();
        } catch (const gev::GreenletExit&) {
            exited = true;   // there is no value to return
        }
        REQUIRE(exited);
        REQUIRE_FALSE(i.value().has_value());
    });
}

TEST_CASE("a fiber cannot join itself", "[runtime][join]") {
    gev::testing::run([] {
        gev::Greenlet<> self;
        bool refused = false;
        self = gev::spawn([&] {
            try {
                self.join();
            } catch (const std::system_error&) {
                refused = true;
            }
        });
        self.join();
        REQUIRE(refused);
    });
}

TEST_CASE("joinall returns dead fibers first in argument order, then the rest as they end", "[runtime][joinall]") {
    gev::testing::run([] {
        auto a = gev::spawn([] {});
        auto b = gev::spawn([] {});
        auto slow = gev::spawn([] { gev::sleep(12ms); });
        auto quick = gev::spawn([] { gev::sleep(2ms); });
        gev::sleep(0ns);   // a and b end; slow and quick park
        REQUIRE(a.dead());
        REQUIRE(b.dead());
        auto done = gev::joinall({slow, b, quick, a});
        REQUIRE(ids(done) == std::vector<std::uint64_t>{b.id(), a.id(), quick.id(), slow.id()});
    });
}

TEST_CASE("joinall with a timeout returns only the fibers that ended in time", "[runtime][joinall]") {
    gev::testing::run([] {
        auto quick = gev::spawn([] { gev::sleep(1ms); });
        auto slow = gev::spawn([] { gev::sleep(1s); });
        auto done = gev::joinall({slow, quick}, 10ms);
        REQUIRE(ids(done) == std::vector<std::uint64_t>{quick.id()});
        REQUIRE_FALSE(slow.dead());
        slow.kill();
        REQUIRE(gev::joinall({slow, quick}, 0ns).size() == 2);
    });
}

TEST_CASE("joinall with raise_error rethrows the first failure", "[runtime][joinall]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto fine = gev::spawn([] { gev::sleep(1ms); });
        auto first = gev::spawn([] {
            gev::sleep(3ms);
            throw std::runtime_error("first");
        });
        auto second = gev::spawn([] {
            gev::sleep(20ms);
            throw std::runtime_error("second");
        });
        auto slow = gev::spawn([] { gev::sleep(1s); });
        REQUIRE_THROWS_WITH(gev::joinall({slow, second, first, fine}, gev::forever, true), "first");
        REQUIRE(first.dead());
        REQUIRE_FALSE(second.dead());   // it raised as soon as it saw the failure
        second.join();
        REQUIRE_THROWS_WITH(gev::joinall({fine, second}, gev::forever, true), "second");
        slow.kill();
    }, &failures);
    REQUIRE(failures.messages.size() == 2);
}

TEST_CASE("joinall with count returns once that many fibers have ended", "[runtime][joinall]") {
    gev::testing::run([] {
        auto a = gev::spawn([] { gev::sleep(1ms); });
        auto b = gev::spawn([] { gev::sleep(3ms); });
        auto c = gev::spawn([] { gev::sleep(1s); });
        auto done = gev::joinall({c, b, a}, gev::forever, false, 2);
        REQUIRE(ids(done) == std::vector<std::uint64_t>{a.id(), b.id()});
        REQUIRE_FALSE(c.dead());
        c.kill();
    });
}

TEST_CASE("joinall does not raise by default when fibers failed", "[runtime][joinall]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto bad = gev::spawn([] { throw std::runtime_error("ignored by joinall"); });
        auto good = gev::spawn([] { gev::sleep(1ms); });
        std::vector<gev::Greenlet<>> done;
        REQUIRE_NOTHROW(done = gev::joinall({bad, good}));
        REQUIRE(done.size() == 2);
        REQUIRE(bad.exception() != nullptr);
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("joinall accepts a vector of typed handles", "[runtime][joinall]") {
    gev::testing::run([] {
        std::vector<gev::Greenlet<int>> gs;
        for (int i = 0; i < 4; ++i)
            gs.push_back(gev::spawn([i] {
                gev::sleep(std::chrono::milliseconds(4 - i));
                return i * i;
            }));
        auto done = gev::joinall(gs);
        REQUIRE(done.size() == 4);
        REQUIRE(done.front() == gs[3]);   // the shortest sleep ended first
        int sum = 0;
        for (auto& g : gs) sum += g.get();
        REQUIRE(sum == 0 + 1 + 4 + 9);
    });
}

TEST_CASE("killall kills every fiber and with block waits until all are dead", "[runtime][joinall][kill]") {
    int cleaned = 0;
    gev::testing::run([&] {
        std::vector<gev::Greenlet<int>> gs;
        for (int i = 0; i < 3; ++i)
            gs.push_back(gev::spawn([&] {
                try {
                    gev::sleep(1s);
                } catch (const gev::GreenletExit&) {
                    gev::sleep(1ms);   // dying takes a while
                    ++cleaned;
                    throw;
                }
                return 1;
            }));
        gev::sleep(0ns);
        gev::killall(gs);
        REQUIRE(cleaned == 3);
        for (auto& g : gs) {
            REQUIRE(g.dead());
            REQUIRE(g.successful());
        }
    });
    REQUIRE(cleaned == 3);
}

TEST_CASE("killall without block returns before the fibers have died", "[runtime][joinall][kill]") {
    gev::testing::run([] {
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 3; ++i) gs.push_back(gev::spawn([] { gev::sleep(1s); }));
        gev::sleep(0ns);
        gev::killall(gs, gev::KillOptions{.block = false});
        for (auto& g : gs) REQUIRE_FALSE(g.dead());
        REQUIRE(gev::joinall(gs, 1s).size() == 3);
        for (auto& g : gs) REQUIRE(g.successful());
    });
}

TEST_CASE("get works for a move-only result and take moves it out once", "[runtime][join][result]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto g = gev::spawn([] { return std::make_unique<int>(7); });
        const std::unique_ptr<int>& seen = g.get();   // move-only: get returns a reference
        REQUIRE(*seen == 7);
        REQUIRE(*g.get() == 7);   // and leaves the result in place
        std::unique_ptr<int> owned = g.take();
        REQUIRE(*owned == 7);
        REQUIRE_FALSE(g.value().has_value());
        REQUIRE_THROWS_WITH(g.take(), Catch::Contains("already taken"));
        REQUIRE_THROWS_AS(g.get(), std::system_error);

        auto s = gev::spawn([] { return std::string("copyable"); });
        std::string copy = s.get();   // copyable: get returns a copy
        REQUIRE(s.take() == copy);

        auto bad = gev::spawn([]() -> std::unique_ptr<int> { throw std::runtime_error("no result"); });
        REQUIRE_THROWS_WITH(bad.take(), "no result");
        auto killed = gev::spawn([] { return std::make_unique<int>(1); });
        killed.kill();
        REQUIRE_THROWS_AS(killed.take(), gev::GreenletExit);
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("join(0) and joinall with a zero timeout let a ready fiber run before they look",
          "[runtime][join][poll]") {
    gev::testing::run([] {
        auto g = gev::spawn([] {});
        int polls = 0;
        while (!g.join(0ns) && polls < 100) ++polls;
        REQUIRE(polls == 0);   // the first join(0) let it run to its end

        auto a = gev::spawn([] {});
        auto b = gev::spawn([] { gev::sleep(1h); });
        auto done = gev::joinall({a, b}, 0ns);
        REQUIRE(ids(done) == std::vector<std::uint64_t>{a.id()});
        b.kill();
    });
}
