// tests/runtime/shield_test.cpp — gev::Shield: kills and Timeouts that arrive under a
// shield stay pending (the shielded wait ends on its own terms) and are raised at the
// first wait after the outermost shield ends; LoopExit still ends a shielded wait; and
// the destructors that park (~StreamServer, select's watcher cleanup) are shielded, so
// a kill or Timeout arriving meanwhile cannot escape them and call std::terminate.
#include "net/net_support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using Trace = std::vector<std::string>;

// Whether the fiber is parked in a wait named `what` (as fiber dumps show it).
bool parked_on(const gev::Greenlet<>& g, const char* what) {
    const gev::detail::Fiber* f = g.fiber();
    return f->state == gev::detail::FiberState::parked && std::string(f->debug.reason.what) == what;
}

}  // namespace

TEST_CASE("a kill during a shielded wait stays pending until the shield ends", "[runtime][shield]") {
    Trace trace;
    gev::testing::run([&] {
        auto target = gev::spawn([&] {
            {
                gev::Shield shield;
                gev::sleep(20ms);   // the kill arrives 2 ms in
                trace.push_back("slept");
            }
            trace.push_back("shield ended");
            try {
                gev::sleep(0ns);
                trace.push_back("not raised");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        auto marker = gev::spawn([&] {
            gev::sleep(10ms);
            trace.push_back("10 ms");
        });
        gev::sleep(2ms);
        target.kill(gev::KillOptions{.block = false});
        trace.push_back("killed");
        gev::joinall({target, marker});
        REQUIRE(target.successful());
    });
    REQUIRE(trace == Trace{"killed", "10 ms", "slept", "shield ended", "GreenletExit"});
}

TEST_CASE("a blocking kill of a shielded fiber returns once the fiber has left its shield and died",
          "[runtime][shield]") {
    Trace trace;
    gev::testing::run([&] {
        auto target = gev::spawn([&] {
            gev::Shield shield;
            gev::sleep(10ms);
            trace.push_back("cleanup done");
        });
        gev::sleep(1ms);
        target.kill();
        trace.push_back("kill returned");
        REQUIRE(target.dead());
    });
    REQUIRE(trace == Trace{"cleanup done", "kill returned"});
}

TEST_CASE("a Timeout that fires during a shielded wait is raised at the first wait after the shield",
          "[runtime][shield][timeout]") {
    Trace trace;
    gev::testing::run([&] {
        gev::Timeout limit{2ms};
        try {
            {
                gev::Shield shield;
                gev::sleep(20ms);
                trace.push_back("slept");
            }
            trace.push_back("shield ended");
            gev::sleep(0ns);
            trace.push_back("not raised");
        } catch (const gev::Timeout& t) {
            REQUIRE(t.is(limit));
            trace.push_back("Timeout");
        }
    });
    REQUIRE(trace == Trace{"slept", "shield ended", "Timeout"});
}

TEST_CASE("nested shields hold a kill until the outermost one ends", "[runtime][shield]") {
    Trace trace;
    gev::testing::run([&] {
        auto target = gev::spawn([&] {
            {
                gev::Shield outer;
                {
                    gev::Shield inner;
                    gev::sleep(5ms);   // killed 1 ms in
                    trace.push_back("inner wait done");
                }
                gev::sleep(2ms);
                trace.push_back("outer wait done");
            }
            trace.push_back("unshielded");
            gev::sleep(20ms);
            trace.push_back("not raised");
        });
        gev::sleep(1ms);
        target.kill(gev::KillOptions{.block = false});
        target.join();
    });
    REQUIRE(trace == Trace{"inner wait done", "outer wait done", "unshielded"});
}

TEST_CASE("a Timeout whose scope ends inside a shield is dropped with the scope", "[runtime][shield][timeout]") {
    bool finished = false;
    gev::testing::run([&] {
        {
            gev::Shield shield;
            gev::Timeout limit{1ms};
            gev::sleep(10ms);
        }
        gev::sleep(0ns);   // nothing pending: the firing ended with its scope
        finished = true;
    });
    REQUIRE(finished);
}

TEST_CASE("a shielded wait on an Event ends when the Event is set, not at the kill", "[runtime][shield][sync]") {
    Trace trace;
    gev::testing::run([&] {
        gev::Event ev;
        auto target = gev::spawn([&] {
            try {
                {
                    gev::Shield shield;
                    REQUIRE(ev.wait());
                    trace.push_back("event seen");
                }
                gev::sleep(20ms);
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        gev::sleep(0ns);
        target.kill(gev::KillOptions{.block = false});
        gev::sleep(2ms);
        trace.push_back("setting");
        ev.set();
        target.join();
    });
    REQUIRE(trace == Trace{"setting", "event seen", "GreenletExit"});
}

TEST_CASE("a kill of a fiber shielded in a socket read lets the read finish with its data",
          "[runtime][shield][net]") {
    Trace trace;
    gev::testing::run([&] {
        auto [a, b] = gev::testing::tcp_pair();
        auto reader = gev::spawn([&, &b = b] {
            std::array<std::byte, 16> buf{};
            {
                gev::Shield shield;
                std::size_t n = b.recv(buf);
                trace.push_back("read " + std::to_string(n));
            }
            try {
                b.recv(buf);
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        gev::sleep(1ms);
        reader.kill(gev::KillOptions{.block = false});
        gev::sleep(2ms);
        a.sendall(std::as_bytes(std::span("hey", 3)));
        reader.join();
    });
    REQUIRE(trace == Trace{"read 3", "GreenletExit"});
}

TEST_CASE("LoopExit still ends a shielded wait that nothing can end", "[runtime][shield][loopexit]") {
    gev::testing::run([] {
        gev::Shield shield;
        gev::Event never;
        REQUIRE_THROWS_AS(never.wait(), gev::LoopExit);
    });
}

TEST_CASE("destroying a StreamServer while a kill arrives does not terminate; the kill is raised after",
          "[runtime][shield][net][server]") {
    Trace trace;
    gev::testing::run([&] {
        gev::Greenlet<> owner;
        gev::Event connected;
        auto handler = [&](gev::net::Socket conn, gev::net::Address) {
            // Runs while the handler unwinds from the server's kill: the owner is then
            // parked in ~StreamServer, waiting for this handler to end.
            struct KillOwner {
                gev::Greenlet<>& owner;
                ~KillOwner() {
                    owner.kill(gev::KillOptions{.block = false});
                    gev::sleep(5ms);
                }
            } on_exit{owner};
            connected.set();
            std::array<std::byte, 8> buf;
            conn.recv(buf);
        };
        owner = gev::spawn([&] {
            try {
                {
                    std::optional<gev::net::Socket> client;   // outlives the server
                    gev::net::StreamServer server({"127.0.0.1", 0}, handler);
                    server.start();
                    client.emplace(AF_INET, SOCK_STREAM);
                    client->connect(server.address());
                    connected.wait();
                }
                trace.push_back("server destroyed");
                gev::sleep(0ns);
                trace.push_back("not raised");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        owner.join();
    });
    REQUIRE(trace == Trace{"server destroyed", "GreenletExit"});
}

TEST_CASE("destroying a StreamServer while a Timeout fires does not terminate; the Timeout is raised after",
          "[runtime][shield][net][server][timeout]") {
    Trace trace;
    gev::testing::run([&] {
        gev::Event connected;
        auto handler = [&](gev::net::Socket conn, gev::net::Address) {
            struct SlowCleanup {
                ~SlowCleanup() { gev::sleep(30ms); }
            } cleanup;
            connected.set();
            std::array<std::byte, 8> buf;
            conn.recv(buf);
        };
        std::optional<gev::Timeout> limit;
        try {
            {
                std::optional<gev::net::Socket> client;   // outlives the server
                gev::net::StreamServer server({"127.0.0.1", 0}, handler);
                server.start();
                client.emplace(AF_INET, SOCK_STREAM);
                client->connect(server.address());
                connected.wait();
                limit.emplace(5ms);   // fires while ~StreamServer waits for the handler
            }
            trace.push_back("server destroyed");
            gev::sleep(0ns);
            trace.push_back("not raised");
        } catch (const gev::Timeout& t) {
            REQUIRE(t.is(*limit));
            trace.push_back("Timeout");
        }
    });
    REQUIRE(trace == Trace{"server destroyed", "Timeout"});
}

TEST_CASE("a kill that arrives while select stops its watchers does not terminate; it is raised after",
          "[runtime][shield][net][select]") {
    Trace trace;
    gev::testing::run([&] {
        int p1[2], p2[2];
        REQUIRE(::pipe2(p1, O_NONBLOCK | O_CLOEXEC) == 0);
        REQUIRE(::pipe2(p2, O_NONBLOCK | O_CLOEXEC) == 0);
        auto selector = gev::spawn([&] {
            try {
                auto r = gev::net::select({p1[0], p2[0]}, {}, {});
                trace.push_back("select returned " + std::to_string(r.readable.size()));
                gev::sleep(0ns);
                trace.push_back("not raised");
            } catch (const gev::GreenletExit&) {
                trace.push_back("GreenletExit");
                throw;
            }
        });
        // Always ready, so it runs before the watcher that select kills: it sees the
        // selector parked in killall's wait for that watcher and kills it there.
        auto killer = gev::spawn([&] {
            bool written = false;
            for (int i = 0; i < 100000; ++i) {
                if (!written && parked_on(selector, "select")) {
                    REQUIRE(::write(p1[1], "x", 1) == 1);
                    written = true;
                } else if (written && parked_on(selector, "joinall")) {   // killall's wait
                    selector.kill(gev::KillOptions{.block = false});
                    trace.push_back("killed in the watchers' join");
                    return;
                }
                gev::sleep(0ns);
            }
        });
        gev::joinall({selector, killer});
        for (int fd : {p1[0], p1[1], p2[0], p2[1]}) ::close(fd);
    });
    REQUIRE(trace == Trace{"killed in the watchers' join", "select returned 1", "GreenletExit"});
}
