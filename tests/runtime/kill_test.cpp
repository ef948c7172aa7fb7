// tests/runtime/kill_test.cpp — Greenlet::kill: raised at the target's park point,
// unwinds its stack, never throws to the caller, blocking and non-blocking forms,
// custom exceptions, fibers that never ran, dead fibers and killing oneself.
#include "support.hpp"

#include <memory>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

// Sets a flag when destroyed: tells whether a fiber's stack was unwound.
struct SetOnDestroy {
    bool& flag;
    ~SetOnDestroy() { flag = true; }
};

}  // namespace

TEST_CASE("kill raises GreenletExit inside the target at its park point", "[runtime][kill]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([&] {
            trace.push_back("parking");
            try {
                gev::sleep(1s);
                trace.push_back("woke normally");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit at the sleep");
                throw;
            }
            trace.push_back("after the sleep");
        });
        gev::sleep(0ns);
        g.kill();
        REQUIRE(g.dead());
    });
    REQUIRE(trace == std::vector<std::string>{"parking", "GreenletExit at the sleep"});
}

TEST_CASE("kill runs the destructors on the target's stack", "[runtime][kill]") {
    bool destroyed = false;
    gev::testing::run([&] {
        auto g = gev::spawn([&] {
            SetOnDestroy guard{destroyed};
            gev::sleep(1s);
        });
        gev::sleep(0ns);
        REQUIRE_FALSE(destroyed);
        g.kill();
        REQUIRE(destroyed);
    });
}

TEST_CASE("kill never throws the target's exception to the caller", "[runtime][kill]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto g = gev::spawn([] {
            try {
                gev::sleep(1s);
            } catch (const gev::GreenletExit&) {
                throw std::runtime_error("failed while dying");
            }
        });
        gev::sleep(0ns);
        REQUIRE_NOTHROW(g.kill());
        REQUIRE(g.dead());
        REQUIRE_FALSE(g.successful());
        REQUIRE_THROWS_WITH(g.get(), "failed while dying");
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("kill with block waits until the target is dead", "[runtime][kill]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([&] {
            try {
                gev::sleep(1s);
            } catch (const gev::GreenletExit&) {
                gev::sleep(3ms);   // cleanup that parks
                trace.push_back("cleanup done");
                throw;
            }
        });
        gev::sleep(0ns);
        g.kill();
        trace.push_back("kill returned");
        REQUIRE(g.dead());
    });
    REQUIRE(trace == std::vector<std::string>{"cleanup done", "kill returned"});
}

TEST_CASE("kill without block returns at once and the target dies later", "[runtime][kill]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([&] {
            try {
                gev::sleep(1s);
            } catch (const gev::GreenletExit&) {
                trace.push_back("target got GreenletExit");
                throw;
            }
        });
        gev::sleep(0ns);
        g.kill(gev::KillOptions{.block = false});
        trace.push_back("kill returned");
        REQUIRE_FALSE(g.dead());
        REQUIRE(g.join(1s));
        REQUIRE(g.successful());
    });
    REQUIRE(trace == std::vector<std::string>{"kill returned", "target got GreenletExit"});
}

TEST_CASE("kill with a timeout stops waiting for a target slow to die", "[runtime][kill]") {
    gev::testing::run([] {
        auto g = gev::spawn([] {
            try {
                gev::sleep(1s);
            } catch (const gev::GreenletExit&) {
                gev::sleep(20ms);
                throw;
            }
        });
        gev::sleep(0ns);
        g.kill(gev::KillOptions{.timeout = 1ms});
        REQUIRE_FALSE(g.dead());
        REQUIRE(g.join(1s));
    });
}

TEST_CASE("kill with a custom exception makes the target fail with it", "[runtime][kill]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto g = gev::spawn([] {
            gev::sleep(1s);
            return 1;
        });
        gev::sleep(0ns);
        g.kill(gev::KillOptions{.exception = std::make_exception_ptr(std::runtime_error("x"))});
        REQUIRE(g.dead());
        REQUIRE_FALSE(g.successful());
        REQUIRE(g.exception() != nullptr);
        REQUIRE_THROWS_WITH(g.get(), "x");
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
    REQUIRE_THAT(failures.messages[0], Catch::Contains("std::runtime_error: x"));
}

TEST_CASE("a fiber killed before it ever ran never runs and its links fire", "[runtime][kill]") {
    bool ran = false;
    std::vector<std::string> linked;
    gev::testing::run([&] {
        auto g = gev::spawn([&] { ran = true; });
        g.link([&](gev::Greenlet<> h) { linked.push_back(h.successful() ? "ended ok" : "ended failed"); });
        g.kill();
        REQUIRE(g.dead());
        gev::sleep(1ms);
        REQUIRE(g.successful());
    });
    REQUIRE_FALSE(ran);
    REQUIRE(linked == std::vector<std::string>{"ended ok"});
}

TEST_CASE("killing a dead fiber changes nothing", "[runtime][kill]") {
    gev::testing::run([] {
        auto g = gev::spawn([] { return 9; });
        REQUIRE(g.get() == 9);
        REQUIRE_NOTHROW(g.kill());
        REQUIRE_NOTHROW(g.kill(gev::KillOptions{.exception = std::make_exception_ptr(std::runtime_error("late"))}));
        REQUIRE(g.successful());
        REQUIRE(g.exception() == nullptr);
        REQUIRE(g.get() == 9);
    });
}

TEST_CASE("a fiber that kills itself gets the exception at once", "[runtime][kill]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Greenlet<> self;
        self = gev::spawn([&] {
            try {
                self.kill();
                trace.push_back("kill returned");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        self.join();
        REQUIRE(self.successful());
    });
    REQUIRE(trace == std::vector<std::string>{"GreenletExit"});
}

TEST_CASE("a kill of a fiber that is ready but not running is raised when it resumes", "[runtime][kill]") {
    int turns = 0;
    gev::testing::run([&] {
        auto spinner = gev::spawn([&] {
            for (;;) {
                ++turns;
                gev::sleep(0ns);   // always ready, never parked
            }
        });
        gev::sleep(0ns);
        gev::sleep(0ns);
        int before = turns;
        REQUIRE(before >= 1);
        spinner.kill();
        REQUIRE(spinner.dead());
        REQUIRE(turns == before);   // it never got another turn
        REQUIRE(spinner.successful());
    });
}

TEST_CASE("a target that swallows GreenletExit lives on", "[runtime][kill]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([&] {
            try {
                gev::sleep(1s);
            } catch (const gev::GreenletExit&) {
                trace.push_back("swallowed");
            }
            gev::sleep(2ms);
            trace.push_back("lived on");
        });
        gev::sleep(0ns);
        g.kill(gev::KillOptions{.block = false});
        REQUIRE(g.join(1s));
        REQUIRE(g.successful());
    });
    REQUIRE(trace == std::vector<std::string>{"swallowed", "lived on"});
}

TEST_CASE("a fiber killed before it ever ran drops what its function captured at once", "[runtime][kill]") {
    auto token = std::make_shared<int>(7);
    std::weak_ptr<int> watch = token;
    gev::testing::run([&] {
        auto g = gev::spawn([t = std::move(token)] { (void)*t; });
        REQUIRE_FALSE(watch.expired());
        g.kill();
        REQUIRE(watch.expired());   // the handle g still lives; the capture does not
    });
}

TEST_CASE("a fiber that ends by an exception drops what its function captured", "[runtime][kill]") {
    auto token = std::make_shared<int>(7);
    std::weak_ptr<int> watch = token;
    gev::testing::run([&] {
        auto g = gev::spawn([t = std::move(token)] { gev::sleep(1h); (void)*t; });
        gev::sleep(0ns);
        g.kill();
        REQUIRE(g.dead());
        REQUIRE(watch.expired());
    });
}

TEST_CASE("fibers spawned but never run when main returns are ended and released", "[runtime][kill]") {
    auto token = std::make_shared<int>(7);
    std::weak_ptr<int> watch = token;
    gev::Greenlet<> kept;
    gev::testing::run([&] {
        kept = gev::spawn([t = std::move(token)] { (void)*t; });
        gev::spawn([] {});   // no handle left: only the hub knows it
    });
    REQUIRE(kept.dead());
    REQUIRE(kept.successful());   // it ended by GreenletExit, which counts as success
    REQUIRE(watch.expired());
}
