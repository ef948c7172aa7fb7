// tests/http/body_test.cpp — request bodies as streams: Expect: 100-continue answered
// only when the handler reads, small reads of chunked bodies, trailers, an unread body
// drained so the next request is framed right (or the close when it is too much).
#include "http_support.hpp"

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

TEST_CASE("100 Continue is sent only when the handler starts reading the body", "[http][body][continue]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) {
            if (req.path() == "/read") res.send(req.read_all());
            else res.send("skipped");
        });
        net::Socket c = srv.connect();
        ReplyReader rd(c);
        c.sendall("POST /read HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        auto cont = rd.next();
        REQUIRE(cont);
        CHECK(cont->status == 100);
        c.sendall("abc");
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->body == "abc");

        // Not read: no 100, a final answer, and the close (the body may never come).
        c.sendall("POST /skip HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        auto s = rd.next();
        REQUIRE(s);
        CHECK(s->status == 200);
        CHECK(s->body == "skipped");
        CHECK(rd.closed());
    });
}

TEST_CASE("HTTP/1.0 never gets 100 Continue", "[http][body][continue]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) { res.send(req.read_all()); });
        Reply r = round_trip(srv, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
        CHECK(r.status == 200);
        CHECK(r.body == "ok");
    });
}

TEST_CASE("a chunked body read in 1-byte pieces comes whole, trailers after it", "[http][body][chunked]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) {
            CHECK(req.chunked());
            CHECK_FALSE(req.content_length());
            std::string got;
            char one;
            while (req.read(std::span<char>(&one, 1)) == 1) got += one;
            CHECK(req.body_done());
            CHECK(req.trailers().get("x-sum") == std::optional<std::string_view>("42"));
            res.send(got);
        });
        Reply r = round_trip(srv, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n1;x=y\r\n \r\n5\r\nworld\r\n0\r\nX-Sum: 42\r\n\r\n");
        CHECK(r.body == "hello world");
    });
}

TEST_CASE("an unread body is drained and the next request is framed right", "[http][body][drain]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) { res.send(std::string(req.target())); });
        net::Socket c = srv.connect();
        c.sendall("POST /first HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"
                  "POST /second HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                  "GET /third HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        for (std::string want : {"/first", "/second", "/third"}) {
            auto r = rd.next();
            REQUIRE(r);
            CHECK(r->body == want);
        }
    });
}

TEST_CASE("a body too big to drain closes the connection after the answer", "[http][body][drain]") {
    run([] {
        TestServer srv([](http::Request&, http::Response& res) { res.send("early"); });   // max_drain 8 KiB
        net::Socket c = srv.connect();
        c.sendall("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 20000\r\n\r\n" + std::string(20000, 'x') +
                  "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->body == "early");
        CHECK(rd.closed());
        CHECK(rd.rest().empty());
    });
}

TEST_CASE("a client that closes mid-body ends the request with an error in the handler", "[http][body][reset]") {
    run([] {
        gev::Event seen;
        std::string what;
        TestServer srv([&](http::Request& req, http::Response& res) {
            try {
                req.read_all();
            } catch (const std::system_error& e) {
                what = e.what();
                seen.set();
                throw;
            }
            res.send("unreachable");
        });
        {
            net::Socket c = srv.connect();
            c.sendall("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc");
            gev::sleep(20ms);
        }
        REQUIRE(seen.wait(2s));
        CHECK(what.find("read body") != std::string::npos);
        CHECK(eventually([&] { return srv->stats().resets == 1 && srv->stats().open_connections == 0; }));
    });
}
