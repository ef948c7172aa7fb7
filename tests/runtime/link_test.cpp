// tests/runtime/link_test.cpp — Greenlet::link, link_value, link_exception and unlink:
// callbacks run in new fibers after the end, with the handle, in the order added.
#include "support.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

TEST_CASE("link runs the callback in a new fiber after the fiber ends, with its handle", "[runtime][link]") {
    std::vector<std::string> trace;
    gev::detail::Fiber* target_fiber = nullptr;
    gev::detail::Fiber* link_fiber = nullptr;
    bool got_same_handle = false, was_dead = false;
    gev::testing::run([&] {
        gev::Greenlet<int> g;
        g = gev::spawn([&] {
            target_fiber = gev::detail::current_fiber();
            trace.push_back("fiber ends");
            return 4;
        });
        g.link([&](gev::Greenlet<> h) {
            link_fiber = gev::detail::current_fiber();
            got_same_handle = h == g;
            was_dead = h.dead();
            trace.push_back("link");
        });
        REQUIRE(trace.empty());
        g.join();
        gev::sleep(1ms);
    });
    REQUIRE(trace == std::vector<std::string>{"fiber ends", "link"});
    REQUIRE(got_same_handle);
    REQUIRE(was_dead);
    REQUIRE(link_fiber != nullptr);
    REQUIRE(link_fiber != target_fiber);
}

TEST_CASE("link_value fires only on success and link_exception only on failure", "[runtime][link]") {
    std::vector<std::string> fired;
    gev::testing::Failures failures;
    gev::testing::run([&] {
        auto ok = gev::spawn([] { gev::sleep(1ms); });
        auto bad = gev::spawn([] {
            gev::sleep(2ms);
            throw std::runtime_error("bad");
        });
        auto killed = gev::spawn([] { gev::sleep(1s); });
        for (auto* g : {&ok, &bad, &killed}) {
            std::string n = g == &ok ? "ok" : g == &bad ? "bad" : "killed";
            g->link([&fired, n](gev::Greenlet<>) { fired.push_back(n + " link"); });
            g->link_value([&fired, n](gev::Greenlet<>) { fired.push_back(n + " link_value"); });
            g->link_exception([&fired, n](gev::Greenlet<>) { fired.push_back(n + " link_exception"); });
        }
        gev::joinall({ok, bad});
        killed.kill();   // GreenletExit counts as success
        gev::sleep(2ms);
    }, &failures);
    std::sort(fired.begin(), fired.end());
    REQUIRE(fired == std::vector<std::string>{"bad link", "bad link_exception", "killed link", "killed link_value",
                                              "ok link", "ok link_value"});
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("a link added after the fiber ended still fires", "[runtime][link]") {
    std::vector<std::string> fired;
    gev::testing::run([&] {
        auto g = gev::spawn([] { return 1; });
        g.join();
        g.link([&](gev::Greenlet<> h) { fired.push_back(h.dead() ? "link, dead" : "link, alive"); });
        g.link_value([&](gev::Greenlet<>) { fired.push_back("link_value"); });
        g.link_exception([&](gev::Greenlet<>) { fired.push_back("link_exception"); });
        gev::sleep(1ms);
    });
    REQUIRE(fired == std::vector<std::string>{"link, dead", "link_value"});
}

TEST_CASE("unlink removes a link that has not fired", "[runtime][link]") {
    std::vector<std::string> fired;
    gev::testing::run([&] {
        auto g = gev::spawn([] { gev::sleep(1ms); });
        auto kept = g.link([&](gev::Greenlet<>) { fired.push_back("kept"); });
        auto dropped = g.link([&](gev::Greenlet<>) { fired.push_back("dropped"); });
        REQUIRE(kept != dropped);
        REQUIRE(g.unlink(dropped));
        REQUIRE_FALSE(g.unlink(dropped));   // already gone
        g.join();
        gev::sleep(1ms);
        REQUIRE_FALSE(g.unlink(kept));   // it has fired
    });
    REQUIRE(fired == std::vector<std::string>{"kept"});
}

TEST_CASE("links fire in the order they were added", "[runtime][link]") {
    std::vector<int> fired;
    gev::testing::run([&] {
        auto g = gev::spawn([] { gev::sleep(1ms); });
        for (int i = 0; i < 5; ++i) {
            if (i % 2 == 0) g.link([&fired, i](gev::Greenlet<>) { fired.push_back(i); });
            else g.link_value([&fired, i](gev::Greenlet<>) { fired.push_back(i); });
        }
        g.join();
        gev::sleep(1ms);
    });
    REQUIRE(fired == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("a link can park and a failing link is reported like any fiber", "[runtime][link]") {
    std::vector<std::string> trace;
    gev::testing::Failures failures;
    gev::testing::run([&] {
        auto g = gev::spawn([] {});
        g.link([&](gev::Greenlet<>) {
            gev::sleep(1ms);
            trace.push_back("slow link done");
        });
        g.link([](gev::Greenlet<>) { throw std::runtime_error("link failed"); });
        g.join();
        gev::sleep(5ms);
    }, &failures);
    REQUIRE(trace == std::vector<std::string>{"slow link done"});
    REQUIRE(failures.messages.size() == 1);
    REQUIRE_THAT(failures.messages[0], Catch::Contains("std::runtime_error: link failed"));
}

TEST_CASE("links added before join have run when join returns", "[runtime][link][join]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([] { gev::sleep(1ms); });
        g.link([&](gev::Greenlet<>) { trace.push_back("link"); });
        g.join();
        trace.push_back("joined");
        auto h = gev::spawn([] { return 3; });
        h.link([&](gev::Greenlet<>) { trace.push_back("link of get"); });
        REQUIRE(h.get() == 3);
        trace.push_back("got");
    });
    REQUIRE(trace == std::vector<std::string>{"link", "joined", "link of get", "got"});
}

TEST_CASE("links and joiners are notified in the order they were added, as gevent's rawlinks are",
          "[runtime][link][join]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Event go;
        auto g = gev::spawn([&] { go.wait(); });
        g.link([&](gev::Greenlet<>) { trace.push_back("link 1"); });
        auto joiner = gev::spawn([&] {
            g.join();
            trace.push_back("joiner");
        });
        auto all = gev::spawn([&] {
            gev::joinall({g});
            trace.push_back("joinall");
        });
        gev::sleep(0ns);   // both wait now
        g.link([&](gev::Greenlet<>) { trace.push_back("link 2"); });
        go.set();
        g.join();
        trace.push_back("main");
        gev::joinall({joiner, all});
    });
    REQUIRE(trace == std::vector<std::string>{"link 1", "joiner", "joinall", "link 2", "main"});
}
