// tests/multi/signal_multi_test.cpp — signal_handler with several hubs: each hub has its
// own self-pipe, so a signal runs the handlers of every hub that registered for it,
// whichever thread the kernel picked to deliver it to.
#include "support.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

using namespace std::chrono_literals;

namespace {

using gev::testing::hubs;

// Sends sig `times` times, one at a time: the next only once `count` has moved (or
// ~200 ms have passed), so each signal arrives alone and cannot coalesce with another.
int send_one_by_one(int sig, const std::atomic<int>& count, int times) {
    int sent = 0;
    for (int i = 0; i < times; ++i) {
        int before = count.load();
        ::kill(::getpid(), sig);
        ++sent;
        for (int k = 0; k < 200 && count.load() == before; ++k) gev::sleep(1ms);
    }
    return sent;
}

}  // namespace

TEST_CASE("a signal runs its handler whichever hub registered it", "[multi][signal]") {
    std::atomic<int> usr1{0}, usr2{0};
    std::atomic<unsigned> usr1_hub{99}, usr2_hub{99};
    int sent1 = 0, sent2 = 0;
    gev::run([&] {
        auto h1 = gev::signal_handler(SIGUSR1, [&] {
            usr1_hub = gev::hub_index();
            ++usr1;
        });
        gev::Event registered, done;
        auto other = gev::spawn_on(1, [&] {
            auto h2 = gev::signal_handler(SIGUSR2, [&] {
                usr2_hub = gev::hub_index();
                ++usr2;
            });
            registered.set();
            done.wait();
        });
        registered.wait();
        sent1 = send_one_by_one(SIGUSR1, usr1, 100);
        sent2 = send_one_by_one(SIGUSR2, usr2, 100);
        done.set();
        other.join();
    }, hubs(2));
    REQUIRE(sent1 == 100);
    REQUIRE(sent2 == 100);
    CHECK(usr1 == 100);
    CHECK(usr2 == 100);
    CHECK(usr1_hub == 0);
    CHECK(usr2_hub == 1);
}

TEST_CASE("a signal two hubs registered for runs the handler on each of them", "[multi][signal]") {
    std::atomic<int> on0{0}, on1{0};
    gev::run([&] {
        auto h0 = gev::signal_handler(SIGUSR1, [&] { ++on0; });
        gev::Event registered, done;
        auto other = gev::spawn_on(1, [&] {
            auto h1 = gev::signal_handler(SIGUSR1, [&] { ++on1; });
            registered.set();
            done.wait();
        });
        registered.wait();
        for (int i = 0; i < 20; ++i) {
            int a = on0.load(), b = on1.load();
            ::kill(::getpid(), SIGUSR1);
            for (int k = 0; k < 200 && (on0.load() == a || on1.load() == b); ++k) gev::sleep(1ms);
        }
        done.set();
        other.join();
    }, hubs(2));
    CHECK(on0 == 20);
    CHECK(on1 == 20);
}

TEST_CASE("a hub's handlers stop when it cancels them while the other hub's go on", "[multi][signal]") {
    std::atomic<int> on0{0}, on1{0};
    gev::run([&] {
        auto h0 = gev::signal_handler(SIGUSR2, [&] { ++on0; });
        gev::Event registered, cancelled, done;
        auto other = gev::spawn_on(1, [&] {
            auto h1 = gev::signal_handler(SIGUSR2, [&] { ++on1; });
            registered.set();
            cancelled.wait();
            h1.cancel();
            done.set();
        });
        registered.wait();
        ::kill(::getpid(), SIGUSR2);
        for (int k = 0; k < 200 && (on0 == 0 || on1 == 0); ++k) gev::sleep(1ms);
        cancelled.set();
        done.wait();
        ::kill(::getpid(), SIGUSR2);
        for (int k = 0; k < 200 && on0 < 2; ++k) gev::sleep(1ms);
        gev::sleep(20ms);   // room for a wrong run on hub 1
        other.join();
    }, hubs(2));
    CHECK(on0 == 2);
    CHECK(on1 == 1);
}
