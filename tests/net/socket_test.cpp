// tests/net/socket_test.cpp — gev::net::Socket over every family it supports (TCP v4
// and v6, UDP, Unix stream and datagram), end of stream, recv_exactly, large sendall,
// half-close, options, move-only ownership and addresses. Loopback and temp paths only.
#include "net_support.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <array>
#include <type_traits>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::Socket;
using gev::net::SocketError;
using namespace gev::testing;

namespace {

// Accepts one connection and echoes it until the peer closes.
gev::Greenlet<> echo_one(Socket& l) {
    return gev::spawn([&l] {
        auto [conn, peer] = l.accept();
        std::array<char, 4096> buf;
        while (std::size_t n = conn.recv(buf)) conn.sendall(std::string_view(buf.data(), n));
    });
}

void stream_echo_round_trips(Socket& client) {
    for (int i = 0; i < 10; ++i) {
        std::string msg = "hello " + std::to_string(i);
        client.sendall(msg);
        REQUIRE(client.recv_exactly(msg.size()) == msg);
    }
}

// 0, 1, 2, ... 250, 0, ...: a pattern whose every byte can be checked.
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
    return s;
}

}  // namespace

TEST_CASE("TCP over IPv4 echoes through a listening socket", "[net][socket]") {
    run([] {
        Socket l = listener("127.0.0.1");
        auto server = echo_one(l);
        Socket c(AF_INET, SOCK_STREAM);
        c.connect(l.local_address());
        stream_echo_round_trips(c);
        c.close();
        server.get(2s);
    });
}

TEST_CASE("TCP over IPv6 echoes on [::1]", "[net][socket]") {
    run([] {
        Socket l = listener("::1");
        REQUIRE(l.local_address().family() == AF_INET6);
        auto server = echo_one(l);
        Socket c(AF_INET6, SOCK_STREAM);
        c.connect(Address("[::1]:" + std::to_string(l.local_address().port())));
        stream_echo_round_trips(c);
        REQUIRE(c.peer_address().to_string() == l.local_address().to_string());
        c.close();
        server.get(2s);
    });
}

TEST_CASE("UDP sendto and recvfrom carry datagrams and the sender's address", "[net][socket]") {
    run([] {
        Socket a(AF_INET, SOCK_DGRAM), b(AF_INET, SOCK_DGRAM);
        a.bind(Address("127.0.0.1", 0));
        b.bind(Address("127.0.0.1", 0));
        auto echo = gev::spawn([&b] {
            std::array<std::byte, 2048> buf;
            for (int i = 0; i < 3; ++i) {
                auto [n, from] = b.recvfrom(buf);
                b.sendto(std::span<const std::byte>(buf).first(n), from);
            }
        });
        std::array<std::byte, 2048> buf;
        for (std::string msg : {"one", "two datagrams", ""}) {
            REQUIRE(a.sendto(msg, b.local_address()) == msg.size());
            auto [n, from] = a.recvfrom(buf);
            REQUIRE(std::string(reinterpret_cast<const char*>(buf.data()), n) == msg);
            REQUIRE(from == b.local_address());
        }
        echo.get(2s);
    });
}

TEST_CASE("Unix stream sockets echo through a path in a temp dir", "[net][socket]") {
    TempDir dir;
    std::string path = dir / "stream.sock";
    run([&] {
        Socket l(AF_UNIX, SOCK_STREAM);
        l.bind(Address(path));
        l.listen();
        REQUIRE(l.local_address().to_string() == path);
        auto server = echo_one(l);
        Socket c(AF_UNIX, SOCK_STREAM);
        c.connect(Address::unix_path(path));
        stream_echo_round_trips(c);
        c.close();
        server.get(2s);
    });
}

TEST_CASE("Unix datagram sockets carry datagrams between two bound paths", "[net][socket]") {
    TempDir dir;
    std::string pa = dir / "a.sock", pb = dir / "b.sock";
    run([&] {
        Socket a(AF_UNIX, SOCK_DGRAM), b(AF_UNIX, SOCK_DGRAM);
        a.bind(Address(pa));
        b.bind(Address(pb));
        auto reply = gev::spawn([&b] {
            std::array<std::byte, 256> buf;
            auto [n, from] = b.recvfrom(buf);
            b.sendto(std::span<const std::byte>(buf).first(n), from);
            return from.to_string();
        });
        a.sendto("ping over a path", Address(pb));
        std::array<std::byte, 256> buf;
        auto [n, from] = a.recvfrom(buf);
        REQUIRE(std::string(reinterpret_cast<const char*>(buf.data()), n) == "ping over a path");
        REQUIRE(from.to_string() == pb);
        REQUIRE(reply.get(2s) == pa);
    });
}

TEST_CASE("recv returns 0 at end of stream, not an error, and keeps returning 0", "[net][socket]") {
    run([] {
        auto [c, s] = tcp_pair();
        c.sendall("last words");
        c.close();
        REQUIRE(s.recv_exactly(10) == "last words");
        std::array<char, 64> buf;
        REQUIRE(s.recv(buf) == 0);
        REQUIRE(s.recv(buf) == 0);
        REQUIRE(s.recv(std::size_t{16}).empty());
    });
}

TEST_CASE("recv_exactly gathers several sends and throws IncompleteRead if the stream ends first",
          "[net][socket]") {
    run([] {
        auto [c, s] = tcp_pair();
        c.set_nodelay();
        auto writer = gev::spawn([&c] {
            for (const char* part : {"ab", "cde", "f", "ghij"}) {
                c.sendall(part);
                gev::sleep(1ms);
            }
            c.sendall("xyz");
            c.shutdown(SHUT_WR);
        });
        REQUIRE(s.recv_exactly(10) == "abcdefghij");
        try {
            s.recv_exactly(5);
            FAIL("recv_exactly returned past the end of the stream");
        } catch (const gev::net::IncompleteRead& e) {
            REQUIRE(e.partial() == "xyz");
            REQUIRE(std::string(e.what()).find("3 of 5") != std::string::npos);
        }
        writer.get(2s);
    });
}

TEST_CASE("sendall of several MB reaches a reader that reads slowly", "[net][socket]") {
    const std::string data = pattern(6 << 20);
    run([&] {
        auto [c, s] = tcp_pair();
        bool sent = false;
        auto writer = gev::spawn([&] {
            c.sendall(data);
            sent = true;
            c.shutdown(SHUT_WR);
        });
        std::string got;
        std::array<char, 64 * 1024> buf;
        bool parked_writer_seen = false;
        for (int reads = 0; reads < 100000; ++reads) {
            std::size_t n = s.recv(buf);
            if (n == 0) break;
            got.append(buf.data(), n);
            if (reads % 8 == 0) {
                if (!sent) parked_writer_seen = true;   // the writer is still parked in sendall
                gev::sleep(1ms);
            }
        }
        REQUIRE(sent);
        REQUIRE(parked_writer_seen);
        REQUIRE(got.size() == data.size());
        REQUIRE(got == data);
        writer.get(2s);
    });
}

TEST_CASE("shutdown(SHUT_WR) half-closes: the server reads EOF and still sends its reply", "[net][socket]") {
    run([] {
        Socket l = listener();
        auto server = gev::spawn([&l] {
            auto [conn, peer] = l.accept();
            std::string request;
            std::array<char, 1024> buf;
            while (std::size_t n = conn.recv(buf)) request.append(buf.data(), n);   // until EOF
            conn.sendall("got " + std::to_string(request.size()) + " bytes: " + request);
        });
        Socket c(AF_INET, SOCK_STREAM);
        c.connect(l.local_address());
        c.sendall("question");
        c.shutdown(SHUT_WR);
        std::string reply;
        std::array<char, 1024> buf;
        while (std::size_t n = c.recv(buf)) reply.append(buf.data(), n);
        REQUIRE(reply == "got 8 bytes: question");
        server.get(2s);
    });
}

TEST_CASE("socket options round trip: SO_REUSEADDR and TCP_NODELAY", "[net][socket]") {
    run([] {
        Socket s(AF_INET, SOCK_STREAM);
        s.set_reuse_address(true);
        REQUIRE(s.getsockopt<int>(SOL_SOCKET, SO_REUSEADDR) != 0);
        s.set_reuse_address(false);
        REQUIRE(s.getsockopt<int>(SOL_SOCKET, SO_REUSEADDR) == 0);
        s.set_nodelay(true);
        REQUIRE(s.getsockopt<int>(IPPROTO_TCP, TCP_NODELAY) != 0);
        s.set_nodelay(false);
        REQUIRE(s.getsockopt<int>(IPPROTO_TCP, TCP_NODELAY) == 0);
        s.setsockopt<int>(SOL_SOCKET, SO_SNDBUF, 65536);
        REQUIRE(s.getsockopt<int>(SOL_SOCKET, SO_SNDBUF) >= 65536);
        Socket u(AF_INET, SOCK_DGRAM);
        REQUIRE_THROWS_AS(u.set_nodelay(), SocketError);   // not a TCP socket
    });
}

TEST_CASE("Socket is move-only and a move hands the fd over", "[net][socket]") {
    static_assert(!std::is_copy_constructible_v<Socket>);
    static_assert(!std::is_copy_assignable_v<Socket>);
    static_assert(std::is_nothrow_move_constructible_v<Socket>);
    static_assert(std::is_nothrow_move_assignable_v<Socket>);
    run([] {
        Socket a(AF_INET, SOCK_STREAM);
        int fd = a.fileno();
        a.set_timeout(5s);
        Socket b(std::move(a));
        REQUIRE(!a);   // NOLINT(bugprone-use-after-move): the moved-from state is specified
        REQUIRE(a.fileno() == -1);
        REQUIRE(b.fileno() == fd);
        REQUIRE(b.timeout() == gev::MaybeDuration(5s));
        Socket c(AF_INET, SOCK_STREAM);
        int other = c.fileno();
        c = std::move(b);   // c's old fd is closed, b's is taken
        REQUIRE(c.fileno() == fd);
        REQUIRE(fd_is_closed(other));
        REQUIRE(!fd_is_closed(fd));
    });
}

TEST_CASE("a Socket closes its fd on destruction and close() is idempotent", "[net][socket]") {
    run([] {
        int fd = -1;
        {
            Socket s(AF_INET, SOCK_STREAM);
            fd = s.fileno();
            REQUIRE(!fd_is_closed(fd));
        }
        REQUIRE(fd_is_closed(fd));
        Socket t(AF_INET6, SOCK_DGRAM);
        fd = t.fileno();
        t.close();
        REQUIRE(fd_is_closed(fd));
        REQUIRE(!t);
        t.close();
        int raw = Socket(AF_INET, SOCK_STREAM).detach();   // detach gives up ownership
        REQUIRE(!fd_is_closed(raw));
        Socket adopted = Socket::adopt(raw);
        REQUIRE((::fcntl(raw, F_GETFL) & O_NONBLOCK) != 0);
        adopted = Socket();
        REQUIRE(fd_is_closed(raw));
    });
}

TEST_CASE("local_address and peer_address name both ends of a connection", "[net][socket]") {
    run([] {
        Socket l = listener();
        Socket c(AF_INET, SOCK_STREAM);
        c.connect(l.local_address());
        auto [s, peer] = l.accept();
        REQUIRE(c.peer_address() == l.local_address());
        REQUIRE(s.local_address() == l.local_address());
        REQUIRE(s.peer_address() == c.local_address());
        REQUIRE(peer == c.local_address());
        REQUIRE(peer.host() == "127.0.0.1");
        REQUIRE(peer.port() != 0);
        REQUIRE(c.local_address().to_string() == "127.0.0.1:" + std::to_string(peer.port()));
        Socket unconnected(AF_INET, SOCK_STREAM);
        REQUIRE_THROWS_AS(unconnected.peer_address(), SocketError);
    });
}
