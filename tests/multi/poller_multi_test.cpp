// tests/multi/poller_multi_test.cpp — fds and several hubs: a socket closed from another
// hub wakes its waiter and frees its number for reuse on its old hub, a wait on a hub
// other than the one that holds the fd dies with a message, and a tiny io_uring ring
// under hundreds of concurrent operations and cross-hub wake-ups.
#include "debug/debug_support.hpp"
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

using namespace std::chrono_literals;
using gev::net::Socket;

namespace {

using gev::testing::hubs;

std::pair<Socket, Socket> socket_pair() {
    int p[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) == 0);
    return {Socket::adopt(p[0]), Socket::adopt(p[1])};
}

// Parks on s until it times out, so this hub's poller holds s's fd.
void wait_once(Socket& s) {
    std::array<std::byte, 8> buf;
    s.set_timeout(5ms);
    REQUIRE_THROWS_AS(s.recv(buf), gev::net::SocketTimeout);
}

}  // namespace

TEST_CASE("a socket closed from another hub frees its number for reuse on its old hub", "[multi][poller]") {
    gev::run([] {
        auto [a, a_peer] = socket_pair();
        int number = a.fileno();
        std::string got;
        gev::spawn_on(1, [&a] { wait_once(a); }).join();
        a.close();   // from hub 0: hub 1 still held the registration
        gev::spawn_on(1, [&] {
            auto [b, b_peer] = socket_pair();
            if (b.fileno() != number) {
                REQUIRE(::dup2(b.fileno(), number) == number);
                b = Socket::adopt(number);
            }
            b.set_timeout(2s);
            auto writer = gev::spawn([&b_peer] {
                gev::sleep(2ms);
                b_peer.sendall("fresh");
            });
            got = b.recv(16);   // before the fix (epoll): SocketTimeout
            writer.join();
        }).join();
        REQUIRE(got == "fresh");
    }, hubs(2));
}

TEST_CASE("a fiber waiting on a socket another hub closes wakes with 'closed by another fiber'",
          "[multi][poller]") {
    std::string got;
    gev::run([&] {
        auto [a, a_peer] = socket_pair();
        gev::Event parked;
        auto reader = gev::spawn_on(1, [&] {
            a.set_timeout(5s);
            parked.set();
            try {
                got = a.recv(16);
            } catch (const gev::net::SocketError& e) {
                got = e.what();
            }
        });
        parked.wait();
        gev::sleep(5ms);
        a.close();   // before the fix: the reader slept until its 5 s timeout
        reader.join();
    }, hubs(2));
    REQUIRE(got.find("closed by another fiber") != std::string::npos);
}

TEST_CASE("wrong hub child", "[.]") {
    gev::run([] {
        auto [a, a_peer] = socket_pair();
        REQUIRE(a.fileno() == 7);
        gev::spawn_on(1, [&a] { wait_once(a); }).join();
        wait_once(a);   // on hub 0: hub 1 holds fd 7
    }, hubs(2));
}

TEST_CASE("waiting on a socket's fd from a hub other than the one holding it aborts with a message",
          "[multi][poller]") {
    // The child's fds 3..6: its stderr pipe is on 2; Catch and the runtime open a few.
    auto r = gev::testing::run_test_in_child("wrong hub child", {});
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: fd 7 belongs to hub 1, used from hub 0") != std::string::npos);
}
