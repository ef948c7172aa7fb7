// tests/sync/queue_test.cpp — Queue, LifoQueue and PriorityQueue on one hub: ordering,
// Full/Empty, timeouts, FIFO wake-ups, peek, task_done/join, shutdown and iteration,
// cancellation of granted waiters (no item or slot is lost), and LoopExit naming the queue.
#include "support.hpp"

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using gev::testing::run;

TEST_CASE("Queue is FIFO, LifoQueue is LIFO and PriorityQueue gives the smallest first", "[sync][queue]") {
    run([] {
        gev::Queue<int> fifo;
        gev::LifoQueue<int> lifo;
        gev::PriorityQueue<int> prio;
        for (int x : {3, 1, 2}) {
            fifo.put(x);
            lifo.put(x);
            prio.put(x);
        }
        std::vector<int> a, b, c;
        for (int i = 0; i < 3; ++i) {
            a.push_back(fifo.get());
            b.push_back(lifo.get());
            c.push_back(prio.get());
        }
        REQUIRE(a == std::vector<int>{3, 1, 2});
        REQUIRE(b == std::vector<int>{2, 1, 3});
        REQUIRE(c == std::vector<int>{1, 2, 3});
    });
}

TEST_CASE("PriorityQueue gives items of equal priority back in put order", "[sync][queue]") {
    struct ByFirst {
        bool operator()(const std::pair<int, std::string>& a, const std::pair<int, std::string>& b) const {
            return a.first < b.first;
        }
    };
    run([] {
        gev::PriorityQueue<std::pair<int, std::string>, ByFirst> q;
        q.put({2, "b1"});
        q.put({1, "a1"});
        q.put({2, "b2"});
        q.put({1, "a2"});
        q.put({2, "b3"});
        std::vector<std::string> out;
        while (!q.empty()) out.push_back(q.get().second);
        REQUIRE(out == std::vector<std::string>{"a1", "a2", "b1", "b2", "b3"});
    });
}

TEST_CASE("the nowait forms throw Full and Empty with messages naming the operation", "[sync][queue]") {
    run([] {
        gev::Queue<int> q(1);
        REQUIRE_THROWS_AS(q.get_nowait(), gev::Empty);
        q.put_nowait(1);
        REQUIRE(q.full());
        REQUIRE_THROWS_AS(q.put_nowait(2), gev::Full);
        try {
            q.put(2, false);
            FAIL("no Full");
        } catch (const gev::Full& e) {
            REQUIRE(std::string(e.what()).find("gev::Queue::put_nowait: the Queue is full") == 0);
            REQUIRE(e.code() == std::errc::no_buffer_space);
        }
        REQUIRE(q.get_nowait() == 1);
        try {
            q.get(false);
            FAIL("no Empty");
        } catch (const gev::Empty& e) {
            REQUIRE(std::string(e.what()).find("gev::Queue::get_nowait: the Queue is empty") == 0);
        }
        static_assert(std::is_base_of_v<std::system_error, gev::Full>);
        static_assert(std::is_base_of_v<std::system_error, gev::Empty>);
        static_assert(std::is_base_of_v<std::system_error, gev::QueueShutDown>);
    });
}

TEST_CASE("get and put with a timeout throw Empty and Full when it runs out", "[sync][queue]") {
    run([] {
        gev::Queue<int> q(1);
        REQUIRE_THROWS_AS(q.get(2ms), gev::Empty);
        REQUIRE_THROWS_AS(q.get(0ns), gev::Empty);
        q.put(1);
        REQUIRE_THROWS_AS(q.put(2, 2ms), gev::Full);
        REQUIRE(q.qsize() == 1);
        REQUIRE(q.get(2ms) == 1);
    });
}

TEST_CASE("blocked getters are served in the order they came", "[sync][queue]") {
    std::vector<std::string> got;
    run([&] {
        gev::Queue<int> q;
        std::vector<gev::Greenlet<>> gs;
        for (const char* name : {"a", "b", "c"})
            gs.push_back(gev::spawn([&, name] { got.push_back(name + std::to_string(q.get())); }));
        gev::sleep(0ns);   // all three wait now
        for (int i = 1; i <= 3; ++i) q.put(i);
        gev::joinall(gs);
    });
    REQUIRE(got == std::vector<std::string>{"a1", "b2", "c3"});
}

TEST_CASE("a bounded Queue parks putters until gets free slots, in the order they came", "[sync][queue]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Queue<std::string> q(2);
        auto producer = gev::spawn([&] {
            for (const char* s : {"p1", "p2", "p3", "p4"}) {
                q.put(s);
                trace.push_back(std::string("put ") + s);
            }
        });
        gev::sleep(0ns);
        REQUIRE(trace == std::vector<std::string>{"put p1", "put p2"});
        REQUIRE(q.full());
        trace.push_back("got " + q.get());
        gev::sleep(0ns);
        trace.push_back("got " + q.get());
        trace.push_back("got " + q.get());
        trace.push_back("got " + q.get());
        producer.join();
    });
    REQUIRE(trace == std::vector<std::string>{"put p1", "put p2", "got p1", "put p3", "got p2", "got p3", "put p4",
                                              "got p4"});
}

TEST_CASE("peek returns the next item without removing it and waits for one", "[sync][queue]") {
    run([] {
        gev::Queue<int> q;
        REQUIRE_THROWS_AS(q.peek_nowait(), gev::Empty);
        REQUIRE_THROWS_AS(q.peek(1ms), gev::Empty);
        auto g = gev::spawn([&] { return q.peek(); });
        gev::sleep(0ns);
        q.put(7);
        q.put(8);
        REQUIRE(g.get() == 7);
        REQUIRE(q.qsize() == 2);
        REQUIRE(q.get() == 7);
    });
}

TEST_CASE("join returns only after task_done was called once per item put", "[sync][queue]") {
    std::vector<std::string> trace;
    run([&] {
        gev::Queue<int> q;
        REQUIRE(q.join(0ns));   // nothing put: nothing unfinished
        for (int i = 0; i < 3; ++i) q.put(i);
        auto worker = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) {
                int x = q.get();
                gev::sleep(1ms);
                trace.push_back("done " + std::to_string(x));
                q.task_done();
            }
        });
        REQUIRE_FALSE(q.join(0ns));
        REQUIRE(q.unfinished_tasks() == 3);
        REQUIRE(q.join());
        trace.push_back("joined");
        REQUIRE_THROWS_AS(q.task_done(), std::system_error);
        worker.join();
    });
    REQUIRE(trace == std::vector<std::string>{"done 0", "done 1", "done 2", "joined"});
}

TEST_CASE("JoinableQueue is gevent's name for the Queue that has task_done and join", "[sync][queue]") {
    static_assert(std::is_same_v<gev::JoinableQueue<int>, gev::Queue<int>>);
    run([] {
        gev::JoinableQueue<int> q;
        auto worker = gev::spawn([&] {
            REQUIRE(q.get() == 1);
            q.task_done();
        });
        q.put(1);
        REQUIRE(q.join(5s));
        worker.join();
    });
}

TEST_CASE("join with a timeout says false while tasks are unfinished", "[sync][queue]") {
    run([] {
        gev::Queue<int> q;
        q.put(1);
        REQUIRE_FALSE(q.join(2ms));
        q.get();
        q.task_done();
        REQUIRE(q.join(2ms));
    });
}

TEST_CASE("after shutdown puts throw, gets drain the items then throw QueueShutDown", "[sync][queue]") {
    run([] {
        gev::Queue<int> q;
        q.put(1);
        q.put(2);
        q.shutdown();
        REQUIRE(q.is_shutdown());
        REQUIRE_THROWS_AS(q.put(3), gev::QueueShutDown);
        REQUIRE(q.get() == 1);
        REQUIRE(q.get() == 2);
        REQUIRE_THROWS_AS(q.get(), gev::QueueShutDown);
        REQUIRE_THROWS_AS(q.get_nowait(), gev::QueueShutDown);
        REQUIRE_THROWS_AS(q.peek(), gev::QueueShutDown);
    });
}

TEST_CASE("shutdown releases blocked getters and putters with QueueShutDown", "[sync][queue]") {
    gev::testing::Failures failures;   // the two fibers fail with QueueShutDown, as they should
    run([] {
        gev::Queue<int> empty, full(1);
        full.put(0);
        auto getter = gev::spawn([&] { empty.get(); });
        auto putter = gev::spawn([&] { full.put(1); });
        gev::sleep(0ns);
        empty.shutdown();
        full.shutdown();
        REQUIRE_THROWS_AS(getter.get(), gev::QueueShutDown);
        REQUIRE_THROWS_AS(putter.get(), gev::QueueShutDown);
        REQUIRE(full.get() == 0);   // what was in it can still be taken
    }, &failures);
    REQUIRE(failures.messages.size() == 2);
}

TEST_CASE("shutdown(immediate) drops the items and releases join", "[sync][queue]") {
    run([] {
        gev::Queue<int> q;
        q.put(1);
        q.put(2);
        auto joiner = gev::spawn([&] { return q.join(); });
        gev::sleep(0ns);
        q.shutdown(true);
        REQUIRE(joiner.get());
        REQUIRE(q.qsize() == 0);
        REQUIRE(q.unfinished_tasks() == 0);
        REQUIRE_THROWS_AS(q.get(), gev::QueueShutDown);
    });
}

TEST_CASE("iterating a Queue yields every item and ends at shutdown", "[sync][queue]") {
    std::vector<int> seen;
    run([&] {
        gev::Queue<int> q;
        auto producer = gev::spawn([&] {
            for (int i = 0; i < 5; ++i) {
                q.put(i);
                if (i % 2) gev::sleep(0ns);
            }
            q.shutdown();
        });
        for (int& x : q) seen.push_back(x);
        producer.join();
    });
    REQUIRE(seen == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("a getter killed after it was handed an item passes it to the next getter", "[sync][queue][cancel]") {
    run([] {
        gev::Queue<int> q;
        bool a_got = false;
        auto a = gev::spawn([&] {
            q.get();
            a_got = true;
        });
        auto b = gev::spawn([&] { return q.get(); });
        gev::sleep(0ns);        // both wait; a first
        q.put(42);              // granted to a, which is now ready but has not run
        a.kill(gev::KillOptions{nullptr, false, gev::forever});
        REQUIRE(b.get() == 42);
        a.join();
        REQUIRE_FALSE(a_got);
        REQUIRE(q.qsize() == 0);
    });
}

TEST_CASE("a getter cut short by a Timeout after it was handed an item loses nothing", "[sync][queue][cancel]") {
    run([] {
        gev::Queue<int> q;
        auto a = gev::spawn([&] {
            gev::Timeout t{1ms};
            try {
                return q.get();   // either returns the item or throws, never both
            } catch (const gev::Timeout&) {
                return -1;
            }
        });
        gev::sleep(0ns);
        // Hold the hub past the Timeout's deadline, then put: the grant and the Timeout meet.
        auto until = std::chrono::steady_clock::now() + 3ms;
        while (std::chrono::steady_clock::now() < until) {
        }
        q.put(5);
        int got = a.get();
        REQUIRE((got == 5) != (q.qsize() == 1));
        if (got != 5) REQUIRE(q.get_nowait() == 5);
    });
}

TEST_CASE("a getter killed after it was handed an item, with no other getter, leaves the item in the Queue",
          "[sync][queue][cancel]") {
    run([] {
        gev::Queue<int> q;
        auto a = gev::spawn([&] { return q.get(); });
        gev::sleep(0ns);
        q.put(7);   // granted to a, which has not run
        a.kill();
        REQUIRE(a.successful());
        REQUIRE(q.qsize() == 1);
        REQUIRE(q.get_nowait() == 7);
    });
}

TEST_CASE("a putter killed after it was given a slot passes the slot to the next putter", "[sync][queue][cancel]") {
    run([] {
        gev::Queue<std::string> q(1);
        q.put("first");
        auto p1 = gev::spawn([&] { q.put("p1"); });
        auto p2 = gev::spawn([&] { q.put("p2"); });
        gev::sleep(0ns);
        REQUIRE(q.get() == "first");   // the slot goes to p1, which has not run yet
        p1.kill(gev::KillOptions{nullptr, false, gev::forever});
        p2.join();
        p1.join();
        REQUIRE(q.qsize() == 1);
        REQUIRE(q.get() == "p2");
    });
}

TEST_CASE("a get killed while it waits leaves the Queue working", "[sync][queue][cancel]") {
    run([] {
        gev::Queue<int> q;
        auto g = gev::spawn([&] { q.get(); });
        gev::sleep(0ns);
        g.kill();
        REQUIRE(g.dead());
        q.put(1);
        REQUIRE(q.get() == 1);
        gev::Timeout t{gev::Duration(1ms)};
        REQUIRE_THROWS_AS(q.get(), gev::Timeout);   // a Timeout scope cuts a get short too
    });
}

TEST_CASE("get, put, peek and join with a zero timeout let ready fibers run before they give up",
          "[sync][queue][poll]") {
    run([] {
        gev::Queue<int> q(1);
        auto putter = gev::spawn([&] { q.put(1); });
        int polls = 0;
        auto try_get = [&] {
            try {
                return q.get(0ns);
            } catch (const gev::Empty&) {
                return -1;
            }
        };
        int got = -1;
        while ((got = try_get()) < 0 && polls < 100) ++polls;
        REQUIRE(got == 1);
        REQUIRE(polls == 0);
        putter.join();

        q.put(2);   // full now
        auto getter = gev::spawn([&] { return q.get(); });
        q.put(3, 0ns);   // the getter ran meanwhile and freed the slot
        REQUIRE(getter.get() == 2);
        REQUIRE(q.get_nowait() == 3);

        auto late = gev::spawn([&] { q.put(4); });
        REQUIRE(q.peek(0ns) == 4);
        late.join();
        auto worker = gev::spawn([&] {
            q.get();
            q.task_done();
        });
        for (int i = 0; i < 3; ++i) q.task_done();   // the three items main and the getter took
        REQUIRE(q.join(0ns));   // the worker ran meanwhile and ended the last task
        worker.join();
        REQUIRE_THROWS_AS(q.get(0ns), gev::Empty);   // nobody puts: Empty after one turn
    });
}

TEST_CASE("the nowait forms never switch to another fiber", "[sync][queue][poll]") {
    run([] {
        gev::Queue<int> q(1);
        bool ran = false;
        auto other = gev::spawn([&] { ran = true; });
        REQUIRE_THROWS_AS(q.get_nowait(), gev::Empty);
        q.put_nowait(1);
        REQUIRE_THROWS_AS(q.put_nowait(2), gev::Full);
        REQUIRE(q.get_nowait() == 1);
        REQUIRE_FALSE(ran);
        other.join();
    });
}

TEST_CASE("get on an empty Queue that nobody feeds throws LoopExit naming the Queue", "[sync][queue]") {
    std::string what;
    run([&] {
        gev::Queue<int> q;
        try {
            q.get();
        } catch (const gev::LoopExit& e) {
            what = e.what();
        }
        q.put(1);   // the queue is intact afterwards
        REQUIRE(q.get() == 1);
    });
    REQUIRE(what.find("Queue.get") != std::string::npos);
}

TEST_CASE("a put on a full LifoQueue that nobody drains throws LoopExit naming it", "[sync][queue]") {
    std::string what;
    run([&] {
        gev::LifoQueue<int> q(1);
        q.put(1);
        try {
            q.put(2);
        } catch (const gev::LoopExit& e) {
            what = e.what();
        }
    });
    REQUIRE(what.find("LifoQueue.put") != std::string::npos);
}
