// tests/multi/loop_exit_test.cpp — LoopExit when other threads are involved. A wait
// that a plain thread will end needs a gev::KeepAlive (run_in_thread takes one itself);
// without one, the hub proves LoopExit as if the thread did not exist. With several
// hubs, a wait that another hub can end is never a LoopExit, and a deadlock of the
// whole runtime (every hub idle: no ready fiber, timer, IO, KeepAlive or post) raises
// LoopExit in main, as one hub does.
#include "support.hpp"

#include <atomic>
#include <future>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

constexpr int kScale = gev::testing::tsan_scale(20);
using gev::testing::hubs;

gev::RunOptions hubs_without_spin(unsigned n) {
    gev::RunOptions o = hubs(n);
    o.spin = 0ns;   // idle hubs sleep at once: every hand-off goes through a sleeping hub
    return o;
}

}  // namespace

TEST_CASE("an Event set by a plain thread holding a KeepAlive ends the wait, not LoopExit",
          "[multi][loopexit][keepalive]") {
    bool woke = false;
    gev::run([&] {
        gev::Event ev;
        std::thread setter([&ev, keep = gev::KeepAlive()] {
            std::this_thread::sleep_for(20ms);
            ev.set();
        });
        woke = ev.wait();
        setter.join();
    });
    REQUIRE(woke);
}

TEST_CASE("without a KeepAlive, a wait that only a plain thread could end raises LoopExit",
          "[multi][loopexit][keepalive]") {
    std::string what;
    gev::run([&] {
        gev::Event ev;
        std::promise<void> go;
        std::thread setter([&ev, f = go.get_future()]() mutable {
            f.wait();
            ev.set();
        });
        try {
            ev.wait();
        } catch (const gev::LoopExit& e) {
            what = e.what();
        }
        go.set_value();
        setter.join();
    });
    REQUIRE(what.find("This operation would block forever") != std::string::npos);
    REQUIRE(what.find("Event") != std::string::npos);
}

TEST_CASE("a KeepAlive that ends without the wait ending lets LoopExit through at once",
          "[multi][loopexit][keepalive]") {
    bool loop_exit = false;
    gev::run([&] {
        gev::Event ev;
        std::thread quitter([keep = gev::KeepAlive()]() mutable {
            std::this_thread::sleep_for(5ms);
            keep.reset();   // gives up: nothing will set ev
        });
        try {
            ev.wait();
        } catch (const gev::LoopExit&) {
            loop_exit = true;
        }
        quitter.join();
    });
    REQUIRE(loop_exit);
}

TEST_CASE("an Event that a run_in_thread job sets ends the wait of another fiber, not LoopExit",
          "[multi][loopexit][threadpool]") {
    bool woke = false;
    gev::run([&] {
        gev::Event ev;
        auto worker = gev::spawn([&] {
            gev::run_in_thread([&] {
                std::this_thread::sleep_for(10ms);
                ev.set();
            });
        });
        woke = ev.wait();
        worker.join();
    });
    REQUIRE(woke);
}

TEST_CASE("a deadlock across two hubs raises LoopExit in main, which can then recover", "[multi][loopexit]") {
    std::string what;
    bool recovered = false;
    gev::run([&] {
        gev::Event never;
        auto stuck = gev::spawn_on(1, [&] { never.wait(); });
        try {
            stuck.join();
        } catch (const gev::LoopExit& e) {
            what = e.what();
        }
        never.set();   // now it can end
        recovered = stuck.join();
    }, hubs(2));
    REQUIRE(what.find("main id=") != std::string::npos);
    REQUIRE(what.find("join fiber") != std::string::npos);
    REQUIRE(what.find("all 2 hubs are idle") != std::string::npos);
    REQUIRE(recovered);
}

TEST_CASE("a chain of joins across three hubs that ends in a deadlock raises LoopExit in main",
          "[multi][loopexit]") {
    bool loop_exit = false;
    gev::run([&] {
        gev::Event never;
        auto last = gev::spawn_on(2, [&] { never.wait(); });
        auto middle = gev::spawn_on(1, [&] { last.join(); });
        try {
            middle.join();
        } catch (const gev::LoopExit&) {
            loop_exit = true;
        }
        never.set();
        middle.join();
    }, hubs_without_spin(3));
    REQUIRE(loop_exit);
}

TEST_CASE("a fiber sleeping on another hub keeps main's join from raising LoopExit", "[multi][loopexit]") {
    int result = 0;
    gev::run([&] {
        auto sleeper = gev::spawn_on(1, [] {
            gev::sleep(20ms);
            return 7;
        });
        result = sleeper.get();
    }, hubs_without_spin(2));
    REQUIRE(result == 7);
}

TEST_CASE("cross-hub ping-pong never raises a false LoopExit, whether idle hubs spin or sleep",
          "[multi][loopexit][stress]") {
    const int rounds = 5000 / kScale;
    for (bool spin : {true, false}) {
        int seen = 0;
        gev::run([&] {
            gev::Queue<int> ping, pong;
            auto peer = gev::spawn_on(1, [&] {
                for (int i = 0; i < rounds; ++i) pong.put(ping.get() + 1);
            });
            for (int i = 0; i < rounds; ++i) {
                ping.put(i);
                if (pong.get() == i + 1) ++seen;
            }
            peer.join();
        }, spin ? hubs(2) : hubs_without_spin(2));
        REQUIRE(seen == rounds);
    }
}

TEST_CASE("a fiber of another hub waiting on a plain thread under a KeepAlive is not a deadlock",
          "[multi][loopexit][keepalive]") {
    bool woke = false;
    std::thread setter;
    gev::run([&] {
        gev::Event ev;
        auto waiter = gev::spawn_on(1, [&] {
            setter = std::thread([&ev, keep = gev::KeepAlive()] {
                std::this_thread::sleep_for(20ms);
                ev.set();
            });
            return ev.wait();
        });
        woke = waiter.get();
        setter.join();
    }, hubs_without_spin(2));
    REQUIRE(woke);
}

TEST_CASE("KeepAlive outside gev::run throws std::system_error", "[multi][keepalive]") {
    REQUIRE_THROWS_AS(gev::KeepAlive(), std::system_error);
}

TEST_CASE("joinall over fibers of another hub that end while it registers its waiters is never a LoopExit",
          "[multi][loopexit][joinall]") {
    // Each round's fibers wake on hub 1 as main starts joinall and end while it looks at
    // them and registers its waiters; one that ended in between used to leave no waiter,
    // and main slept on (LoopExit about 1 round in 20 under load).
    const int rounds = 200 / kScale;
    int done = 0;
    gev::run([&] {
        for (int r = 0; r < rounds; ++r) {
            gev::Event go;
            std::vector<gev::Greenlet<>> gs;
            for (int i = 0; i < 32; ++i) gs.push_back(gev::spawn_on(1, [&go] { go.wait(); }));
            gev::spawn_on(1, [] {}).get();   // hub 1 runs its fibers in order: all wait now
            go.set();
            gev::joinall(gs);
            ++done;
        }
    }, hubs(2));
    REQUIRE(done == rounds);
}
