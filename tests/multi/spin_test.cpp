// tests/multi/spin_test.cpp — idle hubs that spin (RunOptions::spin): a wake-up that
// reaches a spinning hub costs no system call, a hub with nothing to do stops spinning
// and sleeps (and is then woken by one), and a deadlock is still proved once every
// hub's spin has run out. Counts come from gev::stats (sleeps, wakeups), not clocks.
#include "support.hpp"

#include "sync/event.hpp"

#include <chrono>

using namespace std::chrono_literals;

namespace {

using gev::testing::hubs;

gev::RunOptions spinning(unsigned n, gev::Duration spin) {
    gev::RunOptions o = hubs(n);
    o.spin = spin;
    return o;
}

gev::HubStats hub_stats(unsigned hub) { return gev::stats(5s).at(hub); }

}  // namespace

TEST_CASE("a hub that is spinning takes a cross-hub wake-up without a system call to wake it", "[multi][spin]") {
    constexpr int rounds = 200;
    gev::HubStats before[2], after[2];
    int handed = 0;
    // A spin far longer than the test: an idle hub never gets to sleep, unless the machine
    // stalls one of the threads for that long.
    gev::run([&] {
        gev::Event ping, pong;
        auto peer = gev::spawn_on(1, [&] {
            for (int i = 0; i < rounds; ++i) {
                ping.wait();
                ping.clear();
                pong.set();
            }
        });
        before[0] = hub_stats(0);
        before[1] = hub_stats(1);
        for (int i = 0; i < rounds; ++i) {
            ping.set();
            pong.wait();
            pong.clear();
            ++handed;
        }
        peer.join();
        after[0] = hub_stats(0);
        after[1] = hub_stats(1);
    }, spinning(2, 2s));
    REQUIRE(handed == rounds);
    for (int h = 0; h < 2; ++h) {
        INFO("hub " << h);
        CHECK(after[h].wakeups == before[h].wakeups);
        CHECK(after[h].sleeps == before[h].sleeps);
    }
}

TEST_CASE("a hub with nothing to do stops spinning and sleeps, and a post then wakes it", "[multi][spin]") {
    bool slept = false, woken = false;
    gev::run([&] {
        gev::HubStats first = hub_stats(1);
        // Hub 1 has no fiber at all: after 1 ms of spinning it must block in its poller.
        // Bounded: at most 2 s of 10 ms looks, however slowly the machine runs.
        gev::HubStats now = first;
        for (int i = 0; i < 200 && now.sleeps == first.sleeps; ++i) {
            gev::sleep(10ms);
            now = hub_stats(1);
        }
        slept = now.sleeps > first.sleeps;
        // The look that saw it asleep was a post to a sleeping hub: one system call woke it.
        woken = now.wakeups > first.wakeups;
        auto g = gev::spawn_on(1, [] { return 7; });
        REQUIRE(g.get() == 7);
    }, spinning(2, 1ms));
    REQUIRE(slept);
    REQUIRE(woken);
}

TEST_CASE("a deadlock across hubs that spin is reported once their spin has run out", "[multi][spin][loopexit]") {
    bool loop_exit = false, recovered = false;
    gev::run([&] {
        gev::Event never;
        auto stuck = gev::spawn_on(1, [&] { never.wait(); });
        try {
            stuck.join();
        } catch (const gev::LoopExit&) {
            loop_exit = true;
        }
        never.set();
        recovered = stuck.join();
    }, spinning(2, 20ms));
    REQUIRE(loop_exit);
    REQUIRE(recovered);
}

TEST_CASE("cross-hub hand-offs never lose a wake-up while hubs go between spinning and sleeping",
          "[multi][spin][stress]") {
    // A spin about as long as a hand-off: hubs keep crossing the edge between spinning
    // and sleeping (counted stuck), where a wake-up could be lost. Without a spin every
    // hand-off wakes a sleeping poller (epoll: an edge-triggered eventfd never read back).
    constexpr int rounds = 2000 / gev::testing::tsan_scale(10);
    auto spin = GENERATE(gev::Duration{0}, gev::Duration{1us}, gev::Duration{5us}, gev::Duration{30us});
    int handed = 0;
    gev::run([&] {
        gev::Event ping, pong;
        auto peer = gev::spawn_on(1, [&] {
            for (int i = 0; i < rounds; ++i) {
                ping.wait();
                ping.clear();
                pong.set();
            }
        });
        for (int i = 0; i < rounds; ++i) {
            ping.set();
            pong.wait();
            pong.clear();
            ++handed;
        }
        peer.join();
    }, spinning(2, spin));
    REQUIRE(handed == rounds);
}
