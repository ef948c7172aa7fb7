// tests/http/reject_test.cpp — strict framing (RFC 9112): each malformed or ambiguous
// request is answered with its status and the connection is closed, the handler never
// runs, and a request smuggled behind it is never answered.
#include "http_support.hpp"

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

namespace {

// Sends `request` followed by a smuggled GET; expects `status`, the close, and that
// no handler ran.
void rejected(std::string_view request, int status, bool bytewise = false) {
    run([&] {
        int calls = 0;
        TestServer srv([&](http::Request&, http::Response& res) {
            ++calls;
            res.send("handled");
        });
        net::Socket c = srv.connect();
        std::string all = std::string(request) + "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
        if (bytewise) send_bytewise(c, all);
        else c.sendall(all);
        ReplyReader rd(c);
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->status == status);
        CHECK(r->header("connection") == std::optional<std::string>("close"));
        CHECK(rd.closed());
        CHECK(rd.rest().empty());   // the smuggled request got no answer
        CHECK(calls == 0);
    });
}

}  // namespace

TEST_CASE("Transfer-Encoding together with Content-Length is 400", "[http][reject]") {
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
    rejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400);
}

TEST_CASE("an invalid, negative, duplicate or overflowing Content-Length is 400", "[http][reject]") {
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400);
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n", 400);
}

TEST_CASE("a bad chunk size or an overflowing chunk is 400", "[http][reject]") {
    auto body_reader = [](http::Request& req, http::Response& res) { res.send(req.read_all()); };
    for (std::string chunk : {"zz\r\nab\r\n0\r\n\r\n", "ffffffffffffffffffff\r\nab\r\n0\r\n\r\n", "2\r\nabc\r\n0\r\n\r\n"}) {
        run([&] {
            TestServer srv(body_reader);
            Reply r = round_trip(srv, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk +
                                        "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n", true);
            CHECK(r.status == 400);
            CHECK(srv->stats().bad_requests == 1);
        });
    }
}

TEST_CASE("a final Transfer-Encoding other than chunked is 501", "[http][reject]") {
    rejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nabc", 501);
    rejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc", 501);
}

TEST_CASE("HTTP/1.1 without Host or with two is 400", "[http][reject]") {
    rejected("GET / HTTP/1.1\r\n\r\n", 400);
    rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    rejected("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400);
}

TEST_CASE("control characters, whitespace before the colon and obs-fold are 400", "[http][reject]") {
    rejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01z\r\n\r\n", 400);
    rejected("GET / HTTP/1.1\r\nHost: h\r\nX\x01: a\r\n\r\n", 400);
    rejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
    rejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n folded\r\n\r\n", 400);
    rejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tfolded\r\n\r\n", 400, true);
    rejected("GET / HTTP/1.1\nHost: h\n\n", 400);
}

TEST_CASE("a version other than 1.0 and 1.1 is 505", "[http][reject]") {
    rejected("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    rejected("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
}

TEST_CASE("a malformed request line is 400", "[http][reject]") {
    rejected("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    rejected("GET  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    rejected("GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_CASE("an unknown Expect is 417", "[http][reject]") {
    rejected("POST / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n", 417);
}

TEST_CASE("a rejection split into 1-byte writes is answered the same", "[http][reject][split]") {
    rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true);
    rejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, true);
}
