// tests/http/stop_test.cpp — graceful stop (idle keep-alive connections closed at once,
// requests in flight finished, the rest killed after the grace), and clients that reset
// mid-request or mid-response: counted, never reported as handler failures.
#include "http_support.hpp"

#include <sys/socket.h>

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

namespace {
// Closing with SO_LINGER 0 sends a reset instead of a FIN.
void reset(net::Socket& s) {
    ::linger l{1, 0};
    s.setsockopt(SOL_SOCKET, SO_LINGER, l);
    s.close();
}
}  // namespace

TEST_CASE("stop closes idle connections at once and lets a request in flight finish", "[http][stop]") {
    run([] {
        gev::Event started;
        http::Server srv({"127.0.0.1", 0}, [&](http::Request& req, http::Response& res) {
            if (req.path() == "/slow") {
                started.set();
                gev::sleep(100ms);
            }
            res.send("done " + std::string(req.path()));
        }, small_options());
        srv.start();
        net::Socket idle = net::create_connection(srv.address(), 5s);
        idle.sendall("GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader idle_rd(idle);
        REQUIRE(idle_rd.next());
        net::Socket busy = net::create_connection(srv.address(), 5s);
        busy.sendall("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
        REQUIRE(started.wait(2s));
        std::vector<std::string> order;
        auto stopper = gev::spawn([&] {
            srv.stop(2s);
            order.push_back("stopped");
        });
        auto idle_watch = gev::spawn([&] {
            if (idle_rd.closed()) order.push_back("idle closed");
        });
        ReplyReader busy_rd(busy);
        auto r = busy_rd.next();
        order.push_back("slow answered");
        REQUIRE(r);
        CHECK(r->body == "done /slow");
        CHECK(r->header("connection") == std::optional<std::string>("close"));
        CHECK(busy_rd.closed());
        gev::joinall({stopper, idle_watch});
        CHECK(order == std::vector<std::string>{"idle closed", "slow answered", "stopped"});
        CHECK_THROWS_AS(net::create_connection(srv.address(), 1s), net::SocketError);
        CHECK(srv.stats().open_connections == 0);
    });
}

TEST_CASE("stop kills a handler still running after the grace period", "[http][stop]") {
    run([] {
        gev::Event started;
        bool finished = false;
        http::Server srv({"127.0.0.1", 0}, [&](http::Request&, http::Response& res) {
            started.set();
            gev::sleep(10s);
            finished = true;
            res.send("late");
        }, small_options());
        srv.start();
        net::Socket c = net::create_connection(srv.address(), 5s);
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        REQUIRE(started.wait(2s));
        srv.stop(30ms);
        ReplyReader rd(c);
        CHECK(rd.closed());
        CHECK(rd.rest().empty());
        CHECK_FALSE(finished);
    });
}

TEST_CASE("a client reset mid-request is counted and the connection freed", "[http][reset]") {
    run([] {
        int calls = 0;
        TestServer srv([&](http::Request&, http::Response& res) { ++calls, res.send("x"); });
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\nX-Par");
        gev::sleep(10ms);
        reset(c);
        CHECK(eventually([&] { return srv->stats().open_connections == 0; }));
        CHECK(srv->stats().resets == 1);
        CHECK(calls == 0);
    });
}

TEST_CASE("a client reset mid-response ends the handler's writes without a failure report", "[http][reset]") {
    run([] {
        gev::Event writing, ended;
        std::string error;
        TestServer srv([&](http::Request&, http::Response& res) {
            std::string piece(64 * 1024, 'z');
            try {
                for (int i = 0; i < 10000; ++i) {
                    res.write(piece);
                    writing.set();
                }
            } catch (const net::SocketError& e) {
                error = e.what();
                ended.set();
                throw;
            }
        });
        net::Socket c = srv.connect();
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        REQUIRE(writing.wait(2s));
        reset(c);
        REQUIRE(ended.wait(2s));
        CHECK(error.find("send") != std::string::npos);
        CHECK(eventually([&] { return srv->stats().open_connections == 0; }));
        CHECK(srv->stats().resets == 1);
        CHECK(srv->stats().handler_errors == 0);
    });
}

TEST_CASE("serve_forever returns only once stop has let the request in flight finish", "[http][stop]") {
    run([] {
        gev::Event started;
        http::Server srv({"127.0.0.1", 0}, [&](http::Request&, http::Response& res) {
            started.set();
            gev::sleep(50ms);
            res.send("finished");
        }, small_options());
        srv.start();
        std::string got;
        auto client = gev::spawn([&] {
            net::Socket c = net::create_connection(srv.address(), 5s);
            c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            ReplyReader rd(c);
            if (auto r = rd.next()) got = r->body;
        });
        auto stopper = gev::spawn([&] {
            started.wait();
            srv.stop(5s);
        });
        srv.serve_forever();
        CHECK(stopper.ready());
        client.join();
        CHECK(got == "finished");
    });
}
