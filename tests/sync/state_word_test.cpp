// tests/sync/state_word_test.cpp — the one-word state of Event and Semaphore shared by
// fibers of several hubs: a waiter that frees the primitive as soon as another hub's
// grant wakes it never races the waker, permits handed across hubs while waiters time
// out keep the count exact, and set/clear/wait racing from two hubs lose no wake-up.
// Run under ThreadSanitizer and AddressSanitizer (the 'threads' suite).
#include "support.hpp"

#include <atomic>
#include <memory>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int kScale = gev::testing::tsan_scale(10);

// Hub 1 sets (or releases) whatever hub 0 publishes in `slot`, then clears the slot.
template <class T, class Poke>
gev::Greenlet<> poker(std::atomic<T*>& slot, std::atomic<bool>& stop, Poke poke) {
    return gev::spawn_on(1, [&slot, &stop, poke] {
        while (!stop.load()) {
            if (T* p = slot.exchange(nullptr)) poke(*p);
            else gev::sleep(0ns);
        }
    });
}

}  // namespace

TEST_CASE("a fiber may destroy an Event as soon as a set from another hub wakes it",
          "[sync][event][multi]") {
    const int rounds = 2000 / kScale + 50;
    int woken = 0;
    gev::run([&] {
        std::atomic<gev::Event*> slot{nullptr};
        std::atomic<bool> stop{false};
        auto far = poker(slot, stop, [](gev::Event& e) { e.set(); });
        for (int i = 0; i < rounds; ++i) {
            auto e = std::make_unique<gev::Event>();   // on the heap: a late touch is a use after free
            slot.store(e.get());
            if (e->wait(10s)) ++woken;
        }
        stop.store(true);
        far.get();
    }, gev::testing::hubs(2));
    REQUIRE(woken == rounds);
}

TEST_CASE("a fiber may destroy a Semaphore as soon as a permit from another hub wakes it",
          "[sync][semaphore][multi]") {
    const int rounds = 2000 / kScale + 50;
    int got = 0;
    gev::run([&] {
        std::atomic<gev::Semaphore*> slot{nullptr};
        std::atomic<bool> stop{false};
        auto far = poker(slot, stop, [](gev::Semaphore& s) { s.release(); });
        for (int i = 0; i < rounds; ++i) {
            auto s = std::make_unique<gev::Semaphore>(0);
            slot.store(s.get());
            if (s->acquire(true, 10s)) ++got;
        }
        stop.store(true);
        far.get();
    }, gev::testing::hubs(2));
    REQUIRE(got == rounds);
}

TEST_CASE("permits handed across hubs while waiters time out keep a Semaphore's count exact",
          "[sync][semaphore][multi][cancel]") {
    const int per = 3000 / kScale + 100;
    std::atomic<int> taken{0}, timed_out{0};
    gev::run([&] {
        gev::Semaphore s(1);
        auto work = [&](bool short_waits) {
            for (int i = 0; i < per; ++i) {
                if (!s.acquire(true, short_waits && i % 3 == 0 ? gev::MaybeDuration(0ns) : gev::MaybeDuration(10s))) {
                    ++timed_out;
                    continue;
                }
                ++taken;
                if (i % 5 == 0) gev::sleep(0ns);
                s.release();
            }
        };
        std::vector<gev::Greenlet<>> gs;
        for (unsigned h = 0; h < 2; ++h)
            for (int k = 0; k < 2; ++k) gs.push_back(gev::spawn_on(h, [&work, k] { work(k == 0); }));
        gev::joinall(gs, gev::forever, true);
        REQUIRE(s.counter() == 1);
        REQUIRE_FALSE(s.locked());
    }, gev::testing::hubs(2));
    REQUIRE(taken + timed_out == 4 * per);
    REQUIRE(taken > 0);
}

TEST_CASE("set, clear and timed waits racing on one Event from two hubs leave no waiter behind",
          "[sync][event][multi][cancel]") {
    const int per = 2000 / kScale + 50;
    std::atomic<int> done{0};
    gev::run([&] {
        gev::Event e;
        std::atomic<bool> stop{false};
        auto toggler = gev::spawn_on(1, [&] {
            for (int i = 0; !stop.load() && i < 1'000'000; ++i) {
                e.set();
                gev::sleep(0ns);
                e.clear();
            }
        });
        std::vector<gev::Greenlet<>> gs;
        for (unsigned h = 0; h < 2; ++h)
            for (int k = 0; k < 2; ++k)
                gs.push_back(gev::spawn_on(h, [&, k] {
                    for (int i = 0; i < per; ++i) e.wait(k == 0 ? gev::MaybeDuration(1ms) : gev::MaybeDuration(10s));
                    ++done;
                }));
        gev::joinall(gs, gev::forever, true);
        stop.store(true);
        toggler.get();
        e.set();   // nobody waits now: the fast path, and the destructor finds no waiter
        REQUIRE(e.is_set());
    }, gev::testing::hubs(2));
    REQUIRE(done == 4);
}
