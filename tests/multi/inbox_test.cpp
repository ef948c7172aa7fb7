// tests/multi/inbox_test.cpp — a hub's inbox (runtime/hub_inbox.hpp): wake-ups one hub
// sends another arrive in the order sent, a park is ended by exactly one of its wakers
// when a timeout and another hub race, fibers killed or ending while wake-ups for them
// are in flight end cleanly (ASan/TSan catch a control block freed too early), and a
// hub that is busy still takes wake-ups.
#include "support.hpp"

#include "sync/event.hpp"

#include <atomic>
#include <memory>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int kScale = gev::testing::tsan_scale(10);
using gev::testing::hubs;

}  // namespace

TEST_CASE("wake-ups one hub sends another arrive in the order they were sent", "[multi][inbox]") {
    constexpr int n = 64;
    std::vector<int> order;   // appended on hub 1 only
    gev::run([&] {
        std::vector<std::unique_ptr<gev::Event>> events;
        for (int i = 0; i < n; ++i) events.push_back(std::make_unique<gev::Event>());
        std::vector<gev::Greenlet<>> gs;
        // Spawned in one order, woken in the reverse one: a queue that is not FIFO per
        // producer (a stack) would show the spawn order instead.
        for (int i = 0; i < n; ++i) {
            int which = n - 1 - i;
            gs.push_back(gev::spawn_on(1, [&, which] {
                events[which]->wait();
                order.push_back(which);
            }));
        }
        // Hub 1 runs its ready fibers in FIFO order, each up to its park: once this
        // one has run there, all of them are parked.
        gev::spawn_on(1, [] {}).get();
        for (int i = 0; i < n; ++i) events[i]->set();
        gev::joinall(gs);
    }, hubs(2));
    REQUIRE(order.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) REQUIRE(order[i] == i);
}

TEST_CASE("a timeout racing a wake-up from another hub ends the wait exactly once", "[multi][inbox]") {
    const int rounds = 20 * kScale;
    std::atomic<int> woke{0}, timed_out{0}, parked_after{0};
    gev::run([&] {
        for (int r = 0; r < rounds; ++r) {
            gev::Event e;
            auto waiter = gev::spawn_on(1, [&] {
                bool got = e.wait(50us);
                (got ? woke : timed_out).fetch_add(1);
                // The losing waker must not end this second park early.
                gev::Event never;
                if (!never.wait(200us)) parked_after.fetch_add(1);
            });
            gev::sleep(r % 3 == 0 ? 0ns : 50us);
            e.set();
            waiter.join();
        }
    }, hubs(2));
    REQUIRE(woke.load() + timed_out.load() == rounds);
    REQUIRE(parked_after.load() == rounds);
}

TEST_CASE("fibers killed or ending while wake-ups for them are in flight end cleanly", "[multi][inbox]") {
    const int rounds = 10 * kScale;
    std::atomic<int> started{0}, ended{0}, dead{0};
    gev::run([&] {
        for (int r = 0; r < rounds; ++r) {
            gev::Event e;
            std::vector<gev::Greenlet<>> gs;
            for (int i = 0; i < 8; ++i)
                gs.push_back(gev::spawn_on(1 + i % 2, [&, i] {
                    started.fetch_add(1);
                    struct Count {
                        std::atomic<int>& n;
                        ~Count() { n.fetch_add(1); }
                    } count{ended};
                    e.wait(i % 2 ? 20us : 1ms);   // some time out, some are woken, some killed
                }));
            gev::sleep(r % 2 ? 0ns : 20us);
            e.set();
            gev::killall(gs, {.block = false});
            for (auto& g : gs) {   // one by one: see the busy-hub test below
                g.join();
                dead += g.dead();
            }
        }
    }, hubs(3));
    // A fiber killed before it ran never runs; every one that ran unwound.
    REQUIRE(dead.load() == rounds * 8);
    REQUIRE(ended.load() == started.load());
}

TEST_CASE("a hub busy running fibers still takes wake-ups from another hub", "[multi][inbox]") {
    std::atomic<bool> stop{false};
    int handed = 0;
    gev::run([&] {
        // Hub 1 never sleeps: two fibers yield to each other until told to stop.
        auto spin = [&] {
            while (!stop.load()) gev::sleep(0ns);
        };
        auto a = gev::spawn_on(1, spin);
        auto b = gev::spawn_on(1, spin);
        gev::Event ping, pong;
        auto peer = gev::spawn_on(1, [&] {
            for (int i = 0; i < 100; ++i) {
                ping.wait();
                ping.clear();
                pong.set();
            }
        });
        for (int i = 0; i < 100; ++i) {
            ping.set();
            pong.wait();
            pong.clear();
            ++handed;
        }
        peer.join();
        stop = true;
        gev::joinall({a, b});
    }, hubs(2));
    REQUIRE(handed == 100);
}
