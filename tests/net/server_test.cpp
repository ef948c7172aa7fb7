// tests/net/server_test.cpp — StreamServer and DatagramServer under load and faults:
// many concurrent clients, a peer that resets, a client that never reads, 2,000 idle
// connections, fd exhaustion (RLIMIT_NOFILE lowered here, restored after), stop(timeout)
// and the connection limit. Every server listens on 127.0.0.1 port 0 and is stopped
// by its test.
#include "net_support.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <vector>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::DatagramServer;
using gev::net::ServerOptions;
using gev::net::Socket;
using gev::net::SocketError;
using gev::net::StreamServer;
using namespace gev::testing;

namespace {

const Address kAnyPort("127.0.0.1", 0);

struct Unwound {
    bool& flag;
    ~Unwound() { flag = true; }
};

// Echoes until the peer closes; a reset or other socket error ends it quietly, as in
// examples/echo_server.cpp, and is counted.
struct Echo {
    int* errors = nullptr;
    void operator()(Socket conn, Address) const {
        std::array<char, 4096> buf;
        try {
            while (std::size_t n = conn.recv(buf)) conn.sendall(std::string_view(buf.data(), n));
        } catch (const SocketError&) {
            if (errors != nullptr) ++*errors;
        }
    }
};

Socket connect_to(const StreamServer& server) {
    Socket c(AF_INET, SOCK_STREAM);
    c.set_timeout(2s);   // a server that stopped answering fails the test instead of hanging it
    c.connect(server.address());
    return c;
}

void round_trips(Socket& c, int id, int count) {
    for (int i = 0; i < count; ++i) {
        std::string msg = "client " + std::to_string(id) + " message " + std::to_string(i);
        c.sendall(msg);
        REQUIRE(c.recv_exactly(msg.size()) == msg);
    }
}

// `clients` fibers, each connecting and making `count` round trips; rethrows the first failure.
void many_clients(const StreamServer& server, int clients, int count) {
    std::vector<gev::Greenlet<>> gs;
    for (int k = 0; k < clients; ++k)
        gs.push_back(gev::spawn([&server, k, count] {
            Socket c = connect_to(server);
            round_trips(c, k, count);
        }));
    gev::joinall(gs, 10s, true);
    for (auto& g : gs) g.get(0ns);
}

void reset(Socket& s) {
    s.setsockopt(SOL_SOCKET, SO_LINGER, linger{1, 0});
    s.close();   // sends RST
}

}  // namespace

TEST_CASE("StreamServer on port 0 echoes for many concurrent clients", "[net][server]") {
    run([] {
        StreamServer server(kAnyPort, Echo{});
        server.start();
        REQUIRE(server.started());
        REQUIRE(server.address().port() != 0);
        REQUIRE(server.address().host() == "127.0.0.1");
        many_clients(server, 100, 10);
        REQUIRE(eventually([&] { return server.connections() == 0; }));
        server.stop();
        REQUIRE(server.closed());
    });
}

TEST_CASE("a peer that resets mid-stream does not disturb the other clients", "[net][server][fault]") {
    run([] {
        int errors = 0;
        StreamServer server(kAnyPort, Echo{&errors});
        server.start();
        Socket a = connect_to(server), b = connect_to(server);
        round_trips(a, 1, 3);
        Socket r = connect_to(server);
        r.setsockopt<int>(SOL_SOCKET, SO_RCVBUF, 4096);
        r.sendall(std::string(1 << 20, 'r'));   // the handler echoes into a peer that never reads
        gev::sleep(5ms);
        reset(r);
        round_trips(b, 2, 3);
        round_trips(a, 1, 3);
        REQUIRE(eventually([&] { return errors == 1; }));   // only the reset handler failed
        many_clients(server, 5, 3);
        REQUIRE(eventually([&] { return server.connections() == 2; }));
        server.stop();
    });
}

TEST_CASE("a client that never reads while the server sendall()s megabytes parks only its handler",
          "[net][server][fault]") {
    static const std::string flood(32 << 20, 'f');
    run([] {
        bool flood_done = false;
        int errors = 0;
        StreamServer server(kAnyPort, [&](Socket conn, Address peer) {
            std::string first = conn.recv(std::size_t{5});
            if (first != "flood") {
                conn.sendall(first);
                return Echo{&errors}(std::move(conn), peer);
            }
            try {
                conn.sendall(flood);
            } catch (const SocketError&) {
                ++errors;
            }
            flood_done = true;
        });
        server.start();
        Socket sink = connect_to(server);
        sink.setsockopt<int>(SOL_SOCKET, SO_RCVBUF, 4096);
        sink.sendall("flood");
        gev::sleep(5ms);
        many_clients(server, 20, 10);   // served while the flood handler is parked in sendall
        REQUIRE(!flood_done);
        REQUIRE(server.connections() >= 1);
        reset(sink);
        REQUIRE(eventually([&] { return flood_done; }));
        REQUIRE(errors == 1);
        server.stop();
    });
}

TEST_CASE("2,000 idle connections are held beside an active one that is served", "[net][server][load]") {
    constexpr int kIdle = 2000;
    constexpr rlim_t kNeed = 2 * kIdle + 256;
    FdLimit limit;
    if (limit.soft() < kNeed && (limit.hard() < kNeed || !limit.set_soft(limit.hard()))) {
        WARN("RLIMIT_NOFILE hard limit " << limit.hard() << " is below " << kNeed << ": skipped");
        return;
    }
    run([] {
        StreamServer server(kAnyPort, Echo{});
        server.start();
        std::vector<Socket> idle;
        idle.reserve(kIdle);
        for (int i = 0; i < kIdle; ++i) idle.push_back(connect_to(server));
        REQUIRE(eventually([&] { return server.connections() == kIdle; }, 5000ms));
        Socket active = connect_to(server);
        round_trips(active, 0, 100);
        REQUIRE(server.connections() == kIdle + 1);
        round_trips(idle.front(), 1, 1);   // the idle ones are still served
        round_trips(idle.back(), 2, 1);
        idle.clear();
        active.close();
        REQUIRE(eventually([&] { return server.connections() == 0; }, 5000ms));
        server.stop();
    });
}

TEST_CASE("out of fds, the server backs off without spinning and recovers when fds free up",
          "[net][server][fault]") {
    rlimit saved{};
    ::getrlimit(RLIMIT_NOFILE, &saved);
    {
        FdLimit limit;
        run([&] {
            StreamServer server(kAnyPort, Echo{});
            server.start();
            // Limit and fill before the acceptor first runs: io_uring fixes an accept's fd
            // limit when the accept is submitted.
            Socket victim(AF_INET, SOCK_STREAM);   // made before the limit: it needs no new fd later
            std::vector<int> fillers;
            struct CloseFillers {
                std::vector<int>& fds;
                ~CloseFillers() {
                    for (int fd : fds) ::close(fd);
                }
            } close_fillers{fillers};
            REQUIRE(limit.set_soft(static_cast<rlim_t>(count_fds()) + 16));
            for (int i = 0; i < 64; ++i) {   // use up every fd below the new limit
                int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0) break;
                fillers.push_back(fd);
            }
            int extra = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            int err = errno;
            REQUIRE(extra < 0);
            REQUIRE(err == EMFILE);
            victim.connect(server.address());   // the kernel completes it; accept gets EMFILE
            victim.sendall("ping");
            double before = cpu_seconds();
            gev::sleep(200ms);
            double used = cpu_seconds() - before;
            INFO("CPU seconds used in a 200 ms window while out of fds: " << used);
            REQUIRE(used < 0.1);   // a spinning accept loop would use all 0.2 s
            std::array<char, 4> buf;
            REQUIRE(::recv(victim.fileno(), buf.data(), buf.size(), MSG_DONTWAIT) < 0);   // not served yet
            for (int fd : fillers) ::close(fd);
            fillers.clear();
            victim.set_timeout(3s);   // the back-off has grown to about 160 ms by now
            REQUIRE(victim.recv_exactly(4) == "ping");
            Socket next = connect_to(server);
            round_trips(next, 1, 2);
            server.stop();
        });
    }
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    REQUIRE(now.rlim_cur == saved.rlim_cur);   // restored
}

TEST_CASE("stop(timeout) stops accepting, waits for handlers, then kills those still running",
          "[net][server]") {
    run([] {
        bool quick_done = false, slow_unwound = false, slow_finished = false;
        StreamServer server(kAnyPort, [&](Socket conn, Address) {
            std::string kind = conn.recv_exactly(5);
            if (kind == "quick") {
                conn.recv_exactly(4);   // sent by its client during the grace period
                quick_done = true;
            } else {
                Unwound u{slow_unwound};
                conn.recv(std::size_t{16});   // never comes
                slow_finished = true;
            }
        });
        server.start();
        Address at = server.address();
        Socket quick = connect_to(server), slow = connect_to(server);
        quick.sendall("quick");
        slow.sendall("slow!");
        REQUIRE(eventually([&] { return server.connections() == 2; }));
        std::string refused_during_grace;
        auto helper = gev::spawn([&] {
            gev::sleep(10ms);
            try {
                Socket late(AF_INET, SOCK_STREAM);
                late.connect(at);
            } catch (const SocketError& e) {
                refused_during_grace = e.what();
            }
            quick.sendall("done");
        });
        server.stop(100ms);
        REQUIRE(quick_done);
        REQUIRE(slow_unwound);
        REQUIRE(!slow_finished);
        REQUIRE(server.connections() == 0);
        REQUIRE(server.closed());
        helper.get(1s);
        INFO(refused_during_grace);
        REQUIRE(refused_during_grace.find("Connection refused") != std::string::npos);
    });
}

TEST_CASE("max_connections gives back-pressure: with a limit of 2 a third client waits for a slot",
          "[net][server]") {
    run([] {
        StreamServer server(kAnyPort, Echo{}, ServerOptions{.max_connections = 2});
        server.start();
        Socket c1 = connect_to(server), c2 = connect_to(server);
        round_trips(c1, 1, 1);
        round_trips(c2, 2, 1);
        Socket c3 = connect_to(server);   // the kernel queues it; the server does not accept it
        c3.sendall("third");
        std::array<char, 8> buf;
        REQUIRE(!gev::silent_timeout(50ms, [&] { c3.recv(buf); }));
        REQUIRE(server.connections() == 2);
        c1.close();   // a handler ends, a slot frees up
        REQUIRE(c3.recv_exactly(5) == "third");
        round_trips(c2, 2, 1);
        REQUIRE(server.connections() == 2);
        server.stop();
    });
}

TEST_CASE("accepted TCP connections get TCP_NODELAY unless ServerOptions.nodelay is false", "[net][server]") {
    for (bool nodelay : {true, false}) {
        run([nodelay] {
            std::vector<int> seen;
            auto probe = [&seen](Socket conn, Address) {
                seen.push_back(conn.getsockopt<int>(IPPROTO_TCP, TCP_NODELAY) != 0 ? 1 : 0);
            };
            StreamServer server(kAnyPort, probe, {.nodelay = nodelay});
            server.start();
            Socket c = connect_to(server);
            std::array<char, 1> b;
            REQUIRE(c.recv(b) == 0);   // the probe returned and closed the connection
            server.stop();
            REQUIRE(seen == std::vector<int>{nodelay ? 1 : 0});
        });
    }
}

TEST_CASE("serve_forever parks until another fiber stops the server", "[net][server]") {
    run([] {
        StreamServer server(kAnyPort, Echo{});
        auto client = gev::spawn([&server] {
            REQUIRE(eventually([&] { return server.started(); }));
            {
                Socket c = connect_to(server);
                round_trips(c, 1, 2);
            }
            server.stop();
        });
        server.serve_forever();
        REQUIRE(server.closed());
        client.get(1s);
    });
}

namespace {

// A UDP client that sends `count` datagrams to the server and checks each reply.
void datagram_client(const DatagramServer& server, int id, int count) {
    Socket c(AF_INET, SOCK_DGRAM);
    c.set_timeout(2s);
    c.bind(kAnyPort);
    std::array<std::byte, 256> buf;
    for (int i = 0; i < count; ++i) {
        std::string msg = std::to_string(id) + "/" + std::to_string(i);
        c.sendto(msg, server.address());
        auto [n, from] = c.recvfrom(buf);
        REQUIRE(std::string(reinterpret_cast<const char*>(buf.data()), n) == "echo " + msg);
        REQUIRE(from == server.address());
    }
}

void echo_datagram(std::string data, Address from, DatagramServer& s) { s.sendto("echo " + data, from); }

}  // namespace

TEST_CASE("DatagramServer echoes each datagram to its sender", "[net][server][udp]") {
    run([] {
        DatagramServer server(kAnyPort, echo_datagram);
        server.start();
        REQUIRE(server.address().port() != 0);
        datagram_client(server, 1, 5);
        datagram_client(server, 2, 5);
        server.stop();
    });
}

// Found under io_uring: each handler's sendto parks while its SQE is in flight, so a
// second handler replying at the same moment gets ConcurrentObjectUseError and its
// reply is lost (see "two fibers sending ..." in errors_test.cpp).
TEST_CASE("DatagramServer handlers replying at the same time all get their replies out",
          "[net][server][udp]") {
    run([] {
        DatagramServer server(kAnyPort, echo_datagram);
        server.start();
        std::vector<gev::Greenlet<>> clients;
        for (int k = 0; k < 3; ++k) clients.push_back(gev::spawn(datagram_client, std::cref(server), k, 5));
        gev::joinall(clients, 10s, true);
        for (auto& g : clients) g.get(0ns);
        server.stop();
    });
}
