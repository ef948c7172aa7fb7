// tests/sync/pool_map_test.cpp — Group/Pool's map, imap and imap_unordered: result
// order, completion order, a Pool's size and back-pressure on the feeder, exceptions at
// their position, and an imap dropped early.
#include "support.hpp"

#include <array>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gev::testing::run;

TEST_CASE("map returns the results in input order", "[sync][pool][map]") {
    run([] {
        gev::Pool pool(3);
        auto out = pool.map([](int x) {
            gev::sleep(std::chrono::milliseconds(5 - x));
            return x * x;
        }, std::vector<int>{1, 2, 3, 4});
        REQUIRE(out == std::vector<int>{1, 4, 9, 16});
        auto words = pool.map([](const std::string& s) { return s.size(); }, {std::string("a"), std::string("bcd")});
        REQUIRE(words == std::vector<std::size_t>{1, 3});
    });
}

namespace {

// Lets map tasks finish in a chosen order: a task for x waits at gate x; release()
// opens the gates one by one, each after the previous task has finished.
struct FinishOrder {
    std::array<gev::Queue<int>, 4> gates;
    gev::Queue<int> finished;
    int task(int x, std::vector<std::string>& trace) {
        gates[x].get();
        trace.push_back("finished " + std::to_string(x));
        finished.put(x);
        return x;
    }
    gev::Greenlet<> release(std::vector<int> order) {
        return gev::spawn([this, order] {
            for (int x : order) {
                gates[x].put(0);
                finished.get();
            }
        });
    }
};

}  // namespace

TEST_CASE("imap yields in input order while later items finish first", "[sync][pool][map]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Group group;
        FinishOrder order;
        auto releaser = order.release({1, 2, 3});
        for (int r : group.imap([&](int x) { return order.task(x, trace); }, std::vector<int>{3, 1, 2}))
            trace.push_back("got " + std::to_string(r));
        releaser.join();
    });
    REQUIRE(trace == std::vector<std::string>{"finished 1", "finished 2", "finished 3", "got 3", "got 1", "got 2"});
}

TEST_CASE("imap_unordered yields in completion order", "[sync][pool][map]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Group group;
        FinishOrder order;
        auto releaser = order.release({2, 3, 1});
        for (int r : group.imap_unordered([&](int x) { return order.task(x, trace); }, std::vector<int>{3, 1, 2}))
            trace.push_back("got " + std::to_string(r));
        releaser.join();
    });
    REQUIRE(trace == std::vector<std::string>{"finished 2", "got 2", "finished 3", "got 3", "finished 1", "got 1"});
}

TEST_CASE("imap on a Pool runs at most its size at once, with back-pressure on the feeder", "[sync][pool][map]") {
    int running = 0, peak = 0;
    std::vector<int> got;
    run([&] {
        gev::Pool pool(2);
        std::vector<int> items(8);
        for (int i = 0; i < 8; ++i) items[i] = i;
        for (int r : pool.imap([&](int x) {
                 peak = std::max(peak, ++running);
                 gev::sleep(std::chrono::microseconds(500 * (x % 3)));
                 --running;
                 return x;
             }, items))
            got.push_back(r);
    });
    REQUIRE(peak == 2);
    REQUIRE(got == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("imap rethrows a task's exception at its position and then goes on", "[sync][pool][map]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Group group;
        auto results = group.imap([](int x) {
            if (x == 2) throw std::runtime_error("two");
            return x;
        }, std::vector<int>{1, 2, 3});
        auto it = results.begin();
        trace.push_back(std::to_string(*it));
        try {
            ++it;
        } catch (const std::runtime_error& e) {
            trace.push_back(e.what());
        }
        ++it;
        trace.push_back(std::to_string(*it));
        ++it;
        REQUIRE(it == results.end());
        REQUIRE_THROWS_WITH(group.map([](int x) { return x == 1 ? throw std::logic_error("bad") : x; },
                                      std::vector<int>{0, 1}),
                            "bad");
    });
    REQUIRE(trace == std::vector<std::string>{"1", "two", "3"});
}

TEST_CASE("dropping an imap early stops its feeder", "[sync][pool][map]") {
    int calls = 0;
    run([&] {
        gev::Pool pool(1);
        {
            auto results = pool.imap([&](int x) {
                ++calls;
                gev::sleep(1ms);
                return x;
            }, std::vector<int>{0, 1, 2, 3, 4, 5});
            REQUIRE(*results.begin() == 0);
        }
        pool.join();
        gev::sleep(2ms);
    });
    REQUIRE(calls < 6);
}
