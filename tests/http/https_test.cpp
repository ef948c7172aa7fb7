// tests/http/https_test.cpp — gev::http over TLS (Options::net.tls): keep-alive,
// chunked bodies, pipelining and rejections behave as in plain HTTP; a plain-HTTP
// client is dropped at the handshake without disturbing others; ALPN picks http/1.1.
// Certificates come from the throwaway PKI of the TLS tests.
#include "../net/tls_support.hpp"
#include "http_support.hpp"

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

namespace {

struct TlsTestServer {
    net::TlsContext ctx{net::TlsRole::server};
    std::unique_ptr<TestServer> srv;
    explicit TlsTestServer(http::Handler h, http::Options o = small_options()) {
        server_ctx_for(ctx);
        ctx.set_alpn({"http/1.1"});
        ctx.set_handshake_timeout(2s);
        o.net.tls = &ctx;
        srv = std::make_unique<TestServer>(std::move(h), std::move(o));
    }
    http::Server* operator->() const { return srv->server.get(); }
};

struct Client {
    net::TlsContext ctx{net::TlsRole::client};
    net::TlsSocket s;
    std::string buf;   // received, not yet taken
    explicit Client(const TlsTestServer& srv, std::vector<std::string> alpn = {"http/1.1"}) {
        client_ctx_trusting(ctx);
        ctx.set_alpn(alpn);
        s = net::tls_connect("127.0.0.1", srv->address().port(), ctx, 5s);
    }
    bool more() {
        char tmp[4096];
        std::size_t n = s.recv(std::span<char>(tmp));
        buf.append(tmp, n);
        return n > 0;
    }
    // The next response (Content-Length or chunked framing); status 0 at end of stream.
    std::pair<int, std::string> next() {
        std::size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos)
            if (!more()) return {0, {}};
        std::string head = buf.substr(0, end);
        buf.erase(0, end + 4);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        int status = std::stoi(head.substr(9, 3));
        std::string body;
        if (auto cl = head.find("content-length: "); cl != std::string::npos) {
            std::size_t n = std::stoul(head.substr(cl + 16));
            while (buf.size() < n) REQUIRE(more());
            body = buf.substr(0, n);
            buf.erase(0, n);
            return {status, body};
        }
        REQUIRE(head.find("transfer-encoding: chunked") != std::string::npos);
        for (;;) {
            std::size_t le;
            while ((le = buf.find("\r\n")) == std::string::npos) REQUIRE(more());
            std::size_t n = std::stoul(buf.substr(0, le), nullptr, 16);
            while (buf.size() < le + 2 + n + 2) REQUIRE(more());
            body += buf.substr(le + 2, n);
            buf.erase(0, le + 2 + n + 2);
            if (n == 0) return {status, body};
        }
    }
};

void hello(http::Request& req, http::Response& res) {
    if (req.path() == "/echo") res.send(req.read_all());
    else res.send("Hello over TLS " + std::string(req.path()));
}

}  // namespace

TEST_CASE("an HTTPS connection serves several keep-alive requests", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client c(srv);
        for (int i = 0; i < 5; ++i) {
            c.s.sendall("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n");
            auto [status, body] = c.next();
            CHECK(status == 200);
            CHECK(body == "Hello over TLS /" + std::to_string(i));
        }
        CHECK(srv->stats().connections == 1);
        CHECK(srv->stats().requests == 5);
    });
}

TEST_CASE("a chunked POST over HTTPS is echoed", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client c(srv);
        c.s.sendall("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.s.sendall("5\r\nhello\r\n");
        c.s.sendall("7\r\n, world\r\n0\r\n\r\n");
        auto [status, body] = c.next();
        CHECK(status == 200);
        CHECK(body == "hello, world");
        std::string big(40 * 1024, 'x');
        c.s.sendall("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\na000\r\n" + big + "\r\n0\r\n\r\n");
        auto [status2, body2] = c.next();
        CHECK(status2 == 200);
        CHECK(body2 == big);
    });
}

TEST_CASE("pipelined HTTPS requests are answered in order", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client c(srv);
        c.s.sendall("GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                    "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(c.next() == std::pair<int, std::string>(200, "Hello over TLS /a"));
        CHECK(c.next() == std::pair<int, std::string>(200, "xyz"));
        CHECK(c.next() == std::pair<int, std::string>(200, "Hello over TLS /c"));
        CHECK(srv->stats().requests == 3);
    });
}

TEST_CASE("a rejected HTTPS request is answered 400 and its connection closed", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client c(srv);
        c.s.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(c.next().first == 200);
        c.s.sendall("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n");
        CHECK(c.next().first == 400);
        CHECK(c.next().first == 0);   // close_notify (or the TCP end) follows the answer
        CHECK(srv->stats().bad_requests == 1);
    });
}

TEST_CASE("a plain-HTTP client of an HTTPS server is dropped while others are served", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client good(srv);
        net::Socket plain = net::create_connection(srv->address(), 5s);
        plain.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        good.s.sendall("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(good.next() == std::pair<int, std::string>(200, "Hello over TLS /ok"));
        std::string got;
        char tmp[512];
        for (int i = 0; i < 100; ++i) {   // an alert at most, then the end; never an HTTP answer
            std::size_t n;
            try {
                n = plain.recv(std::span<char>(tmp));
            } catch (const net::SocketError& e) {
                CHECK(e.code().value() == ECONNRESET);
                break;
            }
            if (n == 0) break;
            got.append(tmp, n);
        }
        CHECK(got.find("HTTP/1.1") == std::string::npos);
        CHECK(srv.ctx.handshake_failures() == 1);
        good.s.sendall("GET /again HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(good.next() == std::pair<int, std::string>(200, "Hello over TLS /again"));
        CHECK(srv->stats().connections == 1);
    });
}

TEST_CASE("an HTTPS client offering h2 and http/1.1 gets http/1.1 by ALPN", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client c(srv, {"h2", "http/1.1"});
        CHECK(c.s.alpn_selected() == "http/1.1");
        c.s.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(c.next().first == 200);
    });
}

TEST_CASE("stop() closes an idle HTTPS keep-alive connection at once", "[http][https]") {
    run([] {
        TlsTestServer srv(hello);
        Client c(srv);
        c.s.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(c.next().first == 200);
        srv->stop(gev::Duration{0});
        int status = -1;
        try {   // the end of the stream, or a reset as plain HTTP may see
            status = c.next().first;
        } catch (const net::SocketError& e) {
            CHECK(e.code().value() == ECONNRESET);
            status = 0;
        }
        CHECK(status == 0);
        CHECK(srv->stats().open_connections == 0);
    });
}

TEST_CASE("a header block that stalls over HTTPS is answered 408 within header_timeout", "[http][https][timeout]") {
    run([] {
        TlsTestServer srv(hello);   // header_timeout 200 ms
        Client c(srv);
        c.s.sendall("GET / HTTP/1.1\r\nHost: h\r\n");   // never finished
        CHECK(c.next().first == 408);
        CHECK(srv->stats().timeouts == 1);
        CHECK(srv->stats().requests == 0);
    });
}

TEST_CASE("an idle HTTPS keep-alive connection is closed after idle_timeout", "[http][https][timeout]") {
    run([] {
        http::Options o = small_options();
        o.idle_timeout = 100ms;
        TlsTestServer srv(hello, o);
        Client c(srv);
        c.s.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(c.next().first == 200);
        CHECK(c.next().first == 0);   // the server ends the stream by itself
        CHECK(srv->stats().timeouts == 1);
    });
}
