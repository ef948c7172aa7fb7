// tests/sync/channel_test.cpp — Channel, the rendezvous: put waits for a getter and get
// for a putter, the nowait forms, timeouts, FIFO hand-offs, cancellation of a getter
// that was handed an item, shutdown and iteration, and LoopExit naming the channel.
#include "support.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gev::testing::run;

TEST_CASE("Channel put returns only once a getter has taken the item", "[sync][channel]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Channel<int> ch;
        auto putter = gev::spawn([&] {
            trace.push_back("put starts");
            ch.put(1);
            trace.push_back("put returned");
        });
        gev::sleep(0ns);
        gev::sleep(0ns);
        REQUIRE(trace == std::vector<std::string>{"put starts"});   // nobody took it: still waiting
        REQUIRE(ch.putting());
        REQUIRE(ch.balance() == 1);
        trace.push_back("get " + std::to_string(ch.get()));
        putter.join();
    });
    REQUIRE(trace == std::vector<std::string>{"put starts", "get 1", "put returned"});
}

TEST_CASE("Channel get waits for a putter, and a put to a waiting getter does not park", "[sync][channel]") {
    run([] {
        gev::Channel<std::string> ch;
        auto getter = gev::spawn([&] { return ch.get(); });
        gev::sleep(0ns);
        REQUIRE(ch.getting());
        REQUIRE(ch.balance() == -1);
        ch.put_nowait("hello");   // a getter waits: the hand-off happens at once
        REQUIRE(getter.get() == "hello");
    });
}

TEST_CASE("Channel nowait forms and timeouts throw Full and Empty when nobody is on the other side",
          "[sync][channel]") {
    run([] {
        gev::Channel<int> ch;
        REQUIRE_THROWS_AS(ch.put_nowait(1), gev::Full);
        REQUIRE_THROWS_AS(ch.get_nowait(), gev::Empty);
        REQUIRE_THROWS_AS(ch.put(1, 1ms), gev::Full);
        REQUIRE_THROWS_AS(ch.get(1ms), gev::Empty);
        REQUIRE_FALSE(ch.putting());
        REQUIRE_FALSE(ch.getting());
    });
}

TEST_CASE("Channel hands items over in the order the putters came", "[sync][channel]") {
    std::vector<int> got;
    run([&] {
        gev::Channel<int> ch;
        std::vector<gev::Greenlet<>> putters;
        for (int i = 0; i < 4; ++i) putters.push_back(gev::spawn([&ch, i] { ch.put(i); }));
        gev::sleep(0ns);
        for (int i = 0; i < 4; ++i) got.push_back(ch.get());
        gev::joinall(putters);
    });
    REQUIRE(got == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("Channel moves move-only items", "[sync][channel]") {
    run([] {
        gev::Channel<std::unique_ptr<int>> ch;
        auto g = gev::spawn([&] { ch.put(std::make_unique<int>(9)); });
        REQUIRE(*ch.get() == 9);
        g.join();
    });
}

TEST_CASE("a Channel getter killed after it was handed an item passes it to the next getter",
          "[sync][channel][cancel]") {
    run([] {
        gev::Channel<int> ch;
        auto a = gev::spawn([&] { ch.get(); });
        auto b = gev::spawn([&] { return ch.get(); });
        gev::sleep(0ns);
        ch.put(7);   // into a's hands; a has not run yet
        a.kill(gev::KillOptions{nullptr, false, gev::forever});
        REQUIRE(b.get() == 7);
    });
}

TEST_CASE("an item handed to a getter that was then killed waits for the next get", "[sync][channel][cancel]") {
    run([] {
        gev::Channel<int> ch;
        auto a = gev::spawn([&] { ch.get(); });
        gev::sleep(0ns);
        ch.put(8);
        a.kill();
        REQUIRE(ch.balance() == 1);
        REQUIRE(ch.get_nowait() == 8);
    });
}

TEST_CASE("a Channel putter killed after a getter took its item has delivered it", "[sync][channel][cancel]") {
    run([] {
        gev::Channel<int> ch;
        bool returned = false;
        auto p = gev::spawn([&] {
            ch.put(9);
            returned = true;
        });
        gev::sleep(0ns);
        REQUIRE(ch.get() == 9);   // taken; p is ready but has not run
        p.kill();
        REQUIRE(p.successful());
        REQUIRE_FALSE(returned);   // the kill is raised at once, yet the item was delivered once
        REQUIRE(ch.balance() == 0);
    });
}

TEST_CASE("Channel get and put with a zero timeout let the other side run first", "[sync][channel][poll]") {
    run([] {
        gev::Channel<int> ch;
        auto putter = gev::spawn([&] { ch.put(1); });
        REQUIRE(ch.get(0ns) == 1);
        putter.join();
        auto getter = gev::spawn([&] { return ch.get(); });
        ch.put(2, 0ns);
        REQUIRE(getter.get() == 2);
        REQUIRE_THROWS_AS(ch.get(0ns), gev::Empty);   // nobody on the other side
        REQUIRE_THROWS_AS(ch.put(3, 0ns), gev::Full);
    });
}

TEST_CASE("a Channel put cut short by a Timeout did not deliver", "[sync][channel][cancel]") {
    run([] {
        gev::Channel<int> ch;
        {
            gev::Timeout t{1ms};
            REQUIRE_THROWS_AS(ch.put(1), gev::Timeout);
        }
        REQUIRE_FALSE(ch.putting());
        REQUIRE_THROWS_AS(ch.get_nowait(), gev::Empty);
    });
}

TEST_CASE("shutdown releases Channel waiters and ends iteration", "[sync][channel]") {
    std::vector<int> seen;
    gev::testing::Failures failures;
    run([&] {
        gev::Channel<int> ch;
        auto producer = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) ch.put(i);
            ch.shutdown();
        });
        for (int& x : ch) seen.push_back(x);
        producer.join();
        REQUIRE_THROWS_AS(ch.put(1), gev::QueueShutDown);
        gev::Channel<int> other;
        auto putter = gev::spawn([&] { other.put(1); });
        gev::sleep(0ns);
        other.shutdown();
        REQUIRE_THROWS_AS(putter.get(), gev::QueueShutDown);
    }, &failures);
    REQUIRE(seen == std::vector<int>{0, 1, 2});
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("get on a Channel nobody puts to throws LoopExit naming the Channel", "[sync][channel]") {
    std::string what;
    run([&] {
        gev::Channel<int> ch;
        try {
            ch.get();
        } catch (const gev::LoopExit& e) {
            what = e.what();
        }
    });
    REQUIRE(what.find("Channel.get") != std::string::npos);
}
