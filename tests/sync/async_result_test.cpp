// tests/sync/async_result_test.cpp — AsyncResult: value and exception delivery, get's
// timeout, the ready/successful/value/exception states, <void>, and two hubs.
#include "support.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

TEST_CASE("get returns the value another fiber sets", "[sync][async_result]") {
    gev::testing::run([] {
        gev::AsyncResult<std::string> r;
        auto g = gev::spawn([&] {
            gev::sleep(1ms);
            r.set("hello");
        });
        REQUIRE(r.get() == "hello");
        REQUIRE(r.get(0ns) == "hello");   // every get returns it again
        g.join();
    });
}

TEST_CASE("get rethrows the exception stored with set_exception", "[sync][async_result]") {
    gev::testing::run([] {
        gev::AsyncResult<int> r;
        auto g = gev::spawn([&] { r.set_exception(std::make_exception_ptr(std::runtime_error("broken"))); });
        REQUIRE_THROWS_AS(r.get(), std::runtime_error);
        REQUIRE_THROWS_WITH(r.get(), "broken");
        REQUIRE(r.ready());
        REQUIRE_FALSE(r.successful());
        REQUIRE_FALSE(r.value());
        REQUIRE(r.exception() != nullptr);
        g.join();
    });
}

TEST_CASE("get throws gev::Timeout when nothing is set in time", "[sync][async_result]") {
    gev::testing::run([] {
        gev::AsyncResult<int> r;
        int timeouts = 0;
        try {
            (void)r.get(1ms);
        } catch (const gev::Timeout&) {
            ++timeouts;
        }
        try {
            (void)r.get_nowait();
        } catch (const gev::Timeout&) {
            ++timeouts;
        }
        REQUIRE(timeouts == 2);
        REQUIRE_FALSE(r.wait(1ms));
        r.set(7);
        REQUIRE(r.get_nowait() == 7);
    });
}

TEST_CASE("ready, successful, value and exception follow the result", "[sync][async_result]") {
    gev::testing::run([] {
        gev::AsyncResult<int> r;
        REQUIRE_FALSE(r.ready());
        REQUIRE_FALSE(r.successful());
        REQUIRE_FALSE(r.value());
        REQUIRE(r.exception() == nullptr);
        r.set(5);
        REQUIRE(r.ready());
        REQUIRE(r.successful());
        REQUIRE(r.value() == 5);
        REQUIRE(r.exception() == nullptr);
        r.set(6);   // gevent: a later set replaces the value
        REQUIRE(r.get() == 6);
        REQUIRE_THROWS_AS(r.set_exception(nullptr), std::system_error);
    });
}

TEST_CASE("a value once set wins over a later set_exception, as gevent's get returns it", "[sync][async_result]") {
    gev::testing::run([] {
        gev::AsyncResult<int> r;
        r.set(2);
        r.set_exception(std::make_exception_ptr(std::runtime_error("late")));
        REQUIRE(r.get() == 2);
        REQUIRE(r.get_nowait() == 2);
        REQUIRE(r.successful());
        REQUIRE(r.value() == std::optional<int>(2));
        REQUIRE(r.exception() != nullptr);   // gevent keeps both: exception() still reports it

        gev::AsyncResult<int> e;
        e.set_exception(std::make_exception_ptr(std::runtime_error("first")));
        REQUIRE_FALSE(e.successful());
        REQUIRE_THROWS_WITH(e.get(), "first");
        e.set(3);   // a value set after an exception wins too
        REQUIRE(e.get() == 3);
        REQUIRE(e.successful());

        gev::AsyncResult<> v;
        v.set();
        v.set_exception(std::make_exception_ptr(std::runtime_error("late")));
        REQUIRE_NOTHROW(v.get());
        REQUIRE(v.successful());
    });
}

TEST_CASE("get_nowait does not switch, while wait(0) lets a ready setter run first", "[sync][async_result][poll]") {
    gev::testing::run([] {
        gev::AsyncResult<int> r;
        auto setter = gev::spawn([&] { r.set(9); });
        REQUIRE_THROWS_AS(r.get_nowait(), gev::Timeout);   // the setter has not run
        REQUIRE(r.wait(0ns));                               // it ran meanwhile
        REQUIRE(r.get_nowait() == 9);
        setter.join();
    });
}

TEST_CASE("AsyncResult<void> wakes every waiter and rethrows a stored exception", "[sync][async_result]") {
    gev::testing::run([] {
        gev::AsyncResult<> done;
        int woken = 0;
        auto a = gev::spawn([&] { done.get(); ++woken; });
        auto b = gev::spawn([&] { done.get(); ++woken; });
        gev::sleep(0ns);
        done.set();
        gev::joinall({a, b});
        REQUIRE(woken == 2);
        gev::AsyncResult<> failed;
        failed.set_exception(std::make_exception_ptr(std::logic_error("no")));
        REQUIRE_THROWS_WITH(failed.get(), "no");
    });
}

TEST_CASE("waiting on an AsyncResult nobody sets throws LoopExit naming it", "[sync][async_result][loopexit]") {
    std::string message;
    gev::testing::run([&] {
        gev::AsyncResult<int> r;
        try {
            (void)r.get();
        } catch (const gev::LoopExit& x) {
            message = x.what();
        }
    });
    REQUIRE_THAT(message, Catch::Contains("AsyncResult 0x"));
}

TEST_CASE("an AsyncResult set on hub 1 is delivered to get on hub 0", "[sync][async_result][multi]") {
    gev::RunOptions o;
    o.threads = 2;
    std::string got;
    gev::run([&] {
        for (int i = 0; i < 200; ++i) {
            gev::AsyncResult<std::string> r;
            auto g = gev::spawn_on(1, [&r, i] { r.set("value " + std::to_string(i)); });
            got = r.get(10s);
            REQUIRE(got == "value " + std::to_string(i));
            g.join();
        }
    }, o);
    REQUIRE(got == "value 199");
}
