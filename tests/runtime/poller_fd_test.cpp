// tests/runtime/poller_fd_test.cpp — the poller's per-fd bookkeeping on one hub: a
// number closed behind the hub's back (from a plain thread) and reused, a socket
// detached and waited on again, and close() while the kernel holds an operation.
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace std::chrono_literals;
using gev::net::Socket;

namespace {

std::pair<Socket, Socket> socket_pair() {
    int p[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) == 0);
    return {Socket::adopt(p[0]), Socket::adopt(p[1])};
}

// A socket whose fd is `number` (dup2 onto it), and its peer.
std::pair<Socket, Socket> socket_pair_at(int number) {
    auto [a, b] = socket_pair();
    if (a.fileno() == number) return {std::move(a), std::move(b)};
    REQUIRE(::dup2(a.fileno(), number) == number);
    return {Socket::adopt(number), std::move(b)};
}

// Parks on s until it times out, so the hub's poller registers s's fd.
void wait_once(Socket& s) {
    std::array<std::byte, 8> buf;
    s.set_timeout(5ms);
    REQUIRE_THROWS_AS(s.recv(buf), gev::net::SocketTimeout);
}

}  // namespace

TEST_CASE("a number closed from a plain thread and reused on the hub can be waited on", "[runtime][poller]") {
    gev::testing::run([] {
        auto [a, peer] = socket_pair();
        wait_once(a);
        int number = a.fileno();
        std::thread([s = std::move(a)]() mutable { s.close(); }).join();
        auto [b, b_peer] = socket_pair_at(number);
        b.set_timeout(2s);
        auto writer = gev::spawn([&b_peer] {
            gev::sleep(2ms);
            b_peer.sendall("fresh");
        });
        REQUIRE(b.recv(16) == "fresh");   // before the fix: SocketTimeout (no EPOLL_CTL_ADD)
        writer.join();
    });
}

TEST_CASE("a detached socket's fd can be adopted and waited on again", "[runtime][poller]") {
    gev::testing::run([] {
        auto [a, peer] = socket_pair();
        wait_once(a);
        Socket again = Socket::adopt(a.detach());
        again.set_timeout(2s);
        auto writer = gev::spawn([&peer] {
            gev::sleep(2ms);
            peer.sendall("still here");
        });
        REQUIRE(again.recv(16) == "still here");
        writer.join();
    });
}

TEST_CASE("events of a closed file that is still open elsewhere do not wake the number's new waiter",
          "[runtime][poller]") {
    gev::testing::run([] {
        auto [a, a_peer] = socket_pair();
        wait_once(a);
        int number = a.fileno();
        int keep = ::dup(number);   // the old file lives on under another number
        REQUIRE(keep >= 0);
        std::thread([s = std::move(a)]() mutable { s.close(); }).join();
        auto [b, b_peer] = socket_pair_at(number);
        b.set_timeout(2s);
        auto writer = gev::spawn([&] {
            gev::sleep(2ms);
            a_peer.sendall("old");   // readiness of the old file: must not be taken for b's
            gev::sleep(2ms);
            b_peer.sendall("new");
        });
        REQUIRE(b.recv(16) == "new");
        writer.join();
        ::close(keep);
    });
}

TEST_CASE("close returns only once the kernel has let go of the socket", "[runtime][poller]") {
    gev::testing::run([] {
        auto [a, peer] = socket_pair();
        std::string got = "unset";
        auto reader = gev::spawn([&a, &got] {
            try {
                got = a.recv(16);
            } catch (const gev::net::SocketError& e) {
                got = e.what();
            }
        });
        gev::sleep(1ms);   // the reader's recv is now with the kernel (io_uring) or parked (epoll)
        a.close();
        // Before the fix (io_uring), an in-flight recv still held the file: the peer did
        // not see the end of the stream until the cancellation was submitted later.
        char c;
        REQUIRE(::recv(peer.fileno(), &c, 1, MSG_DONTWAIT) == 0);
        reader.join();
        REQUIRE(got.find("closed by another fiber") != std::string::npos);
    });
}

TEST_CASE("closing a listener with an accept in flight frees its port at once", "[runtime][poller]") {
    gev::testing::run([] {
        Socket l(AF_INET);
        l.bind(gev::net::Address("127.0.0.1", 0));
        l.listen();
        auto addr = l.local_address();
        auto acceptor = gev::spawn([&l] {
            try {
                l.accept();
            } catch (const gev::net::SocketError&) {
            }
        });
        gev::sleep(1ms);
        l.close();
        Socket again(AF_INET);
        REQUIRE_NOTHROW(again.bind(addr));   // before the fix (io_uring): EADDRINUSE
        again.listen();
        acceptor.join();
    });
}
