// tests/net/accept_test.cpp — StreamServer's accept (accept_queued) when connections
// and accepts do not meet: on io_uring a multishot accept queues the connections that
// arrive while the accepting fiber is busy (epoll leaves them in the kernel's backlog).
// Every connection must reach exactly one accept, a listener closed with connections
// queued must close them, a kill or Timeout of the acceptor must lose none, and a
// readiness wait or a plain accept on the listener must still see them. Loopback only.
#include "net_support.hpp"

#include <sys/socket.h>

#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::Socket;
using gev::net::SocketError;
using namespace gev::testing;

namespace {

// A TCP connection started without parking: the kernel completes the handshake with
// the listener's backlog while this fiber goes on.
Socket connect_now(const Address& to) {
    Socket c(AF_INET, SOCK_STREAM);
    int r = ::connect(c.fileno(), to.data(), to.size());
    REQUIRE((r == 0 || errno == EINPROGRESS));
    return c;
}

// The 4-digit id a client sent first.
std::string read_id(Socket& conn) {
    conn.set_timeout(2s);
    return conn.recv_exactly(4);
}

std::string id_of(int i) {
    std::string s = std::to_string(1000 + i);
    return s;
}

}  // namespace

TEST_CASE("connections that arrive while the acceptor is busy are queued and none is lost", "[net][accept]") {
    run([] {
        Socket l = listener("127.0.0.1", 512);
        l.set_timeout(2s);   // a lost connection fails the test instead of hanging it
        constexpr int n = 150;   // past the listener's queue bound (64)
        std::vector<Socket> got;
        auto acceptor = gev::spawn([&] {
            while (got.size() < std::size_t(n)) got.push_back(accept_queued(l).first);
        });
        gev::sleep(1ms);   // parked in accept: the multishot is armed
        std::vector<Socket> clients;
        for (int i = 0; i < n; ++i) clients.push_back(connect_now(l.local_address()));   // one burst
        acceptor.get(5s);
        for (int i = 0; i < n; ++i) clients[i].set_timeout(2s), clients[i].sendall(id_of(i));
        std::set<std::string> seen;
        for (Socket& conn : got) {
            REQUIRE(conn.peer_address().to_string().rfind("127.0.0.1:", 0) == 0);
            seen.insert(read_id(conn));
        }
        REQUIRE(seen.size() == std::size_t(n));
        REQUIRE(*seen.begin() == id_of(0));
        REQUIRE(*seen.rbegin() == id_of(n - 1));
    });
}

TEST_CASE("accept_queued reports the peer's address", "[net][accept]") {
    run([] {
        Socket l = listener();
        auto acceptor = gev::spawn([&] { return accept_queued(l); });
        gev::sleep(1ms);
        Socket c = connect_now(l.local_address());
        auto [conn, peer] = acceptor.take(2s);
        REQUIRE(peer == c.local_address());
    });
}

TEST_CASE("closing a listener closes the connections it had queued", "[net][accept]") {
    run([] {
        int before = count_fds();
        std::vector<Socket> clients;
        Socket first;
        {
            Socket l = listener();
            auto acceptor = gev::spawn([&] { first = accept_queued(l).first; });
            gev::sleep(1ms);
            for (int i = 0; i < 3; ++i) clients.push_back(connect_now(l.local_address()));
            acceptor.get(2s);
            gev::sleep(20ms);   // io_uring: the other two are accepted and queued by now
        }
        REQUIRE(count_fds() == before + 4);   // the clients' and the one accepted; no queued one
        for (int i = 1; i < 3; ++i) {
            clients[i].set_timeout(2s);
            std::array<char, 8> buf;
            int outcome = -1;
            try {
                outcome = static_cast<int>(clients[i].recv(buf));   // 0: closed by the server side
            } catch (const SocketError& e) {
                outcome = e.code().value() == ECONNRESET ? 0 : e.code().value();   // or reset from the backlog
            }
            REQUIRE(outcome == 0);
        }
    });
}

TEST_CASE("a readiness wait and a plain accept on a listener see the connections queued on it", "[net][accept]") {
    run([] {
        Socket l = listener();
        l.set_timeout(2s);
        auto acceptor = gev::spawn([&] { return accept_queued(l).first; });
        gev::sleep(1ms);
        std::vector<Socket> clients;
        for (int i = 0; i < 3; ++i) clients.push_back(connect_now(l.local_address()));
        Socket first = acceptor.take(2s);
        gev::sleep(20ms);   // io_uring: the other two are queued on the listener
        gev::net::wait_read(l.fileno(), 2s);   // readable: a connection waits
        auto [second, p2] = l.accept();
        auto [third, p3] = l.accept();
        std::set<std::uint16_t> ports{first.peer_address().port(), p2.port(), p3.port()};
        REQUIRE(ports.size() == 3);
        for (Socket& c : clients) REQUIRE(ports.count(c.local_address().port()) == 1);
    });
}

TEST_CASE("a killed accepting fiber loses no connection: the next accept gets it", "[net][accept]") {
    run([] {
        Socket l = listener();
        l.set_timeout(2s);
        std::vector<Socket> got;
        auto acceptor = gev::spawn([&] {
            for (;;) got.push_back(accept_queued(l).first);   // a kill ends it at a park
        });
        gev::sleep(1ms);   // parked in accept
        Socket c = connect_now(l.local_address());
        acceptor.kill();   // before or after the connection reached it: either way it is kept
        if (got.empty()) got.push_back(accept_queued(l).first);
        REQUIRE(got.size() == 1);
        c.set_timeout(2s);
        c.sendall("ping");
        REQUIRE(read_id(got[0]) == "ping");
    });
}

TEST_CASE("a Timeout during accept loses no connection", "[net][accept]") {
    run([] {
        Socket l = listener("127.0.0.1", 256);
        constexpr int n = 40;
        std::vector<Socket> got;
        int timeouts = 0;
        auto acceptor = gev::spawn([&] {
            for (int round = 0; round < 5000 && got.size() < std::size_t(n); ++round) {
                gev::Timeout limit{1ms};
                try {
                    got.push_back(accept_queued(l).first);
                } catch (const gev::Timeout& t) {
                    if (!t.is(limit)) throw;
                    ++timeouts;
                }
            }
        });
        std::vector<Socket> clients;
        for (int i = 0; i < n; ++i) {
            clients.push_back(connect_now(l.local_address()));
            gev::sleep(i % 3 == 0 ? 1ms : 0ms);   // land before, at and after the timeouts
        }
        acceptor.get(5s);
        REQUIRE(timeouts > 0);
        REQUIRE(got.size() == std::size_t(n));
        for (int i = 0; i < n; ++i) clients[i].set_timeout(2s), clients[i].sendall(id_of(i));
        std::set<std::string> seen;
        for (Socket& conn : got) seen.insert(read_id(conn));
        REQUIRE(seen.size() == std::size_t(n));
    });
}
