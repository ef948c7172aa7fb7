// tests/net/errors_test.cpp — how socket calls fail: a refused connect, the per-socket
// timeout, gev::Timeout scopes, kill while parked in recv/accept/connect (the operation
// is cancelled, destructors run, nothing leaks), a socket closed under a waiting fiber,
// two fibers on one side of a socket, and wait_read/wait_write on a pipe.
// A connect that must stay pending targets a loopback listener whose queue is full.
#include "net_support.hpp"

#include <array>
#include <vector>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::Socket;
using gev::net::SocketError;
using gev::net::SocketTimeout;
using namespace gev::testing;

namespace {

// Sets a flag when the fiber that owns it unwinds.
struct Unwound {
    bool& flag;
    ~Unwound() { flag = true; }
};

// A loopback listener that never accepts, whose accept queue is full: a further
// connect stays pending (the kernel drops its SYN) until it is cancelled.
struct FullBacklog {
    Socket listener = gev::testing::listener("127.0.0.1", 0);
    std::vector<Socket> fillers;
    Address address() const { return listener.local_address(); }
};

FullBacklog full_backlog() {
    FullBacklog b;
    for (int i = 0; i < 16; ++i) {
        Socket s(AF_INET, SOCK_STREAM);
        if (!gev::silent_timeout(50ms, [&] { s.connect(b.address()); })) return b;
        b.fillers.push_back(std::move(s));
    }
    FAIL("the listen queue never filled after 16 connections");
    return b;
}

// What a fiber parked on `wait` ended with: the errno and message of a SocketError,
// or "returned".
template <class F>
gev::Greenlet<std::pair<int, std::string>> spawn_waiter(F wait) {
    return gev::spawn([wait] {
        try {
            wait();
        } catch (const SocketError& e) {
            return std::pair<int, std::string>(e.code().value(), e.what());
        }
        return std::pair<int, std::string>(0, "returned");
    });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("connect to a closed port throws SocketError 'connect 127.0.0.1:<port>: Connection refused'",
          "[net][errors]") {
    run([] {
        std::uint16_t port = closed_port();
        Socket s(AF_INET, SOCK_STREAM);
        try {
            s.connect(Address("127.0.0.1", port));
            FAIL("connected to a closed port");
        } catch (const SocketError& e) {
            INFO(e.what());
            REQUIRE(e.code().value() == ECONNREFUSED);
            REQUIRE(e.code() == std::errc::connection_refused);
            REQUIRE(contains(e.what(), "connect 127.0.0.1:" + std::to_string(port)));
            REQUIRE(contains(e.what(), "Connection refused"));
        }
        REQUIRE_THROWS_AS(gev::net::create_connection("127.0.0.1", port), SocketError);
    });
}

TEST_CASE("set_timeout makes a recv that waits longer throw SocketTimeout (ETIMEDOUT)", "[net][errors]") {
    run([] {
        auto [c, s] = tcp_pair();
        s.set_timeout(30ms);
        std::array<char, 16> buf;
        try {
            s.recv(buf);
            FAIL("recv returned with nothing sent");
        } catch (const SocketTimeout& e) {
            const SocketError& as_socket_error = e;
            const std::system_error& as_system_error = e;
            REQUIRE(as_socket_error.code().value() == ETIMEDOUT);
            REQUIRE(as_system_error.code() == std::errc::timed_out);
            REQUIRE(contains(e.what(), "recv"));
        }
        c.sendall("late");   // the socket still works after a timeout
        REQUIRE(s.recv_exactly(4) == "late");
        Socket l = listener();
        l.set_timeout(20ms);
        REQUIRE_THROWS_AS(l.accept(), SocketTimeout);
        FullBacklog full = full_backlog();
        Socket pending(AF_INET, SOCK_STREAM);
        pending.set_timeout(20ms);
        REQUIRE_THROWS_AS(pending.connect(full.address()), SocketTimeout);
    });
}

TEST_CASE("a gev::Timeout scope around recv, accept or connect raises gev::Timeout", "[net][errors]") {
    run([] {
        int before = count_fds();
        {
            auto [c, s] = tcp_pair();
            Socket l = listener();
            FullBacklog full = full_backlog();
            Socket pending(AF_INET, SOCK_STREAM);
            std::array<char, 16> buf;
            auto times_out = [](auto&& call) {
                gev::Timeout scope{20ms};
                try {
                    call();
                } catch (const gev::Timeout& t) {
                    return t.is(scope);
                }
                return false;
            };
            REQUIRE(times_out([&] { s.recv(buf); }));
            REQUIRE(times_out([&] { l.accept(); }));
            REQUIRE(times_out([&] { pending.connect(full.address()); }));
            // The recv and accept were cancelled, not left behind to steal what comes next.
            s.set_timeout(1s);
            c.sendall("after");
            REQUIRE(s.recv_exactly(5) == "after");
            Socket late(AF_INET, SOCK_STREAM);
            late.connect(l.local_address());
            l.set_timeout(1s);
            auto [conn, peer] = l.accept();
            REQUIRE(peer == late.local_address());
        }
        REQUIRE(count_fds() == before);
    });
}

TEST_CASE("kill while parked in recv cancels it: destructors run, the socket works, no fd leaks",
          "[net][errors][kill]") {
    run([] {
        int before = count_fds();
        {
            auto [c, s] = tcp_pair();
            bool unwound = false;
            auto g = gev::spawn([&] {
                Unwound u{unwound};
                std::array<char, 16> buf;
                s.recv(buf);
                FAIL("recv returned with nothing sent");
            });
            gev::sleep(0ns);   // g runs and parks in recv
            REQUIRE(!g.ready());
            g.kill();
            REQUIRE(g.dead());
            REQUIRE(g.successful());
            REQUIRE(unwound);
            s.set_timeout(1s);
            c.sendall("after kill");
            REQUIRE(s.recv_exactly(10) == "after kill");
        }
        REQUIRE(count_fds() == before);
    });
}

TEST_CASE("kill while parked in accept cancels it: the next accept gets the next client, no fd leaks",
          "[net][errors][kill]") {
    run([] {
        int before = count_fds();
        {
            Socket l = listener();
            bool unwound = false;
            auto g = gev::spawn([&] {
                Unwound u{unwound};
                l.accept();
                FAIL("accept returned with no client");
            });
            gev::sleep(0ns);
            REQUIRE(!g.ready());
            g.kill();
            REQUIRE(g.successful());
            REQUIRE(unwound);
            Socket c(AF_INET, SOCK_STREAM);
            c.connect(l.local_address());
            l.set_timeout(1s);
            auto [conn, peer] = l.accept();
            REQUIRE(peer == c.local_address());
            conn.sendall("welcome");
            c.set_timeout(1s);
            REQUIRE(c.recv_exactly(7) == "welcome");
        }
        REQUIRE(count_fds() == before);
    });
}

TEST_CASE("kill while parked in connect cancels it: destructors run, the socket closes, no fd leaks",
          "[net][errors][kill]") {
    run([] {
        int before = count_fds();
        {
            FullBacklog full = full_backlog();
            Socket victim(AF_INET, SOCK_STREAM);
            bool unwound = false;
            auto g = gev::spawn([&] {
                Unwound u{unwound};
                victim.connect(full.address());
                FAIL("connect completed against a full queue");
            });
            gev::sleep(0ns);
            REQUIRE(!g.ready());
            g.kill();
            REQUIRE(g.successful());
            REQUIRE(unwound);
            int fd = victim.fileno();
            victim.close();
            REQUIRE(fd_is_closed(fd));
            full.listener.set_timeout(1s);
            for (std::size_t i = 0; i < full.fillers.size(); ++i) full.listener.accept();   // still serves
        }
        REQUIRE(count_fds() == before);
    });
}

TEST_CASE("closing a socket another fiber waits on wakes it with SocketError EBADF 'closed by another fiber'",
          "[net][errors]") {
    const std::string flood(4 << 20, 'x');
    run([&] {
        auto [c, s] = tcp_pair();
        c.setsockopt<int>(SOL_SOCKET, SO_SNDBUF, 4096);
        s.setsockopt<int>(SOL_SOCKET, SO_RCVBUF, 4096);
        Socket l = listener();
        gev::Greenlet<std::pair<int, std::string>> waiter;
        Socket* victim = nullptr;
        SECTION("recv") {
            waiter = spawn_waiter([&s] { std::array<char, 16> buf; s.recv(buf); });
            victim = &s;
        }
        SECTION("accept") {
            waiter = spawn_waiter([&l] { l.accept(); });
            victim = &l;
        }
        SECTION("sendall into a full buffer") {
            waiter = spawn_waiter([&c, &flood] { c.sendall(flood); });
            victim = &c;
        }
        gev::sleep(5ms);   // the waiter parks and the hub hands its wait to the poller
        REQUIRE(!waiter.ready());
        victim->close();
        auto [err, what] = waiter.get(1s);
        INFO(what);
        REQUIRE(err == EBADF);
        REQUIRE(contains(what, "closed by another fiber"));
    });
}

// Found under io_uring: the waiter's SQE is still queued when close() runs, so it is
// submitted later against whatever the fd number means by then.
TEST_CASE("a recv cut short by close() in the turn it parked never reads from a socket reusing its fd",
          "[net][errors]") {
    run([] {
        auto [c, s] = tcp_pair();
        int old_fd = s.fileno();
        auto waiter = gev::spawn([&s] {
            try {
                return "recv returned '" + s.recv(std::size_t{64}) + "'";
            } catch (const SocketError& e) {
                return std::string(e.what());
            }
        });
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        gev::sleep(0ns);   // the waiter parks in recv; nothing else happens in between
        s.close();
        REQUIRE(::dup3(sv[0], old_fd, O_CLOEXEC) == old_fd);   // an unrelated socket takes the number
        ::close(sv[0]);
        Socket reused = Socket::adopt(old_fd), other = Socket::adopt(sv[1]);
        REQUIRE(::send(other.fileno(), "unrelated secret", 16, 0) == 16);   // before the hub's next turn
        std::string what = waiter.get(1s);
        std::array<char, 64> buf{};
        ssize_t n = ::recv(reused.fileno(), buf.data(), buf.size(), MSG_DONTWAIT);
        INFO("the waiter saw: " << what);
        CHECK(contains(what, "closed by another fiber"));
        REQUIRE(std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0) == "unrelated secret");
    });
}

TEST_CASE("two fibers receiving on one socket at once: the second gets ConcurrentObjectUseError",
          "[net][errors]") {
    run([] {
        auto [c, s] = tcp_pair();
        auto first = gev::spawn([&s] { return s.recv(std::size_t{16}); });
        gev::sleep(0ns);   // first parks in recv
        std::string message;
        try {
            s.recv(std::size_t{16});
            FAIL("a second recv on the same socket was allowed");
        } catch (const gev::ConcurrentObjectUseError& e) {
            const std::system_error& as_system_error = e;
            message = as_system_error.what();
        }
        INFO(message);
        REQUIRE(contains(message, "fd " + std::to_string(s.fileno())));
        c.sendall("for the first");   // the first waiter is undisturbed
        REQUIRE(first.get(1s) == "for the first");
        auto writer = gev::spawn([&s] { s.sendall("other side"); });   // the write side is separate
        REQUIRE(c.recv_exactly(10) == "other side");
        writer.get(1s);
    });
}

// Found under io_uring ("submit" mode): every send parks while its SQE is in flight,
// so a second sender gets ConcurrentObjectUseError though neither had to wait.
TEST_CASE("two fibers sending on one socket with room to spare both succeed: only waiting is exclusive",
          "[net][errors]") {
    run([] {
        Socket a(AF_INET, SOCK_DGRAM), b(AF_INET, SOCK_DGRAM);
        a.bind(Address("127.0.0.1", 0));
        b.bind(Address("127.0.0.1", 0));
        auto [c, s] = tcp_pair();
        std::vector<std::string> errors;
        auto send = [&](int i) {
            try {
                a.sendto("datagram " + std::to_string(i), b.local_address());
                c.sendall("stream" + std::to_string(i));
            } catch (const std::system_error& e) {
                errors.push_back(e.what());
            }
        };
        std::vector<gev::Greenlet<>> senders;
        for (int i = 0; i < 3; ++i) senders.push_back(gev::spawn(send, i));
        gev::joinall(senders, 1s);
        INFO((errors.empty() ? std::string("no errors") : errors.front()));
        REQUIRE(errors.empty());
        b.set_timeout(1s);
        std::array<std::byte, 64> buf;
        for (int i = 0; i < 3; ++i) REQUIRE(b.recvfrom(buf).first == 10);
        s.set_timeout(1s);
        REQUIRE(s.recv_exactly(21).size() == 21);
    });
}

TEST_CASE("wait_read and wait_write on a pipe return when ready and throw SocketTimeout otherwise",
          "[net][errors][wait]") {
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    run([&] {
        REQUIRE_THROWS_AS(gev::net::wait_read(p[0], 20ms), SocketTimeout);
        gev::net::wait_write(p[1], 20ms);   // an empty pipe is writable
        auto writer = gev::spawn([&] {
            gev::sleep(5ms);
            REQUIRE(::write(p[1], "x", 1) == 1);
        });
        gev::net::wait_read(p[0], 1s);   // parks only this fiber: the writer runs meanwhile
        REQUIRE(writer.ready());
        char c;
        REQUIRE(::read(p[0], &c, 1) == 1);
        std::string chunk(65536, 'y');
        std::size_t filled = 0;
        for (int i = 0; i < 1024; ++i) {   // fill the pipe
            ssize_t n = ::write(p[1], chunk.data(), chunk.size());
            if (n < 0) break;
            filled += static_cast<std::size_t>(n);
        }
        REQUIRE(filled > 0);
        REQUIRE_THROWS_AS(gev::net::wait_write(p[1], 20ms), SocketTimeout);
        auto reader = gev::spawn([&] {
            std::string sink(filled, '\0');
            std::size_t got = 0;
            for (int i = 0; i < 1024 && got < filled; ++i) {
                ssize_t n = ::read(p[0], sink.data(), sink.size());
                if (n > 0) got += static_cast<std::size_t>(n);
                else gev::sleep(1ms);
            }
        });
        gev::net::wait_write(p[1], 1s);
        reader.get(1s);
    });
    ::close(p[0]);
    ::close(p[1]);
}
