// tests/net/address_test.cpp — gev::net::Address: the written forms ("host:port",
// "[v6]:port", (host, port), Unix paths) and their to_string round trips, clear errors
// for malformed strings, and name resolution on the thread pool (an unknown host fails
// with ResolveError while the hub keeps running other fibers).
#include "net_support.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::ResolveError;
using gev::net::SocketError;
using namespace gev::testing;

namespace {

// The message and errno of the SocketError that make() throws.
template <class F>
std::pair<int, std::string> socket_error_of(F&& make) {
    try {
        make();
    } catch (const SocketError& e) {
        return {e.code().value(), e.what()};
    }
    FAIL("no SocketError was thrown");
    return {};
}

bool is_loopback(const Address& a) {
    return (a.family() == AF_INET && a.host().rfind("127.", 0) == 0) || (a.family() == AF_INET6 && a.host() == "::1");
}

}  // namespace

TEST_CASE("\"host:port\" parses an IPv4 address and to_string round trips", "[net][address]") {
    Address a("127.0.0.1:8001");
    REQUIRE(a.family() == AF_INET);
    REQUIRE(a.host() == "127.0.0.1");
    REQUIRE(a.port() == 8001);
    REQUIRE(a.size() == sizeof(sockaddr_in));
    REQUIRE(a.to_string() == "127.0.0.1:8001");
    REQUIRE(Address(a.to_string()) == a);
    REQUIRE(Address("0.0.0.0:0").port() == 0);
    REQUIRE(Address("255.255.255.255:65535").to_string() == "255.255.255.255:65535");
    REQUIRE(Address(":9000").to_string() == "0.0.0.0:9000");   // an empty host is INADDR_ANY
}

TEST_CASE("\"[::1]:8001\" parses an IPv6 address and to_string round trips", "[net][address]") {
    Address a("[::1]:8001");
    REQUIRE(a.family() == AF_INET6);
    REQUIRE(a.host() == "::1");
    REQUIRE(a.port() == 8001);
    REQUIRE(a.to_string() == "[::1]:8001");
    REQUIRE(Address(a.to_string()) == a);
    Address b("[fe80::1:2]:443");
    REQUIRE(b.to_string() == "[fe80::1:2]:443");
    REQUIRE(Address(b.to_string()) == b);
}

TEST_CASE("(host, port) builds the same address as \"host:port\"", "[net][address]") {
    REQUIRE(Address("127.0.0.1", 8001) == Address("127.0.0.1:8001"));
    REQUIRE(Address("::1", 8001) == Address("[::1]:8001"));
    REQUIRE(Address("127.0.0.1", 8001) != Address("127.0.0.1", 8002));
    REQUIRE(Address("::1", 0).to_string() == "[::1]:0");
    sockaddr_in raw{};
    raw.sin_family = AF_INET;
    raw.sin_port = htons(1234);
    ::inet_pton(AF_INET, "127.0.0.2", &raw.sin_addr);
    Address from_raw(reinterpret_cast<const sockaddr*>(&raw), sizeof raw);
    REQUIRE(from_raw == Address("127.0.0.2", 1234));
    REQUIRE(Address().empty());
    REQUIRE(Address().to_string() == "(none)");
}

TEST_CASE("a string with a '/' is a Unix path and to_string gives the path back", "[net][address]") {
    Address a("/tmp/gev-test.sock");
    REQUIRE(a.family() == AF_UNIX);
    REQUIRE(a.to_string() == "/tmp/gev-test.sock");
    REQUIRE(a.host() == "/tmp/gev-test.sock");
    REQUIRE(a.port() == 0);
    REQUIRE(a == Address::unix_path("/tmp/gev-test.sock"));
    REQUIRE(Address("./relative.sock").to_string() == "./relative.sock");
    auto [err, what] = socket_error_of([] { Address::unix_path("/" + std::string(sizeof(sockaddr_un{}.sun_path), 'x')); });
    REQUIRE(err == ENAMETOOLONG);
    REQUIRE(what.find("xxxx") != std::string::npos);
}

TEST_CASE("malformed address strings throw SocketError EINVAL naming the string", "[net][address]") {
    for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:80x", "127.0.0.1:65536",
                            "127.0.0.1:-1", "[::1]", "[::1]8001", "[::1:8001", "[::1]:", ""}) {
        INFO("address '" << bad << "'");
        auto [err, what] = socket_error_of([&] { Address a(bad); });
        REQUIRE(err == EINVAL);
        REQUIRE(what.find(std::string("'") + bad + "'") != std::string::npos);
    }
}

TEST_CASE("an unknown host throws ResolveError while other fibers keep running", "[net][address]") {
    run([] {
        int ticks = 0;
        bool done = false;
        auto counter = gev::spawn([&] {
            for (int i = 0; i < 5000 && !done; ++i) {
                ++ticks;
                gev::sleep(1ms);
            }
        });
        int ticks_at_failure = -1;
        try {
            Address a("nosuchhost.invalid:80");
            FAIL("nosuchhost.invalid resolved to " << a.to_string());
        } catch (const ResolveError& e) {
            ticks_at_failure = ticks;
            const std::system_error& se = e;   // a std::system_error, as every public error
            REQUIRE(&se.code().category() == &gev::net::gai_category());
            REQUIRE(se.code().value() != 0);
            REQUIRE(std::string(e.what()).find("nosuchhost.invalid") != std::string::npos);
        }
        // The lookup ran on the pool: the counter, spawned first, ran while main was parked.
        REQUIRE(ticks_at_failure >= 1);
        REQUIRE_THROWS_AS(gev::net::resolve("nosuchhost.invalid", 80), std::system_error);
        REQUIRE_THROWS_AS(gev::net::create_connection("nosuchhost.invalid", 80, 1s), ResolveError);
        done = true;
        counter.get(2s);
    });
}

TEST_CASE("localhost resolves to loopback addresses", "[net][address]") {
    run([] {
        auto all = gev::net::resolve("localhost", 8001);
        REQUIRE(!all.empty());
        for (const Address& a : all) {
            INFO(a.to_string());
            REQUIRE(is_loopback(a));
            REQUIRE(a.port() == 8001);
        }
        Address a("localhost:8001");
        REQUIRE(is_loopback(a));
        REQUIRE(a.port() == 8001);
        for (const Address& v4 : gev::net::resolve("localhost", 7, AF_INET, SOCK_DGRAM)) REQUIRE(v4.family() == AF_INET);
    });
}

TEST_CASE("resolve returns a numeric host as it is, without a lookup", "[net][address]") {
    auto v4 = gev::net::resolve("127.0.0.1", 80);   // outside gev::run: nothing to park
    REQUIRE(v4.size() == 1);
    REQUIRE(v4[0] == Address("127.0.0.1:80"));
    auto v6 = gev::net::resolve("::1", 80);
    REQUIRE(v6.size() == 1);
    REQUIRE(v6[0] == Address("[::1]:80"));
}

TEST_CASE("create_connection by host name connects to a loopback listener", "[net][address]") {
    run([] {
        gev::net::Socket l = listener("127.0.0.1");
        auto server = gev::spawn([&l] {
            auto [conn, peer] = l.accept();
            conn.sendall("hi");
        });
        gev::net::Socket c = gev::net::create_connection("localhost", l.local_address().port(), 2s);
        REQUIRE(c.timeout() == gev::MaybeDuration(2s));
        REQUIRE(c.recv_exactly(2) == "hi");
        server.get(2s);
    });
}
