// tests/http/hubs_test.cpp — the server on two hubs (StreamServer's reuse_port and
// handoff modes), its connection limit and a Pool: answers stay right, counters are
// shared, and stop() closes idle connections that live on the other hub too.
#include "http_support.hpp"

#include <mutex>
#include <set>

using namespace gev::testing;
namespace http = gev::http;
namespace net = gev::net;

namespace {

void hub_echo(http::Request& req, http::Response& res) {
    res.add_header("X-Hub", std::to_string(gev::hub_index()));
    res.send(std::string(req.target()) + "=" + req.read_all());
}

// `clients` connections, `per` keep-alive POSTs each, from fibers on this hub.
void load(const http::Server& srv, int clients, int per) {
    std::vector<gev::Greenlet<>> fibers;
    for (int i = 0; i < clients; ++i)
        fibers.push_back(gev::spawn([&srv, i, per] {
            net::Socket c = net::create_connection(srv.address(), 5s);
            ReplyReader rd(c);
            for (int k = 0; k < per; ++k) {
                std::string body = std::to_string(i * 1000 + k);
                c.sendall("POST /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
                auto r = rd.next();
                REQUIRE(r);
                std::string want = "/";   // built by appends: g++ 12 warns falsely on "lit" + string
                want += std::to_string(i);
                want += '=';
                want += body;
                CHECK(r->body == want);
            }
        }));
    gev::joinall(fibers, gev::forever, true);
}

// Runs body on two hubs; a fiber failure on either fails the test.
template <class F>
void run2(F&& body) {
    std::mutex mu;
    std::vector<std::string> seen;
    gev::RunOptions o = hubs(2);
    o.on_error = [&](const gev::FailureReport& r) {
        std::lock_guard lock(mu);
        seen.push_back(r.message);
    };
    gev::run(std::forward<F>(body), o);
    for (const std::string& m : seen) FAIL_CHECK("unexpected fiber failure: " << m);
}

}  // namespace

TEST_CASE("two hubs with reuse_port or handoff answer every request right", "[http][hubs]") {
    for (bool handoff : {false, true}) {
        run2([handoff] {
            http::Options o = small_options();
            o.net.threads = 2;
            o.net.handoff = handoff;
            http::Server srv({"127.0.0.1", 0}, hub_echo, o);
            srv.start();
            int clients = 20 / tsan_scale(4), per = 10;
            load(srv, clients, per);
            CHECK(srv.stats().requests == static_cast<std::uint64_t>(clients * per));
            srv.stop(1s);
            CHECK(srv.stats().open_connections == 0);
        });
    }
}

TEST_CASE("stop closes idle keep-alive connections on every hub", "[http][hubs][stop]") {
    run2([] {
        http::Options o = small_options();
        o.net.threads = 2;
        o.net.handoff = true;   // connections alternate between the hubs
        o.idle_timeout = 30s;
        http::Server srv({"127.0.0.1", 0}, hub_echo, o);
        srv.start();
        std::vector<net::Socket> socks;
        std::set<std::string> hubs;
        for (int i = 0; i < 4; ++i) {
            socks.push_back(net::create_connection(srv.address(), 5s));
            socks.back().sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            ReplyReader rd(socks.back());
            auto r = rd.next();
            REQUIRE(r);
            hubs.insert(r->header("x-hub").value_or("?"));
        }
        CHECK(hubs.size() == 2);
        srv.stop(10s);   // returns at once: nothing is in flight
        for (net::Socket& s : socks) {
            ReplyReader rd(s);
            CHECK(rd.closed());
        }
        CHECK(srv.stats().open_connections == 0);
    });
}

TEST_CASE("max_connections holds further clients back until one leaves", "[http][hubs][limit]") {
    run([] {
        http::Options o = small_options();
        o.net.max_connections = 1;
        http::Server srv({"127.0.0.1", 0}, hub_echo, o);
        srv.start();
        net::Socket a = net::create_connection(srv.address(), 5s);
        a.sendall("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader ra(a);
        REQUIRE(ra.next());
        net::Socket b = net::create_connection(srv.address(), 5s);   // queued in the backlog
        b.sendall("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        b.set_timeout(30ms);
        char one;
        CHECK_THROWS_AS(b.recv(std::span<char>(&one, 1)), net::SocketTimeout);
        a.close();
        b.set_timeout(5s);
        ReplyReader rb(b);
        auto r = rb.next();
        REQUIRE(r);
        CHECK(r->body == "/b=");
        srv.stop(gev::Duration{0});
    });
}

TEST_CASE("a Pool given in the options holds each connection's fiber", "[http][hubs][pool]") {
    run([] {
        gev::Pool pool(2);
        http::Options o = small_options();
        o.net.pool = &pool;
        std::size_t seen = 0;
        http::Server srv({"127.0.0.1", 0}, [&](http::Request&, http::Response& res) {
            seen = pool.size();
            res.send("pooled");
        }, o);
        srv.start();
        net::Socket c = net::create_connection(srv.address(), 5s);
        c.sendall("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ReplyReader rd(c);
        auto r = rd.next();
        REQUIRE(r);
        CHECK(r->body == "pooled");
        CHECK(seen == 1);
        c.close();
        CHECK(eventually([&] { return pool.size() == 0; }));
        srv.stop(gev::Duration{0});
    });
}
