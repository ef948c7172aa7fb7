// tests/net/tls_fault_test.cpp — kill and Timeout at TlsSocket's park points: a recv
// that was only waiting stays usable; an interrupted handshake or half-written send
// leaves the connection unusable with a clear error; no fd leaks either way.
#include "tls_support.hpp"

#include <array>

using namespace std::chrono_literals;
using gev::net::SocketError;
using gev::net::SocketTimeout;
using gev::net::TlsContext;
using gev::net::TlsRole;
using gev::net::TlsSocket;
using namespace gev::testing;

namespace {

struct Contexts {
    TlsContext server{TlsRole::server};
    TlsContext client{TlsRole::client};
    Contexts() {
        server_ctx_for(server);
        client_ctx_trusting(client);
    }
};

// A handshaken pair: {client, server}.
std::pair<TlsSocket, TlsSocket> connected(Contexts& x) {
    auto [c, s] = tcp_pair();
    TlsSocket client(std::move(c), x.client, "localhost"), server(std::move(s), x.server);
    auto g = gev::spawn([&] { server.handshake(); });
    client.handshake();
    g.join();
    return {std::move(client), std::move(server)};
}

}  // namespace

TEST_CASE("a Timeout during a recv leaves the TLS connection usable", "[net][tls][timeout]") {
    TestPki::get();
    run([] {
        Contexts x;
        auto [client, server] = connected(x);
        {
            gev::Timeout t(20ms);
            REQUIRE_THROWS_AS(client.recv(100), gev::Timeout);
        }
        REQUIRE_FALSE(client.broken());
        client.set_timeout(20ms);
        REQUIRE_THROWS_AS(client.recv(100), SocketTimeout);
        client.set_timeout(gev::forever);
        server.sendall("still fine");
        REQUIRE(client.recv_exactly(10) == "still fine");
    });
}

TEST_CASE("a kill mid-recv ends the fiber and the socket closes without a leak", "[net][tls][kill]") {
    TestPki::get();
    int before = count_fds();
    run([] {
        Contexts x;
        auto [client, server] = connected(x);
        bool reached = false;
        auto reader = gev::spawn([&, c = std::move(client)]() mutable {
            reached = true;
            c.recv(100);
        });
        gev::sleep(0ms);
        REQUIRE(reached);
        reader.kill();
        REQUIRE(reader.dead());
        REQUIRE(server.recv(100).empty());   // the killed fiber's socket closed with close_notify
    });
    REQUIRE(count_fds() == before);
}

TEST_CASE("a Timeout and a kill in the middle of a large read leave the stream intact", "[net][tls][timeout]") {
    TestPki::get();
    run([] {
        Contexts x;
        auto [client, server] = connected(x);
        std::string data(1 << 20, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
        auto sender = gev::spawn([&] {
            for (std::size_t at = 0; at < data.size(); at += 4096) {
                server.sendall(std::string_view(data).substr(at, 4096));
                gev::sleep(at % (64 * 4096) == 0 ? 1ms : 0ms);   // the reader catches up and waits now and then
            }
        });
        std::string got;
        int timeouts = 0;
        while (got.size() < data.size()) {
            gev::Timeout t(1ms);
            try {
                while (got.size() < data.size()) got += client.recv(16384);
            } catch (const gev::Timeout& e) {
                REQUIRE(e.is(t));
                ++timeouts;
            }
        }
        REQUIRE(timeouts > 0);
        REQUIRE(got == data);
        REQUIRE_FALSE(client.broken());
        sender.join();
        auto reader = gev::spawn([&] { client.recv(100); });
        gev::sleep(0ms);
        reader.kill();   // parked between records: still usable
        server.sendall("after the kill");
        REQUIRE(client.recv_exactly(14) == "after the kill");
    });
}

TEST_CASE("a Timeout in the middle of a large send breaks the connection with a clear error", "[net][tls][timeout]") {
    TestPki::get();
    int before = count_fds();
    run([] {
        Contexts x;
        auto [client, server] = connected(x);
        std::string big(8 << 20, 'x');   // far more than the socket buffers hold: the peer never reads
        {
            gev::Timeout t(30ms);
            REQUIRE_THROWS_AS(client.sendall(big), gev::Timeout);
        }
        REQUIRE(client.broken());
        REQUIRE_THROWS_WITH(client.send("more"), Catch::Contains("unusable after an interrupted send"));
        REQUIRE_THROWS_WITH(client.recv(10), Catch::Contains("unusable"));
        client.close();
        client.close();
    });
    REQUIRE(count_fds() == before);
}

TEST_CASE("a Timeout and a kill during a handshake leave no fd and no usable socket", "[net][tls][timeout]") {
    TestPki::get();
    int before = count_fds();
    run([] {
        Contexts x;
        auto [c, s] = tcp_pair();   // the server side never answers
        TlsSocket client(std::move(c), x.client, "localhost");
        {
            gev::Timeout t(20ms);
            REQUIRE_THROWS_AS(client.handshake(), gev::Timeout);
        }
        REQUIRE_THROWS_WITH(client.send("x"), Catch::Contains("unusable after an interrupted tls handshake"));
        auto [c2, s2] = tcp_pair();
        auto g = gev::spawn([&, c2 = std::move(c2)]() mutable {
            TlsSocket t(std::move(c2), x.client, "localhost");
            t.handshake();
        });
        gev::sleep(1ms);
        g.kill();
        REQUIRE(g.dead());
    });
    REQUIRE(count_fds() == before);
}

TEST_CASE("a peer that resets mid-handshake gives a socket error, not a crash", "[net][tls]") {
    TestPki::get();
    run([] {
        Contexts x;
        auto [c, s] = tcp_pair();
        TlsSocket server(std::move(s), x.server);
        auto h = gev::spawn([&, c2 = std::move(c)]() mutable {
            c2.sendall(std::string_view("\x16\x03\x01\x02\x00\x01", 6));   // half a ClientHello
            ::linger l{1, 0};
            c2.setsockopt(SOL_SOCKET, SO_LINGER, l);
            c2.close();   // RST
        });
        REQUIRE_THROWS_AS(server.handshake(), SocketError);
        REQUIRE(server.broken());
        h.join();
    });
}

TEST_CASE("a socket closed by another fiber wakes a TLS receiver with EBADF", "[net][tls]") {
    TestPki::get();
    run([] {
        Contexts x;
        auto [client, server] = connected(x);
        auto g = gev::spawn([&] {
            gev::sleep(1ms);
            client.close();
        });
        REQUIRE_THROWS_WITH(client.recv(10), Catch::Contains("closed by another fiber"));
        g.join();
        REQUIRE_THROWS_WITH(client.recv(10), Catch::Contains("the TLS socket is closed"));
    });
}

TEST_CASE("sending to a peer that has gone throws a socket error instead of raising SIGPIPE", "[net][tls]") {
    TestPki::get();
    run([] {
        Contexts x;
        auto [client, server] = connected(x);
        server.close();
        std::string chunk(4096, 'p');
        try {
            for (int i = 0; i < 1000; ++i) {   // the first sends fit the buffers; then the reset shows
                client.sendall(chunk);
                gev::sleep(0ms);
            }
            FAIL("every send succeeded");
        } catch (const SocketError& e) {
            REQUIRE((e.code().value() == EPIPE || e.code().value() == ECONNRESET));
        }
        REQUIRE(client.broken());
    });
}
