// tests/monkey/dns_test.cpp — name resolution under monkey patching (on the hub's
// thread pool) and GEV_DEBUG_BLOCKING. Only /etc/hosts and /etc/services are consulted:
// no lookup here sends a packet.
#include "monkey_support.hpp"

#include <netdb.h>
#include <sys/syscall.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using namespace gev::testing;

namespace {

std::string first_address(const addrinfo* ai) {
    char host[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "?";
    return host;
}

}  // namespace

TEST_CASE("getaddrinfo resolves localhost from many fibers at once", "[monkey][dns]") {
    run_patched([] {
        std::vector<gev::Greenlet<std::string>> gs;
        for (int i = 0; i < 8; ++i)
            gs.push_back(gev::spawn([] {
                addrinfo hints{};
                hints.ai_family = AF_INET;
                hints.ai_socktype = SOCK_STREAM;
                addrinfo* res = nullptr;
                int rc = ::getaddrinfo("localhost", "80", &hints, &res);
                if (rc != 0) return std::string(gai_strerror(rc));
                std::string a = first_address(res);
                ::freeaddrinfo(res);
                return a;
            }));
        for (auto& g : gs) CHECK(g.get() == "127.0.0.1");
    });
}

TEST_CASE("getaddrinfo failures carry the C library's EAI_ codes", "[monkey][dns][errno]") {
    run_patched([] {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        CHECK(::getaddrinfo("localhost", "no-such-service-gev", &hints, &res) == EAI_SERVICE);
        hints.ai_flags = AI_NUMERICHOST;
        CHECK(::getaddrinfo("localhost", "80", &hints, &res) == EAI_NONAME);
        CHECK(::getaddrinfo(nullptr, nullptr, nullptr, &res) == EAI_NONAME);
        hints.ai_flags = 0;
        REQUIRE(::getaddrinfo("127.0.0.1", "8080", &hints, &res) == 0);   // numeric: answered in place
        CHECK(first_address(res) == "127.0.0.1");
        ::freeaddrinfo(res);
    });
}

TEST_CASE("gethostbyname, gethostbyname_r and getnameinfo answer from /etc/hosts", "[monkey][dns]") {
    run_patched([] {
        hostent* h = ::gethostbyname("localhost");
        REQUIRE(h != nullptr);
        CHECK(h->h_addrtype == AF_INET);
        CHECK(std::string(h->h_name) == "localhost");
        hostent ret{};
        hostent* result = nullptr;
        char buf[1024];
        int herr = 0;
        CHECK(::gethostbyname_r("localhost", &ret, buf, sizeof buf, &result, &herr) == 0);
        CHECK(result == &ret);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(22);
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        REQUIRE(::getnameinfo(reinterpret_cast<sockaddr*>(&a), sizeof a, host, sizeof host, serv, sizeof serv, 0) == 0);
        CHECK(std::string(host) == "localhost");
        CHECK(std::string(serv) == "ssh");
    });
}

TEST_CASE("GEV_DEBUG_BLOCKING reports a blocking call that bypassed the hooks, by name", "[monkey][debug]") {
    std::mutex mu;
    std::vector<std::string> reports;
    gev::monkey::debug_blocking(10ms, [&](const std::string& m) {
        std::lock_guard lock(mu);
        reports.push_back(m);
    });
    run_patched([] {
        timespec ts{0, 40'000'000};
        gev::monkey::original::nanosleep(&ts, nullptr);   // blocks the hub on purpose
        int p[2];
        REQUIRE(::pipe(p) == 0);
        std::thread t([&] {
            timespec d{0, 40'000'000};
            gev::monkey::original::nanosleep(&d, nullptr);
            gev::monkey::original::write(p[1], "x", 1);
        });
        char c;
        CHECK(::syscall(SYS_read, p[0], &c, 1) == 1);   // a raw system call: no hook sees it
        t.join();
        CHECK(::usleep(40'000) == 0);   // hooked: the hub idles, nothing to report
        ::close(p[0]);
        ::close(p[1]);
    });
    gev::monkey::stop_debug_blocking();
    std::lock_guard lock(mu);
    for (const std::string& r : reports) UNSCOPED_INFO(r);
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].find("nanosleep() from the C library") != std::string::npos);
    CHECK(reports[1].find("the read system call, which bypassed") != std::string::npos);
}
