// tests/http/basics_test.cpp — the serve loop on raw loopback sockets: requests and
// their views, keep-alive rules for HTTP/1.1 and 1.0, Connection: close, pipelining
// answered in order, requests split into 1-byte writes, HEAD, 204 and 304.
#include "http_support.hpp"

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

TEST_CASE("a GET is answered with its status, Date and Content-Length", "[http][basics]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) {
            CHECK(req.method() == "GET");
            CHECK(req.target() == "/a%20b?x=1&y=two+words");
            CHECK(req.path() == "/a%20b");
            CHECK(req.query() == "x=1&y=two+words");
            CHECK(http::percent_decode(req.path()) == std::optional<std::string>("/a b"));
            CHECK(http::query_param(req.query(), "y") == std::optional<std::string>("two words"));
            CHECK(req.version() == "HTTP/1.1");
            CHECK(req.header("HOST") == std::optional<std::string_view>("example"));
            CHECK(req.headers().get_all("x-rep") == std::vector<std::string_view>{"1", "2"});
            CHECK(req.remote_address().to_string().rfind("127.0.0.1:", 0) == 0);
            res.add_header("Content-Type", "text/plain");
            res.send("hi");
        });
        Reply r = round_trip(srv, "GET /a%20b?x=1&y=two+words HTTP/1.1\r\nHost: example\r\nX-Rep: 1\r\nx-rep: 2\r\n\r\n");
        CHECK(r.status == 200);
        CHECK(r.version == "HTTP/1.1");
        CHECK(r.body == "hi");
        CHECK(r.header("content-length") == std::optional<std::string>("2"));
        CHECK(r.header("content-type") == std::optional<std::string>("text/plain"));
        REQUIRE(r.header("date"));
        CHECK(r.header("date")->size() == 29);
        CHECK(srv->stats().requests == 1);
    });
}

TEST_CASE("percent_decode rejects a malformed escape", "[http][basics]") {
    CHECK(http::percent_decode("%2") == std::nullopt);
    CHECK(http::percent_decode("%zz") == std::nullopt);
    CHECK(http::percent_decode("a+b", true) == std::optional<std::string>("a b"));
    CHECK(http::percent_decode("a+b") == std::optional<std::string>("a+b"));
}

TEST_CASE("an HTTP/1.1 connection serves request after request", "[http][basics][keepalive]") {
    run([] {
        TestServer srv(echo_handler);
        net::Socket c = srv.connect();
        ReplyReader rd(c);
        for (int i = 0; i < 5; ++i) {
            c.sendall("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n");
            auto r = rd.next();
            REQUIRE(r);
            CHECK(r->body == "GET /" + std::to_string(i) + " ");
            CHECK_FALSE(r->header("connection"));
        }
        CHECK(srv->stats().connections == 1);
        CHECK(srv->stats().requests == 5);
    });
}

TEST_CASE("Connection: close is answered with Connection: close and the close", "[http][basics][keepalive]") {
    run([] {
        TestServer srv(echo_handler);
        Reply r = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n", true);
        CHECK(r.header("connection") == std::optional<std::string>("close"));
        CHECK(srv->stats().requests == 1);
    });
}

TEST_CASE("HTTP/1.0 closes unless the client asks for keep-alive", "[http][basics][keepalive]") {
    run([] {
        TestServer srv(echo_handler);
        Reply r = round_trip(srv, "GET / HTTP/1.0\r\n\r\n", true);
        CHECK(r.version == "HTTP/1.0");
        CHECK(r.header("connection") == std::optional<std::string>("close"));

        net::Socket c = srv.connect();
        ReplyReader rd(c);
        c.sendall("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto a = rd.next();
        REQUIRE(a);
        CHECK(a->header("connection") == std::optional<std::string>("keep-alive"));
        c.sendall("GET /2 HTTP/1.0\r\n\r\n");
        auto b = rd.next();
        REQUIRE(b);
        CHECK(b->body == "GET /2 ");
        CHECK(rd.closed());
    });
}

TEST_CASE("pipelined requests are answered in order, in one batch", "[http][basics][pipelining]") {
    run([] {
        TestServer srv(echo_handler);
        net::Socket c = srv.connect();
        std::string batch;
        for (int i = 0; i < 10; ++i)
            batch += "POST /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n" + std::to_string(i);
        c.sendall(batch);
        ReplyReader rd(c);
        for (int i = 0; i < 10; ++i) {
            auto r = rd.next();
            REQUIRE(r);
            CHECK(r->body == "POST /" + std::to_string(i) + " " + std::to_string(i));
        }
        CHECK(srv->stats().requests == 10);
    });
}

TEST_CASE("a request written one byte at a time is read whole", "[http][basics][split]") {
    run([] {
        http::Options o = small_options();
        o.header_timeout = 5s;
        TestServer srv(echo_handler, o);
        net::Socket c = srv.connect();
        send_bytewise(c, "PUT /x?q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
                         "POST /y HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nwxyz");
        ReplyReader rd(c);
        auto a = rd.next();
        REQUIRE(a);
        CHECK(a->body == "PUT /x?q abcde");
        auto b = rd.next();
        REQUIRE(b);
        CHECK(b->body == "POST /y wxyz");
    });
}

TEST_CASE("HEAD gets the headers of GET and no body", "[http][basics][head]") {
    run([] {
        TestServer srv([](http::Request&, http::Response& res) { res.send("thirteen byte"); });
        net::Socket c = srv.connect();
        c.sendall("HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        auto h = rd.next(true);
        REQUIRE(h);
        CHECK(h->header("content-length") == std::optional<std::string>("13"));
        auto g = rd.next();   // framed right only if HEAD's answer had no body
        REQUIRE(g);
        CHECK(g->body == "thirteen byte");
    });
}

TEST_CASE("204 and 304 go without a body or a length, and the connection stays usable", "[http][basics]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) {
            res.set_status(req.path() == "/204" ? 204 : 304);
            if (req.path() == "/204") CHECK_THROWS_AS(res.write("x"), http::Error);
        });
        net::Socket c = srv.connect();
        c.sendall("GET /204 HTTP/1.1\r\nHost: h\r\n\r\nGET /304 HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        auto a = rd.next();
        REQUIRE(a);
        CHECK(a->status == 204);
        CHECK_FALSE(a->header("content-length"));
        CHECK_FALSE(a->header("transfer-encoding"));
        auto b = rd.next();
        REQUIRE(b);
        CHECK(b->status == 304);
        CHECK_FALSE(b->header("content-length"));
        CHECK(rd.rest().empty());
    });
}

TEST_CASE("the Date header is an IMF-fixdate, shared by the answers of one second", "[http][basics][date]") {
    run([] {
        TestServer srv([](http::Request&, http::Response& res) { res.send(""); });
        net::Socket c = srv.connect();
        ReplyReader rd(c);
        std::vector<std::string> dates;
        for (int i = 0; i < 3; ++i) {
            c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            auto r = rd.next();
            REQUIRE(r);
            dates.push_back(r->header("date").value_or(""));
        }
        for (const std::string& d : dates) {
            REQUIRE(d.size() == 29);
            CHECK(d.substr(3, 2) == ", ");
            CHECK(d.substr(25) == " GMT");
        }
        CHECK((dates[0] == dates[1] || dates[1] == dates[2]));   // at most one second boundary between
    });
}

TEST_CASE("an Upgrade request is answered as a plain request, then the connection closes", "[http][basics]") {
    run([] {
        TestServer srv(echo_handler);
        Reply r = round_trip(srv, "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                                  "\x81\x05hello", true);
        CHECK(r.status == 200);
        CHECK(r.body == "GET /ws ");
    });
}
