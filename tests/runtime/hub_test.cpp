// tests/runtime/hub_test.cpp — the scheduler: FIFO dispatch, timers, sleep and sleep(0),
// idle, wait reasons and LoopExit, the error handler, gev::run's contract, leftovers at
// exit, cross-thread wake-ups and two hubs on two threads.
#include "runtime/hub.hpp"
#include "support.hpp"

#include <time.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

struct SetOnDestroy {
    bool& flag;
    ~SetOnDestroy() { flag = true; }
};

std::chrono::nanoseconds thread_cpu_time() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

TEST_CASE("a fiber that parks hands over to the next ready fiber in FIFO order", "[runtime][hub]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Greenlet<> b;
        auto a = gev::spawn([&] {
            trace.push_back("A1");
            b.join();
            trace.push_back("A2");
        });
        b = gev::spawn([&] { trace.push_back("B"); });
        auto c = gev::spawn([&] { trace.push_back("C"); });
        trace.push_back("main");
        gev::joinall({a, b, c});
    });
    REQUIRE(trace == std::vector<std::string>{"main", "A1", "B", "C", "A2"});
}

TEST_CASE("timers with equal deadlines fire in arming order", "[runtime][hub][timer]") {
    std::vector<int> woke;
    gev::testing::run([&] {
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 10; ++i)
            gs.push_back(gev::spawn([&woke, i] {
                gev::sleep(5ms);
                woke.push_back(i);
            }));
        gev::joinall(gs);
    });
    REQUIRE(woke == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("earlier deadlines fire first whatever the arming order", "[runtime][hub][timer]") {
    std::vector<std::string> woke;
    gev::testing::run([&] {
        auto a = gev::spawn([&] { gev::sleep(15ms); woke.push_back("15ms"); });
        auto b = gev::spawn([&] { gev::sleep(2ms); woke.push_back("2ms"); });
        auto c = gev::spawn([&] { gev::sleep(8ms); woke.push_back("8ms"); });
        gev::joinall({a, b, c});
    });
    REQUIRE(woke == std::vector<std::string>{"2ms", "8ms", "15ms"});
}

TEST_CASE("a cancelled timer never fires", "[runtime][hub][timer]") {
    struct Flagged : gev::detail::TimerNode {
        bool fired = false;
    };
    Flagged cancelled, kept;
    gev::testing::run([&] {
        auto& hub = *gev::detail::Hub::current();
        for (Flagged* t : {&cancelled, &kept}) {
            t->fire = [](gev::detail::TimerNode* n) { static_cast<Flagged*>(n)->fired = true; };
            hub.arm(t, hub.deadline_after(1ms));
        }
        hub.cancel(&cancelled);
        REQUIRE_FALSE(cancelled.armed());
        gev::sleep(5ms);
    });
    REQUIRE(kept.fired);
    REQUIRE_FALSE(cancelled.fired);
}

TEST_CASE("sleep parks only the calling fiber", "[runtime][hub][sleep]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto sleeper = gev::spawn([&] {
            gev::sleep(20ms);
            trace.push_back("sleeper");
        });
        auto other = gev::spawn([&] { trace.push_back("other"); });
        gev::sleep(0ns);
        REQUIRE(trace == std::vector<std::string>{"other"});
        REQUIRE_FALSE(sleeper.dead());
        sleeper.join();
    });
    REQUIRE(trace == std::vector<std::string>{"other", "sleeper"});
}

// The hub caches its clock per loop turn; a deadline must still be measured from the
// real time, even after the fiber held the thread (regression test).
TEST_CASE("sleep waits its duration even after the fiber held the thread", "[runtime][hub][sleep]") {
    gev::Clock::duration slept{};
    gev::testing::run([&] {
        auto other = gev::spawn([] { gev::sleep(1s); });   // keeps a timer armed
        gev::sleep(0ns);
        std::this_thread::sleep_for(20ms);   // blocking work: no loop turn meanwhile
        auto t0 = gev::Clock::now();
        gev::sleep(10ms);
        slept = gev::Clock::now() - t0;
        other.kill();
    });
    REQUIRE(slept >= 10ms);
}

TEST_CASE("sleep(0) lets every other ready fiber run once before the caller resumes", "[runtime][hub][sleep]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        std::vector<gev::Greenlet<>> gs;
        for (std::string name : {"A", "B", "C"})
            gs.push_back(gev::spawn([&trace, name] {
                for (int i = 0; i < 3; ++i) {
                    trace.push_back(name + std::to_string(i));
                    gev::sleep(0ns);
                }
            }));
        gev::joinall(gs);
    });
    REQUIRE(trace == std::vector<std::string>{"A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2"});
}

TEST_CASE("a fiber spinning on sleep(0) does not starve timers", "[runtime][hub][sleep]") {
    bool stopped_by_sleeper = false, gave_up = false;
    long spins = 0;
    gev::testing::run([&] {
        bool stop = false;
        auto spinner = gev::spawn([&] {
            auto give_up = gev::Clock::now() + 2s;
            while (!stop) {
                gev::sleep(0ns);
                if (++spins % 1024 == 0 && gev::Clock::now() > give_up) {
                    gave_up = true;
                    return;
                }
            }
            stopped_by_sleeper = true;
        });
        auto sleeper = gev::spawn([&] {
            gev::sleep(5ms);
            stop = true;
        });
        gev::joinall({spinner, sleeper});
    });
    REQUIRE_FALSE(gave_up);
    REQUIRE(stopped_by_sleeper);
    REQUIRE(spins > 0);
}

TEST_CASE("idle resumes only once nothing else is ready", "[runtime][hub][idle]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        auto idler = gev::spawn([&] {
            gev::idle();
            trace.push_back("idle returned");
        });
        auto busy = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) {
                trace.push_back("busy" + std::to_string(i));
                gev::sleep(0ns);
            }
        });
        gev::joinall({idler, busy});
    });
    REQUIRE(trace == std::vector<std::string>{"busy0", "busy1", "busy2", "idle returned"});
}

TEST_CASE("every parked fiber records why it waits", "[runtime][hub][loopexit]") {
    gev::testing::run([] {
        auto sleeper = gev::spawn([] { gev::sleep(1s); });
        auto joiner = gev::spawn([&] { sleeper.join(); });
        gev::sleep(1ms);   // both have parked
        std::string dump = gev::detail::Hub::current()->describe_fibers(gev::detail::current_fiber());
        auto line = [](const gev::Greenlet<>& g) { return g.name() + " id=" + std::to_string(g.id()) + " parked: "; };
        REQUIRE_THAT(dump, Catch::Contains(line(sleeper) + "sleep"));
        REQUIRE_THAT(dump, Catch::Contains(line(joiner) + "join fiber " + std::to_string(sleeper.id())));
        gev::killall({sleeper, joiner});
    });
}

TEST_CASE("a wait nothing can end throws LoopExit naming the parked fibers", "[runtime][hub][loopexit]") {
    static_assert(std::is_base_of_v<std::system_error, gev::LoopExit>);
    std::string message;
    std::error_code code;
    gev::testing::run([&] {
        gev::Greenlet<> a, b;
        a = gev::spawn([&] { b.join(); });
        b = gev::spawn([&] { a.join(); });
        try {
            a.join();
        } catch (const gev::LoopExit& e) {
            message = e.what();
            code = e.code();
        }
        REQUIRE_FALSE(message.empty());
        REQUIRE_THAT(message, Catch::Contains("This operation would block forever"));
        REQUIRE_THAT(message, Catch::Contains("main id="));
        REQUIRE_THAT(message, Catch::Contains("join fiber " + std::to_string(a.id())));
        REQUIRE_THAT(message, Catch::Contains(b.name() + " id=" + std::to_string(b.id()) + " parked: join fiber " +
                                              std::to_string(a.id())));
        REQUIRE_THAT(message, Catch::Contains(a.name() + " id=" + std::to_string(a.id()) + " parked: join fiber " +
                                              std::to_string(b.id())));
    });
    REQUIRE(code == std::errc::resource_deadlock_would_occur);
}

TEST_CASE("a park on an object nobody can signal throws LoopExit naming the object", "[runtime][hub][loopexit]") {
    std::string message;
    gev::testing::run([&] {
        int widget = 0;
        auto& hub = *gev::detail::Hub::current();
        REQUIRE_THROWS_AS(hub.park(gev::detail::WaitReason{gev::detail::WaitKind::object, "Widget", &widget}),
                          gev::LoopExit);
        try {
            hub.park(gev::detail::WaitReason{gev::detail::WaitKind::object, "Widget", &widget});
        } catch (const gev::LoopExit& e) {
            message = e.what();
        }
    });
    REQUIRE_THAT(message, Catch::Contains("This operation would block forever"));
    REQUIRE_THAT(message, Catch::Contains("waits on Widget 0x"));
}

TEST_CASE("a fiber's failure is stored and reported once through the error handler", "[runtime][hub][errors]") {
    gev::testing::Failures failures;
    std::string expected;
    gev::testing::run([&] {
        auto g = gev::spawn([]() -> int { throw std::runtime_error("boom"); });
        expected = "gev: <" + g.name() + " id=" + std::to_string(g.id()) + "> failed with std::runtime_error: boom";
        g.join();
        REQUIRE(g.exception() != nullptr);
        REQUIRE_THROWS_WITH(g.get(), "boom");
        REQUIRE_THROWS_WITH(g.get(), "boom");
    }, &failures);
    REQUIRE(failures.messages == std::vector<std::string>{expected});
}

TEST_CASE("set_error_handler replaces the hub's error handler", "[runtime][hub][errors]") {
    gev::testing::Failures failures;
    std::vector<gev::FailureReport> mine;
    gev::testing::run([&] {
        gev::ErrorHandler previous = gev::set_error_handler([&](const gev::FailureReport& r) { mine.push_back(r); });
        REQUIRE(previous);
        auto g = gev::spawn([] { throw std::runtime_error("boom"); });
        g.join();
        REQUIRE(mine.size() == 1);
        REQUIRE(mine[0].id == g.id());
        REQUIRE(mine[0].name == g.name());
        REQUIRE(mine[0].error == g.exception());
        REQUIRE_THAT(mine[0].message, Catch::Contains("failed with std::runtime_error: boom"));
        gev::set_error_handler(previous);
    }, &failures);
    REQUIRE(failures.messages.empty());
}

TEST_CASE("a fiber ended by GreenletExit is not reported as a failure", "[runtime][hub][errors]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        auto thrown = gev::spawn([] { throw gev::GreenletExit{}; });
        auto killed = gev::spawn([] { gev::sleep(1s); });
        gev::sleep(0ns);
        killed.kill();
        thrown.join();
    }, &failures);
    REQUIRE(failures.messages.empty());
}

TEST_CASE("gev::run returns main's int and rethrows main's exception", "[runtime][hub][run]") {
    int reports = 0;
    gev::RunOptions opts;
    opts.on_error = [&](const gev::FailureReport&) { ++reports; };
    REQUIRE(gev::run([] { return 42; }, opts) == 42);
    REQUIRE(gev::run([] {}, opts) == 0);
    REQUIRE_THROWS_WITH(gev::run([]() -> int { throw std::runtime_error("main failed"); }, opts), "main failed");
    REQUIRE(reports == 0);   // main's failure goes to run's caller, not the handler
}

TEST_CASE("gev::run inside gev::run throws std::system_error", "[runtime][hub][run]") {
    bool inner_ran = false;
    gev::testing::run([&] { REQUIRE_THROWS_AS(gev::run([&] { inner_ran = true; }), std::system_error); });
    REQUIRE_FALSE(inner_ran);
}

TEST_CASE("runtime calls outside gev::run throw std::system_error", "[runtime][hub][run]") {
    bool ran = false;
    REQUIRE_THROWS_AS(gev::spawn([&] { ran = true; }), std::system_error);
    REQUIRE_THROWS_AS(gev::spawn_later(1ms, [&] { ran = true; }), std::system_error);
    REQUIRE_THROWS_AS(gev::sleep(1ms), std::system_error);
    REQUIRE_THROWS_AS(gev::sleep(0ns), std::system_error);
    REQUIRE_THROWS_AS(gev::idle(), std::system_error);
    REQUIRE_THROWS_AS(gev::Timeout(1ms), std::system_error);
    REQUIRE_FALSE(ran);
}

TEST_CASE("when main returns, leftover fibers get GreenletExit and their destructors run", "[runtime][hub][run]") {
    bool destroyed = false, got_exit = false;
    gev::testing::run([&] {
        gev::spawn([&] {
            SetOnDestroy guard{destroyed};
            try {
                gev::sleep(1s);
            } catch (const gev::GreenletExit&) {
                got_exit = true;
                throw;
            }
        });
        gev::sleep(0ns);
    });
    REQUIRE(got_exit);
    REQUIRE(destroyed);
}

// When main returns, fibers that are ready must not run on after it (a fiber spinning
// on sleep(0) would keep gev::run from ever returning): they get GreenletExit.
TEST_CASE("fibers that are ready when main returns get GreenletExit instead of running on",
          "[runtime][hub][run]") {
    bool main_returned = false, unstarted_ran = false, spinner_exit = false;
    int spins_after_main = 0;
    gev::testing::run([&] {
        gev::spawn([&] {
            try {
                for (int i = 0; i < 1000; ++i) {
                    if (main_returned) ++spins_after_main;
                    gev::sleep(0ns);   // always ready
                }
            } catch (const gev::GreenletExit&) {
                spinner_exit = true;
                throw;
            }
        });
        gev::sleep(0ns);
        gev::spawn([&] { unstarted_ran = true; });   // killed at exit before it ever runs
        main_returned = true;
    });
    REQUIRE(spinner_exit);
    REQUIRE(spins_after_main == 0);
    REQUIRE_FALSE(unstarted_ran);
}

TEST_CASE("a held hub blocks in its poller until another thread wakes a parked fiber", "[runtime][hub][threads]") {
    bool notified = false, sent_before_resume = false;
    std::chrono::nanoseconds cpu{};
    gev::testing::run([&] {
        auto& hub = *gev::detail::Hub::current();
        gev::detail::Fiber* self = gev::detail::current_fiber();
        gev::sleep(1ms);   // one park done: epoch - 1 now names a stale wait
        std::uint64_t epoch = self->epoch;
        std::atomic<bool> sent{false};
        hub.hold();
        std::thread waker([&] {
            std::this_thread::sleep_for(5ms);
            gev::detail::Hub::wake(self, epoch - 1);   // stale: must not resume the fiber
            std::this_thread::sleep_for(20ms);
            sent = true;
            gev::detail::Hub::wake(self, epoch);
        });
        auto cpu0 = thread_cpu_time();
        auto how = hub.park(gev::detail::WaitReason{gev::detail::WaitKind::object, "another thread", &waker});
        cpu = thread_cpu_time() - cpu0;
        sent_before_resume = sent.load();
        hub.release();
        waker.join();
        notified = how == gev::detail::Wake::notified;
    });
    REQUIRE(notified);
    REQUIRE(sent_before_resume);
    REQUIRE(cpu < 10ms);   // 25 ms of waiting: a spinning hub would burn all of it
}

TEST_CASE("two hubs on two threads run at once and keep their fibers apart", "[runtime][hub][threads]") {
    std::atomic<int> started{0};
    struct Seen {
        std::thread::id thread;
        std::set<std::thread::id> fibers;
        bool saw_other = false;
        int sum = 0;
    };
    Seen seen[2];
    auto body = [&](Seen& s) {
        gev::run([&] {
            s.thread = std::this_thread::get_id();
            ++started;
            std::vector<gev::Greenlet<int>> gs;
            for (int i = 0; i < 8; ++i)
                gs.push_back(gev::spawn([&s, i] {
                    for (int k = 0; k < 3; ++k) {
                        s.fibers.insert(std::this_thread::get_id());
                        gev::sleep(k == 1 ? 1ms : 0ns);
                    }
                    return i;
                }));
            // Both hubs must be running at the same moment for both to see started == 2.
            auto give_up = gev::Clock::now() + 2s;
            while (started.load() < 2 && gev::Clock::now() < give_up) gev::sleep(1ms);
            s.saw_other = started.load() == 2;
            for (auto& g : gs) s.sum += g.get();
        });
    };
    std::thread t0(body, std::ref(seen[0]));
    std::thread t1(body, std::ref(seen[1]));
    t0.join();
    t1.join();
    REQUIRE(seen[0].thread != seen[1].thread);
    for (const Seen& s : seen) {
        REQUIRE(s.saw_other);
        REQUIRE(s.sum == 28);
        REQUIRE(s.fibers == std::set<std::thread::id>{s.thread});
    }
}
