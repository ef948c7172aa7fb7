// tests/http/response_test.cpp — answering: streaming write()s chunked for HTTP/1.1
// and close-delimited for 1.0, a Content-Length the writes must meet, a handler that
// throws before or after sending, use of a Response after its handler returned, the
// access-log hook and the byte counters.
#include "http_support.hpp"

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

TEST_CASE("write()s without a length go chunked on HTTP/1.1 and close-delimited on 1.0", "[http][response]") {
    run([] {
        TestServer srv([](http::Request&, http::Response& res) {
            res.add_header("X-Mode", "stream");
            res.write("one,");
            res.write("");
            res.write(std::string(20000, 'b'));
        });
        Reply a = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(a.chunked);
        CHECK(a.body == "one," + std::string(20000, 'b'));
        CHECK(a.header("x-mode") == std::optional<std::string>("stream"));
        Reply b = round_trip(srv, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        CHECK_FALSE(b.header("transfer-encoding"));
        CHECK(b.header("connection") == std::optional<std::string>("close"));
        CHECK(b.body == "one," + std::string(20000, 'b'));   // read to the close
    });
}

TEST_CASE("a handler that sends nothing answers 200 with an empty body", "[http][response]") {
    run([] {
        TestServer srv([](http::Request&, http::Response&) {});
        Reply r = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(r.status == 200);
        CHECK(r.header("content-length") == std::optional<std::string>("0"));
    });
}

TEST_CASE("a status with a custom reason, and headers checked for CR/LF", "[http][response]") {
    run([] {
        TestServer srv([](http::Request&, http::Response& res) {
            CHECK_THROWS_AS(res.add_header("X-Bad", "a\r\nInjected: 1"), http::Error);
            CHECK_THROWS_AS(res.add_header("X Bad", "v"), http::Error);
            CHECK_THROWS_AS(res.add_header("Transfer-Encoding", "gzip"), http::Error);
            res.set_status(418, "I'm a teapot");
            res.send("short and stout");
            CHECK_THROWS_AS(res.send("again"), http::Error);
            CHECK_THROWS_AS(res.set_status(200), http::Error);
        });
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        std::string head = c.recv(4096);
        CHECK(head.rfind("HTTP/1.1 418 I'm a teapot\r\n", 0) == 0);
        CHECK(head.find("Injected") == std::string::npos);
    });
}

TEST_CASE("write()s that fall short of the Content-Length set close the connection", "[http][response]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) {
            res.add_header("Content-Length", "10");
            res.write("12345");
            if (req.path() == "/over") CHECK_THROWS_AS(res.write("678901"), http::Error);
        });
        net::Socket c = srv.connect();
        c.sendall("GET /short HTTP/1.1\r\nHost: h\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        CHECK(rd.closed());
        CHECK(rd.rest().find("Content-Length: 10\r\n") != std::string::npos);
        CHECK(rd.rest().find("never") == std::string::npos);
        CHECK(rd.rest().find("HTTP/1.1", 10) == std::string::npos);   // one answer only
    });
}

TEST_CASE("a handler that throws before sending gets 500, reported once", "[http][response][errors]") {
    Failures failures;
    run([] {
        TestServer srv([](http::Request&, http::Response&) { throw std::runtime_error("handler bug"); });
        Reply r = round_trip(srv, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", true);
        CHECK(r.status == 500);
        CHECK(r.header("connection") == std::optional<std::string>("close"));
        CHECK(srv->stats().handler_errors == 1);
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
    CHECK(failures.messages[0].find("handler bug") != std::string::npos);
}

TEST_CASE("a handler that throws after sending has its connection closed, no 500", "[http][response][errors]") {
    Failures failures;
    run([] {
        TestServer srv([](http::Request&, http::Response& res) {
            res.write("partial");
            throw std::runtime_error("late bug");
        });
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        CHECK(rd.closed());
        CHECK(rd.rest().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
        CHECK(rd.rest().find("500") == std::string::npos);
        CHECK(rd.rest().find("0\r\n\r\n") == std::string::npos);
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
    CHECK(failures.messages[0].find("late bug") != std::string::npos);
}

TEST_CASE("using a Response after its handler returned throws", "[http][response]") {
    run([] {
        gev::Event done;
        std::string what;
        TestServer srv([&](http::Request&, http::Response& res) {
            gev::spawn([&] {
                gev::sleep(10ms);
                try {
                    res.write("late");
                } catch (const http::Error& e) {
                    what = e.what();
                }
                done.set();
            });
            res.send("on time");
        });
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->body == "on time");
        REQUIRE(done.wait(2s));
        CHECK(what.find("handler returned") != std::string::npos);
    });
}

TEST_CASE("the access log sees each answered request; counters add up", "[http][response][stats]") {
    run([] {
        std::vector<std::string> log;
        http::Options o = small_options();
        o.access_log = [&](const http::AccessRecord& a) {
            log.push_back(std::string(a.request.method()) + " " + std::string(a.request.target()) + " " +
                          std::to_string(a.status) + " " + std::to_string(a.body_bytes));
        };
        TestServer srv([](http::Request& req, http::Response& res) {
            if (req.path() == "/missing") res.set_status(404);
            res.send("abc");
        }, o);
        net::Socket c = srv.connect();
        std::string reqs = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /missing HTTP/1.1\r\nHost: h\r\n\r\n";
        c.sendall(reqs);
        ReplyReader rd(c);
        REQUIRE(rd.next());
        REQUIRE(rd.next());
        CHECK(log == std::vector<std::string>{"GET / 200 3", "GET /missing 404 3"});
        http::Stats s = srv->stats();
        CHECK(s.requests == 2);
        CHECK(s.bytes_in == reqs.size());
        CHECK(s.bytes_out > 2 * 3);
        CHECK(s.open_connections == 1);
        CHECK(s.connections == 1);
    });
}
