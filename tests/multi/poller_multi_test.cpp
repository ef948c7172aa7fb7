// tests/multi/poller_multi_test.cpp — fds and several hubs: a socket closed from another
// hub wakes its waiter and frees its number for reuse on its old hub, a wait on a hub
// other than the one that holds the fd dies with a message, and a tiny io_uring ring
// under hundreds of concurrent operations and cross-hub wake-ups.
#include "debug/debug_support.hpp"
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <cstdlib>
#include <memory>
#include <string>

using gev::testing::ScopedEnv;
using namespace std::chrono_literals;
using gev::net::Socket;

namespace {

using gev::testing::hubs;

// Catch's assertions belong to hub 0's thread: helpers that run on other hubs throw.
std::pair<Socket, Socket> socket_pair() {
    int p[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) != 0)
        throw std::system_error(errno, std::generic_category(), "socketpair");
    return {Socket::adopt(p[0]), Socket::adopt(p[1])};
}

// Parks on s until it times out, so this hub's poller holds s's fd.
void wait_once(Socket& s) {
    std::array<std::byte, 8> buf;
    s.set_timeout(5ms);
    try {
        s.recv(buf);
    } catch (const gev::net::SocketTimeout&) {
        return;
    }
    throw std::runtime_error("wait_once: data arrived");
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
                if (::dup2(b.fileno(), number) != number) throw std::system_error(errno, std::generic_category(), "dup2");
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
        // Hub 1 waits through its own Socket on the same number, so the two threads never
        // touch one Socket object; it gives the number up (detach) once hub 0 closed it.
        auto reader = gev::spawn_on(1, [&got, &parked, number = a.fileno()] {
            Socket r = Socket::adopt(number);
            wait_once(r);
            r.set_timeout(5s);
            // Runs once this fiber has parked in recv: the close is then ordered after
            // every use of the fd on this hub (as ThreadSanitizer wants it).
            gev::spawn([&parked] { parked.set(); });
            try {
                got = r.recv(16);
            } catch (const gev::net::SocketError& e) {
                got = e.what();
            }
            r.detach();
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
        if (a.fileno() != 7) throw std::runtime_error("expected fd 7, got " + std::to_string(a.fileno()));
        gev::spawn_on(1, [&a] { wait_once(a); }).join();
        wait_once(a);   // on hub 0: hub 1 holds fd 7
    }, hubs(2));
}

TEST_CASE("waiting on a socket's fd from a hub other than the one holding it aborts with a message",
          "[multi][poller]") {
    // The child's fds 3..6: its stderr pipe is on 2; Catch and the runtime open a few.
    // Under ThreadSanitizer, Catch's SIGABRT handler allocates: TSan would report that
    // and exit instead of letting the child die of the abort this test expects.
    auto r = gev::testing::run_test_in_child("wrong hub child",
                                             {"TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0"});
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: fd 7 belongs to hub 1, used from hub 0") != std::string::npos);
}

namespace {

// `clients` socket-pair echoes on the calling hub, each `rounds` messages; how many
// came back intact.
int echoes(int clients, int rounds) {
    std::atomic<int> good{0};
    std::vector<gev::Greenlet<>> all;
    for (int i = 0; i < clients; ++i)
        all.push_back(gev::spawn([&good, i, rounds] {
            auto [mine, theirs] = socket_pair();
            mine.set_timeout(10s);
            auto server = gev::spawn([s = std::move(theirs)]() mutable {
                std::array<std::byte, 4096> buf;
                while (std::size_t n = s.recv(buf)) s.sendall(std::span(buf).first(n));
            });
            bool ok = true;
            for (int r = 0; r < rounds && ok; ++r) {
                std::string msg(64 + static_cast<std::size_t>(i), static_cast<char>('a' + (i + r) % 26));
                mine.sendall(msg);
                ok = mine.recv_exactly(msg.size()) == msg;
                if (r % 2 == 0) gev::sleep(std::chrono::microseconds(20 * (i % 5)));
            }
            mine.shutdown(SHUT_WR);
            server.join();
            good += ok;
        }));
    gev::joinall(all);
    return good.load();
}

// Hundreds of receivers complete at once (more completions than the ring's queue holds:
// the kernel keeps the rest back, and may end the wake-up poll) while hub 1 keeps
// waking this hub; then a last round of cross-hub wake-ups must still get through.
void burst_with_wakes() {
    constexpr int kReceivers = 400 / gev::testing::tsan_scale(4);
    std::vector<std::pair<Socket, Socket>> pairs;
    for (int i = 0; i < kReceivers; ++i) pairs.push_back(socket_pair());
    std::atomic<int> got{0};
    std::vector<gev::Greenlet<>> receivers;
    for (auto& p : pairs)
        receivers.push_back(gev::spawn([&p, &got] {
            p.first.set_timeout(10s);
            if (p.first.recv(8) == "x") ++got;
        }));
    gev::sleep(2ms);
    std::atomic<bool> stop{false};
    gev::Event hub0;
    auto waker = gev::spawn_on(1, [&] {
        while (!stop) {
            gev::spawn_on(0, [&hub0] { hub0.set(); });
            gev::sleep(50us);
        }
    });
    for (auto& p : pairs) REQUIRE(::send(p.second.fileno(), "x", 1, MSG_DONTWAIT) == 1);
    gev::joinall(receivers);
    stop = true;
    waker.join();
    REQUIRE(got == kReceivers);
    for (int i = 0; i < 20; ++i) {   // only wake-ups from hub 1 can end these waits
        gev::Event e;
        gev::spawn_on(1, [&e] { gev::spawn_on(0, [&e] { e.set(); }); });
        REQUIRE(e.wait(5s));
    }
}

}  // namespace

TEST_CASE("a ring of 4 entries on two hubs completes echoes, sleeps and cross-hub wake-ups", "[multi][poller]") {
    ScopedEnv entries("GEV_URING_ENTRIES", "4");
    constexpr int kClients = 200 / gev::testing::tsan_scale(4);
    constexpr int kPairs = 50 / gev::testing::tsan_scale(5);
    constexpr int kPings = 40;
    int good0 = 0, good1 = 0;
    std::atomic<int> pongs{0};
    gev::RunOptions o = hubs(2);
    o.spin = std::chrono::nanoseconds(0);   // idle hubs sleep in the poller: wake-ups go through it
    gev::run([&] {
        auto far = gev::spawn_on(1, [&] { good1 = echoes(kClients, 6); });
        good0 = echoes(kClients, 6);
        far.join();
        // Then only cross-hub wake-ups: a lost wake-up poll would leave a hub asleep.
        std::vector<gev::Greenlet<>> all;
        for (int p = 0; p < kPairs; ++p) {
            auto ping = std::make_shared<gev::Queue<int>>();
            auto pong = std::make_shared<gev::Queue<int>>();
            all.push_back(gev::spawn_on(1, [ping, pong] {
                for (int i = 0; i < kPings; ++i) pong->put(ping->get() + 1);
            }));
            all.push_back(gev::spawn([ping, pong, &pongs] {
                int v = 0;
                for (int i = 0; i < kPings; ++i) {
                    ping->put(v);
                    v = pong->get();
                }
                if (v == kPings) ++pongs;
            }));
        }
        gev::joinall(all);
        burst_with_wakes();
    }, o);
    REQUIRE(good0 == kClients);
    REQUIRE(good1 == kClients);
    REQUIRE(pongs == kPairs);
}
