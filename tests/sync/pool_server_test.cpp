// tests/sync/pool_server_test.cpp — StreamServer with a Pool (gevent's spawn=pool): at
// most the pool's size of handlers run at once, and a further connection's handler
// starts only after one of them ends. Listens on 127.0.0.1, port 0.
#include "support.hpp"

#include <array>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::Socket;

namespace {

// Waits (bounded, 1 ms steps) until cond() holds; says whether it did.
template <class F>
bool eventually(F&& cond) {
    for (int i = 0; i < 3000; ++i) {
        if (cond()) return true;
        gev::sleep(1ms);
    }
    return cond();
}

}  // namespace

TEST_CASE("a StreamServer with a Pool of 2 starts a 3rd handler only after one of the first two ends",
          "[sync][pool][server]") {
    std::vector<std::string> trace;
    gev::testing::run([&] {
        gev::Pool pool(2);
        gev::net::ServerOptions opts;
        opts.pool = &pool;
        gev::net::StreamServer server(Address("127.0.0.1", 0), [&](Socket conn, Address) {
            std::array<char, 16> buf;
            std::size_t n = conn.recv(buf);   // the client's name
            std::string name(buf.data(), n);
            trace.push_back(name + " start");
            while (conn.recv(buf) != 0) {
            }
            trace.push_back(name + " end");
        }, opts);
        server.start();
        std::vector<Socket> clients;
        for (const char* name : {"c1", "c2", "c3"}) {
            Socket c(AF_INET, SOCK_STREAM);
            c.connect(server.address());
            c.sendall(std::string_view(name));
            clients.push_back(std::move(c));
            gev::sleep(1ms);
        }
        REQUIRE(eventually([&] { return trace.size() == 2; }));
        gev::sleep(5ms);
        REQUIRE(trace == std::vector<std::string>{"c1 start", "c2 start"});   // c3 waits for a slot
        REQUIRE(pool.size() == 2);
        REQUIRE(server.connections() == 2);
        clients[0].close();
        REQUIRE(eventually([&] { return trace.size() == 4; }));
        REQUIRE(trace == std::vector<std::string>{"c1 start", "c2 start", "c1 end", "c3 start"});
        clients[1].close();
        clients[2].close();
        REQUIRE(pool.join(3s));
        server.stop();
    });
}
