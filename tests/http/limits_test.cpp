// tests/http/limits_test.cpp — each limit and timeout of http::Options, set small:
// the header block (431, 414 inside the target), the header count, the body (413 by
// Content-Length and while a chunked body is read), the slowloris header deadline
// (408), the keep-alive idle close, and the per-request time (503, or a cut response).
#include "http_support.hpp"

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

namespace {
void hello(http::Request&, http::Response& res) { res.send("hello"); }
}  // namespace

TEST_CASE("a header block over max_header_bytes is 431, a target over it 414", "[http][limits]") {
    run([] {
        TestServer srv(hello);   // max_header_bytes = 1024
        Reply ok = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\nX-A: " + std::string(900, 'a') + "\r\n\r\n");
        CHECK(ok.status == 200);
        Reply big = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\nX-A: " + std::string(2000, 'a') + "\r\n\r\n", true);
        CHECK(big.status == 431);
        Reply name = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\n" + std::string(1100, 'a') + ": b\r\n\r\n", true);
        CHECK(name.status == 431);
        Reply target = round_trip(srv, "GET /" + std::string(3000, 't') + " HTTP/1.1\r\nHost: h\r\n\r\n", true);
        CHECK(target.status == 414);
        CHECK(srv->stats().too_large == 3);
    });
}

TEST_CASE("more header lines than max_headers is 431", "[http][limits]") {
    run([] {
        TestServer srv(hello);   // max_headers = 16
        std::string lines;
        for (int i = 0; i < 17; ++i) lines += "X-" + std::to_string(i) + ": v\r\n";
        Reply r = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\n" + lines + "\r\n", true);
        CHECK(r.status == 431);
    });
}

TEST_CASE("a Content-Length over max_body_bytes is 413 before the handler runs", "[http][limits]") {
    run([] {
        int calls = 0;
        TestServer srv([&](http::Request&, http::Response& res) { ++calls, res.send(""); });
        Reply r = round_trip(srv, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\n\r\nabc", true);
        CHECK(r.status == 413);
        CHECK(calls == 0);
    });
}

TEST_CASE("a chunked body growing past max_body_bytes is 413 and the close", "[http][limits]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) { res.send(req.read_all()); });
        net::Socket c = srv.connect();
        c.sendall("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        std::string chunk = "8000\r\n" + std::string(0x8000, 'x') + "\r\n";
        for (int i = 0; i < 3; ++i) c.sendall(chunk);   // 96 KiB > 64 KiB
        ReplyReader rd(c);
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->status == 413);
        CHECK(rd.closed());
        CHECK(srv->stats().too_large == 1);
    });
}

TEST_CASE("read_all's own limit is 413", "[http][limits]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) { res.send(req.read_all(3)); });
        Reply r = round_trip(srv, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde", true);
        CHECK(r.status == 413);
    });
}

TEST_CASE("headers that never end are 408 after header_timeout (slowloris)", "[http][limits][timeout]") {
    run([] {
        TestServer srv(hello);   // header_timeout = 200 ms
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 3; ++i) {   // trickling bytes do not extend the deadline
            gev::sleep(50ms);
            c.sendall("X: y\r\n");
        }
        ReplyReader rd(c);
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->status == 408);
        CHECK(rd.closed());
        CHECK(srv->stats().timeouts == 1);
    });
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout", "[http][limits][timeout]") {
    run([] {
        http::Options o = small_options();
        o.idle_timeout = 50ms;
        TestServer srv(hello, o);
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        REQUIRE(rd.next());
        CHECK(rd.closed());   // quietly: no 408 for a connection between requests
        CHECK(rd.rest().empty());
        CHECK(eventually([&] { return srv->stats().open_connections == 0; }));
    });
}

TEST_CASE("a handler past request_timeout gets 503 if nothing was sent, else a cut", "[http][limits][timeout]") {
    run([] {
        http::Options o = small_options();
        o.request_timeout = 50ms;
        TestServer srv(
            [](http::Request& req, http::Response& res) {
                if (req.path() == "/late-start") gev::sleep(5s);
                res.write("part");
                gev::sleep(5s);
            },
            o);
        Reply r = round_trip(srv, "GET /late-start HTTP/1.1\r\nHost: h\r\n\r\n", true);
        CHECK(r.status == 503);
        net::Socket c = srv.connect();
        c.sendall("GET /cut HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        CHECK(rd.closed());
        CHECK(rd.rest().find("4\r\npart\r\n") != std::string::npos);
        CHECK(rd.rest().find("0\r\n\r\n") == std::string::npos);   // no clean end: the client sees the cut
        CHECK(srv->stats().timeouts == 2);
    });
}

TEST_CASE("a body read or a send stalled past idle_timeout ends the request", "[http][limits][timeout]") {
    run([] {
        http::Options o = small_options();
        o.idle_timeout = 50ms;
        TestServer srv(
            [](http::Request& req, http::Response& res) {
                if (req.path() == "/body") res.send(req.read_all());
                for (int i = 0; i < 100000; ++i) res.write(std::string(64 * 1024, 'w'));
            },
            o);
        net::Socket a = srv.connect();
        a.sendall("POST /body HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
        ReplyReader ra(a);
        auto r = ra.next();
        REQUIRE(r);
        CHECK(r->status == 408);
        CHECK(ra.closed());
        net::Socket b = srv.connect();
        b.sendall("GET /flood HTTP/1.1\r\nHost: h\r\n\r\n");   // and never read
        CHECK(eventually([&] { return srv->stats().open_connections == 0; }));
        CHECK(srv->stats().timeouts == 2);
        CHECK(srv->stats().resets == 0);
    });
}
