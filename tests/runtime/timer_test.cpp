// tests/runtime/timer_test.cpp — the hub's timer set on its own: deadlines that only grow
// (the sorted run) and any others (the heap) expire as one ordered set, by deadline and
// then arming order, whatever is cancelled or re-armed in between.
#include "runtime/timer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

using gev::detail::TimerHeap;
using gev::detail::TimerNode;

namespace {

struct Named : TimerNode {
    int name = 0;
};

std::vector<int> drain(TimerHeap& timers, std::int64_t now) {
    std::vector<int> order;
    while (TimerNode* n = timers.pop_due(now)) {
        REQUIRE_FALSE(n->armed());
        order.push_back(static_cast<Named*>(n)->name);
    }
    return order;
}

}  // namespace

TEST_CASE("an earlier deadline armed after later ones still fires first", "[runtime][timer]") {
    std::vector<Named> t(4);
    TimerHeap timers;
    std::int64_t deadlines[] = {10, 20, 30, 5};
    for (int i = 0; i < 4; ++i) {
        t[i].name = i;
        timers.arm(&t[i], deadlines[i]);
    }
    REQUIRE(timers.size() == 4);
    REQUIRE(timers.top() == &t[3]);
    REQUIRE(drain(timers, 25) == std::vector<int>{3, 0, 1});
    REQUIRE(drain(timers, 100) == std::vector<int>{2});
    REQUIRE(timers.empty());
}

TEST_CASE("equal deadlines fire in arming order even when one is out of sequence", "[runtime][timer]") {
    std::vector<Named> t(4);
    TimerHeap timers;
    std::int64_t deadlines[] = {10, 20, 10, 20};   // the third goes behind a later deadline
    for (int i = 0; i < 4; ++i) {
        t[i].name = i;
        timers.arm(&t[i], deadlines[i]);
    }
    REQUIRE(drain(timers, 100) == std::vector<int>{0, 2, 1, 3});
}

TEST_CASE("a timer cancelled or re-armed anywhere leaves the others in order", "[runtime][timer]") {
    std::vector<Named> t(6);
    TimerHeap timers;
    for (int i = 0; i < 6; ++i) {
        t[i].name = i;
        timers.arm(&t[i], 10 * (i + 1));   // all in deadline order
    }
    timers.cancel(&t[0]);          // the first
    timers.cancel(&t[3]);          // one in the middle
    timers.cancel(&t[5]);          // the last
    timers.cancel(&t[5]);          // twice: nothing happens
    timers.arm(&t[1], 45);         // re-armed later, between 4 (50) and nothing cancelled
    REQUIRE_FALSE(t[0].armed());
    REQUIRE(timers.size() == 3);
    REQUIRE(drain(timers, 100) == std::vector<int>{2, 1, 4});
}

TEST_CASE("timers armed, cancelled and expired at random fire as a sorted set would", "[runtime][timer]") {
    constexpr int kNodes = 300;
    std::vector<Named> t(kNodes);
    std::vector<std::uint64_t> armed_at(kNodes);   // arming order, the tie-break
    std::mt19937 rng(14);
    TimerHeap timers;
    std::uint64_t arms = 0;
    std::int64_t now = 0;
    for (int step = 0; step < 20000; ++step) {
        Named& n = t[rng() % kNodes];
        n.name = static_cast<int>(&n - t.data());
        unsigned op = rng() % 8;
        if (op < 4) {   // mostly one duration (growing deadlines), sometimes any
            std::int64_t d = op < 3 ? now + 1000 : now + static_cast<std::int64_t>(rng() % 2000);
            timers.arm(&n, d);
            armed_at[n.name] = arms++;
        } else if (op < 6) {
            timers.cancel(&n);
        } else {
            now += rng() % 50;
            std::vector<Named*> due;
            for (Named& m : t)
                if (m.armed() && m.deadline <= now) due.push_back(&m);
            std::sort(due.begin(), due.end(), [&](const Named* a, const Named* b) {
                return a->deadline != b->deadline ? a->deadline < b->deadline : armed_at[a->name] < armed_at[b->name];
            });
            std::vector<int> want;
            for (Named* m : due) want.push_back(m->name);
            REQUIRE(drain(timers, now) == want);
        }
        std::size_t live = static_cast<std::size_t>(std::count_if(t.begin(), t.end(), [](const Named& m) { return m.armed(); }));
        REQUIRE(timers.size() == live);
    }
}

TEST_CASE("take_all returns every armed timer, disarmed, and empties the set", "[runtime][timer]") {
    std::vector<Named> t(5);
    TimerHeap timers;
    std::int64_t deadlines[] = {10, 20, 5, 30, 1};
    for (int i = 0; i < 5; ++i) timers.arm(&t[i], deadlines[i]);
    timers.cancel(&t[1]);
    std::vector<TimerNode*> all = timers.take_all();
    REQUIRE(all.size() == 4);
    for (TimerNode* n : all) REQUIRE_FALSE(n->armed());
    REQUIRE(std::find(all.begin(), all.end(), &t[1]) == all.end());
    REQUIRE(timers.empty());
    REQUIRE(timers.top() == nullptr);
}
