// examples/fiber_dump.cpp — seeing every fiber (gevent's format_run_info, Go's SIGQUIT
// goroutine dump): a few fibers park on different things — a sleep, an Event, a recv,
// a join, one not started yet — and main prints gev::format_run_info(): one line per
// fiber with its hub, state, what it waits for, its age and where it was spawned.
// With --sigquit it prints its pid and waits; `kill -QUIT <pid>` writes the same dump
// to stderr and the program goes on (--seconds S ends it).
// Run: build/examples/fiber_dump [--threads 2] [--sigquit --seconds 30]
#include "gev.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    unsigned threads = 1;
    bool sigquit = false;
    double seconds = 10;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--sigquit")) sigquit = true;
        else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    }
    return gev::run([&] {
        gev::Event never;
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;
        gev::net::Socket quiet = gev::net::Socket::adopt(fds[0]), peer = gev::net::Socket::adopt(fds[1]);

        auto sleeper = gev::spawn({.name = "sleeper"}, [] { gev::sleep(90s); });
        auto waiter = gev::spawn({.name = "waiter"}, [&] { never.wait(); });
        auto reader = gev::spawn({.name = "reader"}, [&] {
            std::array<char, 16> buf;
            quiet.recv(buf);   // nobody writes: parks in recv
        });
        auto joiner = gev::spawn({.name = "joiner"}, [&] { sleeper.join(); });
        if (threads > 1) gev::spawn_on(1, [] { gev::sleep(60s); });   // killed when main returns
        gev::sleep(10ms);   // let them all reach their parks
        auto later = gev::spawn_later(1h, [] {});   // spawned, not started

        if (sigquit) {
            auto dump = gev::enable_sigquit_dump();
            std::printf("pid %d: kill -QUIT %d prints the dump; ending in %g s\n", ::getpid(), ::getpid(), seconds);
            std::fflush(stdout);
            gev::sleep(std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(seconds)));
        } else {
            std::fputs(gev::format_run_info().c_str(), stdout);
        }
        gev::killall({sleeper, waiter, reader, joiner});
        later.kill();
        return 0;
    }, {.threads = threads});
}
