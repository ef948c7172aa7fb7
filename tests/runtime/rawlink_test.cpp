// tests/runtime/rawlink_test.cpp — rawlinks (runtime/rawlink.hpp): callbacks the hub
// runs as a fiber ends, in the order added among joiners and links, with no fiber of
// their own; Group, Pool and local<T> use them, so a member's end starts no fiber.
#include "support.hpp"

#include "runtime/greenlet.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gev::detail::Fiber;
using gev::detail::RawLink;

namespace {
struct TraceLink : RawLink {
    std::vector<std::string>* trace = nullptr;
    std::string text;
    TraceLink(std::vector<std::string>& t, std::string s) : trace(&t), text(std::move(s)) {
        callback = [](RawLink* r, Fiber*) {
            auto* self = static_cast<TraceLink*>(r);
            self->trace->push_back(self->text);
        };
    }
};
}  // namespace

TEST_CASE("Pool.spawn makes one fiber, not two: a member's end starts no fiber", "[runtime][rawlink][pool]") {
    gev::testing::run([] {
        gev::Pool pool(2);
        gev::Group group;
        auto a = pool.spawn([] {});
        auto b = group.spawn([] {});
        pool.join();
        group.join();
        REQUIRE(a.dead());
        REQUIRE(b.dead());
        // Fiber ids are handed out in order on a thread: no fiber was made in between.
        auto c = gev::spawn([] {});
        REQUIRE(c.id() == b.id() + 1);
        REQUIRE(gev::stats().at(0).fibers == 2);   // main and c
        c.join();
    });
}

TEST_CASE("a local<T> value dies as its fiber ends, without a fiber to destroy it", "[runtime][rawlink][local]") {
    gev::testing::run([] {
        gev::local<int> value;
        auto a = gev::spawn([&] { *value = 7; });
        a.join();
        REQUIRE(value.size() == 0);
        auto b = gev::spawn([] {});
        REQUIRE(b.id() == a.id() + 1);
        b.join();
    });
}

TEST_CASE("rawlink callbacks run as the fiber ends, in the order added, before what they woke or started runs",
          "[runtime][rawlink][link][join]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Event go;
        auto g = gev::spawn([&] {
            go.wait();
            trace.push_back("end");
        });
        TraceLink first(trace, "callback 1");
        TraceLink second(trace, "callback 2");
        REQUIRE(gev::detail::add_rawlink(g.fiber(), &first));
        g.link([&](gev::Greenlet<>) { trace.push_back("link"); });
        auto joiner = gev::spawn([&] {
            g.join();
            trace.push_back("joiner");
        });
        gev::sleep(0ns);   // the joiner waits now
        REQUIRE(gev::detail::add_rawlink(g.fiber(), &second));
        go.set();
        g.join();
        joiner.join();
        REQUIRE_FALSE(gev::detail::remove_rawlink(g.fiber(), &first));   // notified: off the list
    });
    REQUIRE(trace == std::vector<std::string>{"end", "callback 1", "callback 2", "link", "joiner"});
}

TEST_CASE("a rawlink taken off before the end is not run, and one added after the end is refused",
          "[runtime][rawlink]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto g = gev::spawn([] {});
        TraceLink kept(trace, "kept");
        TraceLink dropped(trace, "dropped");
        REQUIRE(gev::detail::add_rawlink(g.fiber(), &kept));
        REQUIRE(gev::detail::add_rawlink(g.fiber(), &dropped));
        REQUIRE(gev::detail::remove_rawlink(g.fiber(), &dropped));
        REQUIRE_FALSE(gev::detail::remove_rawlink(g.fiber(), &dropped));
        g.join();
        TraceLink late(trace, "late");
        REQUIRE_FALSE(gev::detail::add_rawlink(g.fiber(), &late));
    });
    REQUIRE(trace == std::vector<std::string>{"kept"});
}

TEST_CASE("a rawlink callback that throws goes to the hub's error handler and the next ones still run",
          "[runtime][rawlink]") {
    std::vector<std::string> trace;
    gev::testing::Failures failures;
    gev::testing::run([&] {
        auto g = gev::spawn([] {});
        struct Throwing : RawLink {
            Throwing() {
                callback = [](RawLink*, Fiber*) { throw std::runtime_error("callback failed"); };
            }
        } bad;
        TraceLink after(trace, "after");
        REQUIRE(gev::detail::add_rawlink(g.fiber(), &bad));
        REQUIRE(gev::detail::add_rawlink(g.fiber(), &after));
        g.join();
        REQUIRE(g.successful());
    }, &failures);
    REQUIRE(trace == std::vector<std::string>{"after"});
    REQUIRE(failures.messages.size() == 1);
    REQUIRE_THAT(failures.messages[0], Catch::Contains("a link of <Greenlet-"));
    REQUIRE_THAT(failures.messages[0], Catch::Contains("std::runtime_error: callback failed"));
}

TEST_CASE("a Pool slot is free when the spawner waiting for it resumes", "[runtime][rawlink][pool]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Pool pool(1);
        gev::Event go;
        auto member = pool.spawn([&] { go.wait(); });
        auto spawner = gev::spawn([&] {
            auto next = pool.spawn([] {});
            trace.push_back(pool.contains(member) ? "old member still in" : "old member gone");
            trace.push_back(pool.contains(next) ? "new member in" : "new member missing");
        });
        gev::sleep(0ns);   // the spawner waits for the slot
        REQUIRE(pool.full());
        go.set();
        spawner.join();
        pool.join();
    });
    REQUIRE(trace == std::vector<std::string>{"old member gone", "new member in"});
}
