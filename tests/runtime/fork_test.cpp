// tests/runtime/fork_test.cpp — gev::fork: in the child only the forking fiber goes on,
// on a hub of its own; the parent's hub is untouched; forking is refused where the
// child could not work (several hubs, a callback, a RawGreenlet, a held hub). Children
// report through their exit codes; every child is reaped.
#include "net/net_support.hpp"
#include "runtime/fork_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using gev::testing::ChildChecks;
using gev::testing::child_exits;
using gev::testing::reap;

TEST_CASE("in the child only the forking fiber goes on: it sleeps, spawns and keeps its Timeout; the other fibers never run there",
          "[runtime][fork]") {
    bool other_ran = false;
    int child = -1;
    gev::testing::run([&] {
        auto other = gev::spawn([&] {
            gev::sleep(10ms);
            other_ran = true;
        });
        gev::sleep(0s);   // `other` is parked in its sleep at the fork
        // The caller's own timer: it survives in the child. 1 s, not less: forking a loaded
        // ASan process took longer than 50 ms, and the Timeout then fired before the sleep below.
        gev::Timeout limit{1s};
        pid_t pid = gev::fork();
        if (pid == 0) {
            child_exits([&] {
                ChildChecks c;
                c.expect(other.join(0s) && other.dead() && !other.exception(), 1);   // abandoned: seen as ended
                other.kill();   // a no-op: it never runs again
                auto fresh = gev::spawn([] {
                    gev::sleep(5ms);
                    return 5;
                });
                c.expect(fresh.get() == 5, 2);
                gev::sleep(20ms);
                c.expect(!other_ran, 3);
                bool fired = false;
                try {
                    gev::sleep(30s);
                } catch (const gev::Timeout& t) {
                    fired = t.is(limit);
                }
                c.expect(fired, 4);
                return c.failed;
            });
        }
        limit.cancel();
        child = reap(pid);
        other.join();
    });
    REQUIRE(child == 0);
    REQUIRE(other_ran);
}

TEST_CASE("the abandoned fibers' timers are dropped in the child: a wait nothing can end there is a LoopExit at once",
          "[runtime][fork]") {
    int child = -1;
    gev::testing::run([&] {
        auto sleeper = gev::spawn([] { gev::sleep(30s); });   // its timer would keep the child's hub busy
        gev::sleep(0s);
        pid_t pid = gev::fork();
        if (pid == 0) {
            child_exits([] {
                gev::Event never;
                try {
                    never.wait();
                } catch (const gev::LoopExit&) {
                    return 0;
                }
                return 1;
            });
        }
        child = reap(pid);
        sleeper.kill();
    });
    REQUIRE(child == 0);
}

TEST_CASE("the parent's sockets and sleeps keep working after a fork while the child uses sockets of its own",
          "[runtime][fork][net]") {
    std::string got;
    int child = -1;
    gev::testing::run([&] {
        auto pair = gev::testing::tcp_pair();
        gev::net::Socket a = std::move(pair.first), b = std::move(pair.second);
        auto reader = gev::spawn([&] { got = b.recv(std::size_t{32}); });
        gev::sleep(0s);   // the reader is parked in recv at the fork (on io_uring: in the ring)
        pid_t pid = gev::fork();
        if (pid == 0) {
            child_exits([] {
                auto own = gev::testing::tcp_pair();
                auto echo = gev::spawn([&] { own.second.sendall(own.second.recv(std::size_t{16})); });
                own.first.sendall("ping");
                std::string back = own.first.recv(std::size_t{16});
                echo.join();
                return back == "ping" ? 0 : 1;
            });
        }
        gev::sleep(5ms);
        a.sendall("after the fork");
        reader.join();
        child = reap(pid);
    });
    CHECK(got == "after the fork");
    REQUIRE(child == 0);
}

TEST_CASE("a child serves a StreamServer on a listener inherited from the parent", "[runtime][fork][net]") {
    std::string reply;
    pid_t pid = -1;
    int child = -1;
    gev::testing::run([&] {
        gev::net::Socket l = gev::testing::listener();
        gev::net::Address at = l.local_address();
        pid = gev::fork();
        if (pid == 0) {
            child_exits([&] {
                gev::Event served;
                gev::net::StreamServer server(std::move(l), [&](gev::net::Socket conn, gev::net::Address) {
                    std::string m = conn.recv(std::size_t{64});
                    conn.sendall(m + " from " + std::to_string(::getpid()));
                    served.set();
                });
                server.start();
                bool ok = served.wait(5s);
                server.stop();
                return ok ? 0 : 1;
            });
        }
        l.close();   // the parent accepts nothing on it
        gev::net::Socket c = gev::net::create_connection(at, 5s);
        c.sendall("hello");
        while (true) {
            std::string part = c.recv(std::size_t{64});
            if (part.empty()) break;
            reply += part;
        }
        child = reap(pid);
    });
    CHECK(reply == "hello from " + std::to_string(pid));
    REQUIRE(child == 0);
}

TEST_CASE("in the child gev::run returns once the forking fiber ends, and main, abandoned there, never goes on",
          "[runtime][fork]") {
    bool in_child = false;
    bool main_went_on = false;
    int child = -1;
    gev::RunOptions watched;
    watched.monitor = true;   // the watchdog's thread is the parent's: the child's hub gets its own
    int result = gev::run([&] {
        auto forker = gev::spawn([&] {
            pid_t pid = gev::fork();
            if (pid == 0) {
                in_child = true;
                gev::sleep(5ms);
                return;
            }
            child = reap(pid);
        });
        forker.join();
        main_went_on = true;
        return 5;
    }, watched);
    if (in_child) ::_exit(result == 0 && !main_went_on ? 0 : 1);
    CHECK(result == 5);
    CHECK(main_went_on);
    REQUIRE(child == 0);
}

TEST_CASE("the child starts with no signal handler: the parent's do not run there, and each process's own handlers get only its signals",
          "[runtime][fork][signal]") {
    int hits = 0;   // the parent's handler's count, in each process
    int child = -1;
    int sent = 0;
    int parent_hits_during_child = -1;
    gev::testing::run([&] {
        auto handler = gev::signal_handler(SIGUSR1, [&] { ++hits; });
        int ready[2];
        REQUIRE(::pipe2(ready, O_NONBLOCK | O_CLOEXEC) == 0);
        pid_t pid = gev::fork();
        if (pid == 0) {
            child_exits([&] {
                int own = 0;
                auto mine = gev::signal_handler(SIGUSR1, [&] { ++own; });
                ::kill(::getpid(), SIGUSR1);
                for (int i = 0; i < 500 && own == 0; ++i) gev::sleep(1ms);
                [[maybe_unused]] ssize_t w = ::write(ready[1], "r", 1);
                gev::sleep(50ms);   // meanwhile the parent signals itself: none of those is ours
                ChildChecks c;
                c.expect(own == 1, 1);
                c.expect(hits == 0, 2);
                return c.failed;
            });
        }
        gev::net::wait_read(ready[0], 5s);
        // Several, one at a time: with a pipe shared with the child, some would be read there.
        for (int i = 0; i < 5; ++i) {
            int before = hits;
            ::kill(::getpid(), SIGUSR1);
            ++sent;
            for (int k = 0; k < 100 && hits == before; ++k) gev::sleep(1ms);
        }
        parent_hits_during_child = hits;
        child = reap(pid);
        ::close(ready[0]);
        ::close(ready[1]);
    });
    REQUIRE(child == 0);
    CHECK(parent_hits_during_child == sent);
}

TEST_CASE("a signal the parent's handlers caught has its old disposition in the child until the child handles it",
          "[runtime][fork][signal]") {
    int child = -1;
    gev::testing::run([&] {
        auto handler = gev::signal_handler(SIGUSR2, [] {});
        pid_t pid = gev::fork();
        if (pid == 0) {
            child_exits([] {
                ::kill(::getpid(), SIGUSR2);   // the default action: the child ends by SIGUSR2
                gev::sleep(50ms);
                return 0;
            });
        }
        child = reap(pid);
    });
    REQUIRE(child == 128 + SIGUSR2);
}

TEST_CASE("the child's exit code reaches the parent through a pidfd wait or a waitpid job", "[runtime][fork]") {
    int through_pidfd = -1, through_job = -1;
    gev::testing::run([&] {
        pid_t a = gev::fork();
        if (a == 0) child_exits([] { return 42; });
        through_pidfd = reap(a);
        pid_t b = gev::fork();
        if (b == 0) child_exits([] {
            gev::sleep(5ms);
            return 7;
        });
        through_job = gev::testing::reap_in_thread(b);
    });
    CHECK(through_pidfd == 42);
    CHECK(through_job == 7);
}

TEST_CASE("outside gev::run gev::fork is plain fork", "[runtime][fork]") {
    pid_t pid = gev::fork();
    if (pid == 0) ::_exit(3);
    REQUIRE(pid > 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 3);
}

namespace {
// Calls gev::fork where it must be refused; a child that was made anyway exits at once
// (and the parent reaps it), so the test fails instead of running twice.
std::string refusal(std::error_code* code = nullptr) {
    try {
        pid_t pid = gev::fork();
        if (pid == 0) ::_exit(0);
        ::waitpid(pid, nullptr, 0);
        return "forked";
    } catch (const std::system_error& e) {
        if (code != nullptr) *code = e.code();
        return e.what();
    }
}
}  // namespace

TEST_CASE("forking while several hubs of gev::run run is refused with EPERM", "[runtime][fork][multi]") {
    std::string what;
    std::error_code code;
    gev::run([&] { what = refusal(&code); }, gev::testing::hubs(2));
    CHECK(code == std::errc::operation_not_permitted);
    CHECK(what.find("gev::fork: 2 hubs run in this process") == 0);
}

TEST_CASE("forking while a gev::run on another thread runs is refused with EPERM", "[runtime][fork][multi]") {
    std::atomic<bool> up{false}, stop{false};
    std::thread other([&] {
        gev::run([&] {
            up = true;
            for (int i = 0; i < 5000 && !stop; ++i) gev::sleep(1ms);
        });
    });
    while (!up) std::this_thread::sleep_for(1ms);
    std::string what;
    std::error_code code;
    gev::testing::run([&] { what = refusal(&code); });
    stop = true;
    other.join();
    CHECK(code == std::errc::operation_not_permitted);
    CHECK(what.find("hubs run in this process") != std::string::npos);
}

TEST_CASE("forking from the error handler, a RawGreenlet or while a run_in_thread job holds the hub is refused",
          "[runtime][fork]") {
    std::string from_handler, from_raw, while_held;
    std::error_code held_code;
    gev::RunOptions opts;
    opts.on_error = [&](const gev::FailureReport&) { from_handler = refusal(); };
    gev::run([&] {
        gev::spawn([] { throw std::runtime_error("boom"); }).join();
        gev::RawGreenlet raw([&] { from_raw = refusal(); });
        raw.switch_to();
        auto job = gev::spawn([] { gev::run_in_thread([] { std::this_thread::sleep_for(30ms); }); });
        gev::sleep(5ms);   // the job is running on a worker
        while_held = refusal(&held_code);
        job.join();
    }, opts);
    CHECK(from_handler.find("gev::fork: called from the error handler") == 0);
    CHECK(from_raw.find("gev::fork: called from a RawGreenlet") == 0);
    CHECK(held_code == std::errc::device_or_resource_busy);
    CHECK(while_held.find("run_in_thread job(s) hold the hub") != std::string::npos);
}
