// tests/sync/queue_multi_test.cpp — the queue family shared by fibers on several hubs
// (gev::run with threads): every item arrives exactly once whether the queue is
// unbounded or bounded, getters with timeouts racing puts from another hub lose
// nothing, and a Channel ping-pongs across two hubs.
#include "support.hpp"

#include <atomic>
#include <set>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int kScale = gev::testing::tsan_scale(20);

using gev::testing::hubs;

// 4 hubs, 2 producers each, every one putting `per` items; consumers on every hub
// take them all; returns what each consumer took.
std::vector<std::pair<int, int>> feed_from_every_hub(std::size_t maxsize, int per) {
    std::vector<std::pair<int, int>> taken;
    std::atomic<long> count{0};
    gev::run([&] {
        gev::Queue<std::pair<int, int>> q(maxsize);
        const int producers = 4 * 2;
        std::vector<gev::Greenlet<>> gs;
        for (unsigned h = 0; h < 4; ++h)
            for (int k = 0; k < 2; ++k)
                gs.push_back(gev::spawn_on(h, [&q, per, id = static_cast<int>(h) * 2 + k] {
                    for (int i = 0; i < per; ++i) {
                        q.put({id, i});
                        if (i % 16 == 0) gev::sleep(0ns);
                    }
                }));
        std::vector<gev::Greenlet<std::vector<std::pair<int, int>>>> consumers;
        for (unsigned h = 0; h < 4; ++h)
            consumers.push_back(gev::spawn_on(h, [&] {
                std::vector<std::pair<int, int>> mine;
                for (auto& item : q) {
                    mine.push_back(item);
                    count++;
                }
                return mine;
            }));
        gev::joinall(gs);
        for (int waited = 0; count.load() < long(producers) * per && waited < 10'000; ++waited) gev::sleep(1ms);
        q.shutdown();
        for (auto& c : consumers)
            for (auto& item : c.get()) taken.push_back(item);
    }, hubs(4));
    return taken;
}

}  // namespace

TEST_CASE("an unbounded Queue fed from every hub delivers each item exactly once", "[sync][queue][multi]") {
    const int per = 2000 / kScale;
    auto taken = feed_from_every_hub(0, per);
    std::set<std::pair<int, int>> unique(taken.begin(), taken.end());
    REQUIRE(taken.size() == std::size_t(8 * per));
    REQUIRE(unique.size() == taken.size());
}

TEST_CASE("a bounded Queue fed from every hub delivers each item exactly once", "[sync][queue][multi]") {
    const int per = 1000 / kScale;
    auto taken = feed_from_every_hub(4, per);
    std::set<std::pair<int, int>> unique(taken.begin(), taken.end());
    REQUIRE(taken.size() == std::size_t(8 * per));
    REQUIRE(unique.size() == taken.size());
}

TEST_CASE("items from one producer keep their order when a single getter takes them across hubs",
          "[sync][queue][multi]") {
    std::vector<int> got;
    gev::run([&] {
        gev::Queue<int> q(3);
        auto producer = gev::spawn_on(1, [&] {
            for (int i = 0; i < 500; ++i) q.put(i);
        });
        for (int i = 0; i < 500; ++i) got.push_back(q.get());
        producer.join();
    }, hubs(2));
    std::vector<int> want(500);
    for (int i = 0; i < 500; ++i) want[i] = i;
    REQUIRE(got == want);
}

TEST_CASE("getters with short timeouts racing puts from another hub lose no item", "[sync][queue][multi][cancel]") {
    const int n = 3000 / kScale;
    std::atomic<int> received{0};
    int left = -1;
    gev::run([&] {
        gev::Queue<int> q;
        std::atomic<bool> done{false};
        auto producer = gev::spawn_on(1, [&] {
            for (int i = 0; i < n; ++i) {
                q.put(i);
                if (i % 8 == 0) gev::sleep(0ns);
            }
            done = true;
        });
        std::vector<gev::Greenlet<>> getters;
        for (int k = 0; k < 3; ++k)
            getters.push_back(gev::spawn([&] {
                while (!done || !q.empty()) {
                    try {
                        q.get(20us);
                        received++;
                    } catch (const gev::Empty&) {
                    }
                }
            }));
        producer.join();
        gev::joinall(getters);
        left = static_cast<int>(q.qsize());
    }, hubs(2));
    REQUIRE(received + left == n);
}

TEST_CASE("getters killed from another hub while items flow lose no item", "[sync][queue][multi][cancel]") {
    const int n = 400 / kScale;
    std::atomic<int> received{0};
    int left = -1;
    gev::run([&] {
        gev::Queue<int> q;
        std::vector<gev::Greenlet<>> getters;
        for (int k = 0; k < 8; ++k)
            getters.push_back(gev::spawn_on(1, [&] {
                for (;;) {
                    q.get();
                    received++;
                }
            }));
        for (int i = 0; i < n; ++i) {
            q.put(i);
            if (i % 50 == 25) getters[(i / 50) % 8].kill(gev::KillOptions{nullptr, false, gev::forever});
            if (i % 4 == 0) gev::sleep(0ns);
        }
        for (int waited = 0; received + static_cast<int>(q.qsize()) < n && waited < 10'000; ++waited)
            gev::sleep(1ms);
        gev::killall(getters);
        left = static_cast<int>(q.qsize());
    }, hubs(2));
    REQUIRE(received + left == n);
}

TEST_CASE("a Channel ping-pongs between two hubs", "[sync][channel][multi]") {
    const int rounds = 2000 / kScale;
    int last = -1;
    gev::run([&] {
        gev::Channel<int> ping, pong;
        auto far = gev::spawn_on(1, [&] {
            for (int i = 0; i < rounds; ++i) pong.put(ping.get() + 1);
        });
        int x = 0;
        for (int i = 0; i < rounds; ++i) {
            ping.put(x);
            x = pong.get();
        }
        last = x;
        far.join();
    }, hubs(2));
    REQUIRE(last == rounds);
}
