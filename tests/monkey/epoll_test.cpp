// tests/monkey/epoll_test.cpp — a caller's own epoll set under monkey patching, from
// plain C code: epoll_wait/epoll_pwait/epoll_pwait2 park only their fiber until the set
// has events or the timeout passes; a zero timeout, a signal mask and calls off a fiber
// are the kernel's call; results and errno are the kernel's.
#include "monkey_support.hpp"
#include "plain_calls.hpp"

#include <signal.h>
#include <sys/epoll.h>

#include <cerrno>

using namespace std::chrono_literals;
using namespace gev::testing;

namespace {

// An epoll set watching the read end of a fresh pipe: {epfd, read end, write end}.
struct PipeSet {
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    int p[2]{-1, -1};
    PipeSet() {
        REQUIRE(ep >= 0);
        REQUIRE(::pipe(p) == 0);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = 42;
        REQUIRE(::epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    }
    ~PipeSet() {
        ::close(p[0]);
        ::close(p[1]);
        ::close(ep);
    }
    void feed() { gev::monkey::original::write(p[1], "x", 1); }
};

}  // namespace

TEST_CASE("epoll_wait on the caller's own set parks only its fiber until an event comes", "[monkey][epoll]") {
    run_patched([] {
        PipeSet set;
        Trace trace;
        auto writer = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) gev::sleep(1ms);
            trace.push_back("write");
            set.feed();
        });
        Watchdog rescue([&] { set.feed(); });
        epoll_event ev[4]{};
        errno = 1234;
        trace.push_back("wait");
        int n = plain_epoll_wait(set.ep, ev, 4, -1);
        trace.push_back("events " + std::to_string(n));
        writer.get();
        CHECK(trace == Trace{"wait", "write", "events 1"});
        CHECK(errno == 1234);
        CHECK(ev[0].data.u64 == 42);
        CHECK((ev[0].events & EPOLLIN) != 0);
    });
}

TEST_CASE("epoll_wait's timeout ends the park with 0 while other fibers run", "[monkey][epoll]") {
    run_patched([] {
        PipeSet set;
        epoll_event ev[4]{};
        Ticker ticker;
        CHECK(plain_epoll_wait(set.ep, ev, 4, 20) == 0);
        CHECK(ticker.finish() > 0);
        Ticker ticker2;
        timespec t{0, 20'000'000};
        CHECK(plain_epoll_pwait2(set.ep, ev, 4, &t, nullptr) == 0);
        CHECK(ticker2.finish() > 0);
        Ticker ticker3;
        CHECK(plain_epoll_pwait(set.ep, ev, 4, 20, nullptr) == 0);
        CHECK(ticker3.finish() > 0);
    });
}

TEST_CASE("epoll_pwait and epoll_pwait2 park until events too", "[monkey][epoll]") {
    run_patched([] {
        PipeSet set;
        epoll_event ev[2]{};
        auto writer = gev::spawn([&] {
            gev::sleep(1ms);
            set.feed();
        });
        Watchdog rescue([&] { set.feed(); });
        CHECK(plain_epoll_pwait(set.ep, ev, 2, -1, nullptr) == 1);
        writer.get();
        char c;
        REQUIRE(::read(set.p[0], &c, 1) == 1);
        auto writer2 = gev::spawn([&] {
            gev::sleep(1ms);
            set.feed();
        });
        CHECK(plain_epoll_pwait2(set.ep, ev, 2, nullptr, nullptr) == 1);
        writer2.get();
        CHECK(ev[0].data.u64 == 42);
    });
}

TEST_CASE("a zero timeout, a signal mask and bad arguments get the kernel's own answer", "[monkey][epoll]") {
    run_patched([] {
        PipeSet set;
        epoll_event ev[2]{};
        Ticker ticker;
        CHECK(plain_epoll_wait(set.ep, ev, 2, 0) == 0);
        timespec zero{0, 0};
        CHECK(plain_epoll_pwait2(set.ep, ev, 2, &zero, nullptr) == 0);
        sigset_t mask;
        sigemptyset(&mask);
        CHECK(plain_epoll_pwait(set.ep, ev, 2, 1, &mask) == 0);   // the real call: the thread waits 1 ms
        CHECK(ticker.finish() == 0);                              // none of them parked
        errno = 0;
        CHECK(plain_epoll_wait(-1, ev, 2, 10) == -1);
        CHECK(errno == EBADF);
        errno = 0;
        CHECK(plain_epoll_wait(set.ep, ev, 0, 10) == -1);
        CHECK(errno == EINVAL);
        errno = 0;
        CHECK(plain_epoll_wait(set.p[0], ev, 2, 10) == -1);   // not an epoll fd
        CHECK(errno == EINVAL);
        set.feed();
        CHECK(plain_epoll_wait(set.ep, ev, 2, -1) == 1);   // ready at once: no park
    });
}

TEST_CASE("two fibers may wait on the same epoll set", "[monkey][epoll]") {
    run_patched([] {
        PipeSet set;
        int woke = 0;
        auto waiter = [&] {
            epoll_event ev[1]{};
            if (plain_epoll_wait(set.ep, ev, 1, 2000) == 1) ++woke;
        };
        auto a = gev::spawn(waiter);
        auto b = gev::spawn(waiter);
        gev::sleep(1ms);
        set.feed();   // level-triggered: both see it
        a.get();
        b.get();
        CHECK(woke == 2);
    });
}

TEST_CASE("epoll_wait off a fiber is the kernel's blocking call", "[monkey][epoll]") {
    gev::monkey::patch_all();
    PipeSet set;
    int n = -2;
    std::thread t([&] {
        epoll_event ev[1]{};
        n = plain_epoll_wait(set.ep, ev, 1, 2000);
    });
    set.feed();
    t.join();
    CHECK(n == 1);
    gev::monkey::unpatch_all();
}
