// tests/monkey/poll_time_test.cpp — the sleeps and the multiplexers under monkey
// patching: sleep/usleep/nanosleep/clock_nanosleep park only their fiber, poll and
// select wait cooperatively over several fds and give the kernel's answer, timeouts
// return 0, invalid arguments fail as the C library's do.
#include "monkey_support.hpp"

#include <sys/select.h>
#include <time.h>

#include <cerrno>
#include <csignal>

using namespace std::chrono_literals;
using namespace gev::testing;

TEST_CASE("sleep, usleep, nanosleep and clock_nanosleep park only their fiber", "[monkey][time]") {
    run_patched([] {
        Trace trace;
        auto a = gev::spawn([&] {
            timespec ts{0, 8'000'000};
            CHECK(::nanosleep(&ts, nullptr) == 0);
            trace.push_back("nanosleep 8ms");
        });
        auto b = gev::spawn([&] {
            CHECK(::usleep(2'000) == 0);
            trace.push_back("usleep 2ms");
        });
        auto c = gev::spawn([&] {
            timespec ts{0, 5'000'000};
            CHECK(::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr) == 0);
            trace.push_back("clock_nanosleep 5ms");
        });
        auto d = gev::spawn([&] {
            timespec now{};
            ::clock_gettime(CLOCK_MONOTONIC, &now);
            now.tv_nsec += 11'000'000;
            if (now.tv_nsec >= 1'000'000'000) {
                now.tv_nsec -= 1'000'000'000;
                ++now.tv_sec;
            }
            CHECK(::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, nullptr) == 0);
            trace.push_back("absolute 11ms");
        });
        auto e = gev::spawn([&] {
            CHECK(::sleep(0) == 0);   // gevent.sleep(0): a yield
            trace.push_back("sleep 0");
        });
        gev::joinall({a, b, c, d, e});
        CHECK(trace == Trace{"sleep 0", "usleep 2ms", "clock_nanosleep 5ms", "nanosleep 8ms", "absolute 11ms"});
    });
}

TEST_CASE("invalid sleeps fail as the C library's do", "[monkey][time][errno]") {
    run_patched([] {
        timespec bad{0, 2'000'000'000};
        errno = 0;
        CHECK(::nanosleep(&bad, nullptr) == -1);
        CHECK(errno == EINVAL);
        CHECK(::clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr) == EINVAL);
        timespec ok{0, 1000};
        CHECK(::clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ok, nullptr) == EINVAL);
    });
}

TEST_CASE("poll over several fds parks until one is ready and reports the kernel's revents", "[monkey][poll]") {
    run_patched([] {
        int p[2], q[2];
        REQUIRE(::pipe(p) == 0);
        REQUIRE(::pipe(q) == 0);
        Trace trace;
        auto writer = gev::spawn([&] {
            trace.push_back("writer");
            ::write(q[1], "w", 1);
        });
        pollfd fds[3] = {{p[0], POLLIN, 0}, {q[0], POLLIN, 0}, {-1, POLLIN, 0}};
        trace.push_back("poll");
        int n = ::poll(fds, 3, -1);
        trace.push_back("ready " + std::to_string(n));
        CHECK(trace == Trace{"poll", "writer", "ready 1"});
        CHECK(fds[0].revents == 0);
        CHECK(fds[1].revents == POLLIN);
        writer.get();
        for (int fd : {p[0], p[1], q[0], q[1]}) ::close(fd);
    });
}

TEST_CASE("poll with a timeout returns 0 and lets other fibers run meanwhile", "[monkey][poll]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        int ticks = 0;
        auto ticker = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) {
                ++ticks;
                gev::sleep(1ms);
            }
        });
        pollfd one{p[0], POLLIN, 0};
        CHECK(::poll(&one, 1, 20) == 0);
        CHECK(ticks == 3);
        pollfd none{-1, 0, 0};
        CHECK(::poll(&none, 1, 1) == 0);
        CHECK(::poll(nullptr, 0, 1) == 0);   // a plain sleep
        timespec ts{0, 1'000'000};
        CHECK(::ppoll(&one, 1, &ts, nullptr) == 0);
        ticker.get();
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("poll reports POLLNVAL and POLLHUP as the kernel does", "[monkey][poll]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        pollfd bad{987654, POLLIN, 0};
        CHECK(::poll(&bad, 1, 10) == 1);
        CHECK(bad.revents == POLLNVAL);
        auto closer = gev::spawn([&] { ::close(p[1]); });
        pollfd hup{p[0], POLLIN, 0};
        CHECK(::poll(&hup, 1, 1000) == 1);
        CHECK((hup.revents & POLLHUP) != 0);
        closer.get();
        ::close(p[0]);
    });
}

TEST_CASE("two fibers may poll and read the same fd at once", "[monkey][poll]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        int woke = 0;
        auto waiter = [&] {
            pollfd f{p[0], POLLIN, 0};
            if (::poll(&f, 1, 1000) == 1) ++woke;
        };
        auto a = gev::spawn(waiter);
        auto b = gev::spawn(waiter);
        gev::sleep(1ms);
        ::write(p[1], "x", 1);
        gev::joinall({a, b});
        CHECK(woke == 2);
        char c;
        auto r1 = gev::spawn([&] { return ::read(p[0], &c, 1); });
        auto r2 = gev::spawn([&] { return ::read(p[0], &c, 1); });
        gev::sleep(1ms);
        ::write(p[1], "yz", 2);
        CHECK(r1.get(1s) == 1);
        CHECK(r2.get(1s) == 1);   // the second waiter waits beside the first
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("select parks until a set fd is ready, rewrites the sets and the timeval", "[monkey][select]") {
    run_patched([] {
        int p[2], q[2];
        REQUIRE(::pipe(p) == 0);
        REQUIRE(::pipe(q) == 0);
        auto writer = gev::spawn([&] {
            gev::sleep(2ms);
            ::write(p[1], "s", 1);
        });
        fd_set r, w;
        FD_ZERO(&r);
        FD_ZERO(&w);
        FD_SET(p[0], &r);
        FD_SET(q[0], &r);
        int nfds = std::max(p[0], q[0]) + 1;
        timeval tv{5, 0};
        CHECK(::select(nfds, &r, &w, nullptr, &tv) == 1);
        CHECK(FD_ISSET(p[0], &r));
        CHECK_FALSE(FD_ISSET(q[0], &r));
        CHECK(tv.tv_sec <= 5);
        CHECK((tv.tv_sec < 5 || tv.tv_usec < 1'000'000));
        CHECK(tv.tv_sec >= 4);   // Linux writes back the time left
        FD_ZERO(&r);
        FD_SET(q[0], &r);
        timeval shorter{0, 2000};
        CHECK(::select(q[0] + 1, &r, nullptr, nullptr, &shorter) == 0);
        CHECK_FALSE(FD_ISSET(q[0], &r));
        CHECK((shorter.tv_sec == 0 && shorter.tv_usec == 0));
        int closed = ::dup(q[0]);
        ::close(closed);
        fd_set bad;
        FD_ZERO(&bad);
        FD_SET(closed, &bad);
        errno = 0;
        CHECK(::select(closed + 1, &bad, nullptr, nullptr, &shorter) == -1);
        CHECK(errno == EBADF);
        timespec ts{0, 1'000'000};
        FD_ZERO(&r);
        FD_SET(q[0], &r);
        CHECK(::pselect(q[0] + 1, &r, nullptr, nullptr, &ts, nullptr) == 0);
        writer.get();
        for (int fd : {p[0], p[1], q[0], q[1]}) ::close(fd);
    });
}

TEST_CASE("a poll with a signal mask goes to the C library unchanged", "[monkey][poll]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        ::write(p[1], "m", 1);
        sigset_t mask;
        sigemptyset(&mask);
        timespec ts{0, 1'000'000};
        pollfd f{p[0], POLLIN, 0};
        CHECK(::ppoll(&f, 1, &ts, &mask) == 1);
        ::close(p[0]);
        ::close(p[1]);
    });
}
