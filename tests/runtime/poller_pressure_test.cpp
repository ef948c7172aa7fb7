// tests/runtime/poller_pressure_test.cpp — the poller under pressure on one hub: a tiny
// io_uring ring ($GEV_URING_ENTRIES=4) under hundreds of concurrent socket echoes and
// sleeps, and an allocation that fails as a socket wait starts. This binary replaces
// operator new to fail one allocation on demand (this thread only).
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <string>

using gev::testing::ScopedEnv;
using namespace std::chrono_literals;
using gev::net::Socket;

namespace {
thread_local bool t_fail_next_allocation = false;
thread_local int t_failed_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
    if (t_fail_next_allocation) {
        t_fail_next_allocation = false;
        ++t_failed_allocations;
        throw std::bad_alloc();
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#if defined(__SANITIZE_ADDRESS__)
// Libraries loaded before this binary may still allocate through the sanitizer's own
// operator new and free through the one above: the same allocator underneath.
extern "C" const char* __asan_default_options() { return "alloc_dealloc_mismatch=0"; }
#endif

namespace {

std::pair<Socket, Socket> socket_pair() {
    int p[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) == 0);
    return {Socket::adopt(p[0]), Socket::adopt(p[1])};
}

// Echoes everything it receives until the peer closes.
void echo(Socket s) {
    std::array<std::byte, 8192> buf;
    while (std::size_t n = s.recv(buf)) s.sendall(std::span(buf).first(n));
}

// One client: `rounds` messages of `size` bytes (some larger than the socket buffers,
// so sends and receives split), each checked byte for byte after the echo.
bool echo_client(int id, int rounds, std::size_t size) {
    auto [mine, theirs] = socket_pair();
    mine.set_timeout(10s);
    auto server = gev::spawn(echo, std::move(theirs));
    bool ok = true;
    for (int r = 0; r < rounds && ok; ++r) {
        std::string msg(size, static_cast<char>('a' + (id + r) % 26));
        msg.front() = static_cast<char>(r);
        auto writer = gev::spawn([&mine, &msg] { mine.sendall(msg); });
        ok = mine.recv_exactly(size) == msg;
        writer.join();
        if (id % 3 == 0) gev::sleep(std::chrono::microseconds(100 * (id % 7)));
    }
    mine.shutdown(SHUT_WR);
    server.join();
    return ok;
}

}  // namespace

TEST_CASE("a ring of 4 entries completes hundreds of concurrent echoes and sleeps", "[runtime][poller]") {
    ScopedEnv entries("GEV_URING_ENTRIES", "4");
    constexpr int kClients = 300;
    int good = 0, slept = 0;
    gev::testing::run([&] {
        std::vector<gev::Greenlet<>> all;
        for (int i = 0; i < kClients; ++i) {
            std::size_t size = i % 10 == 0 ? 300'000 : 16 + static_cast<std::size_t>(i) * 13;
            all.push_back(gev::spawn([&good, i, size] { good += echo_client(i, 5, size); }));
            all.push_back(gev::spawn([&slept, i] {
                gev::sleep(std::chrono::microseconds(50 * (i % 20)));
                ++slept;
            }));
        }
        gev::joinall(all);
    });
    REQUIRE(good == kClients);
    REQUIRE(slept == kClients);
}

TEST_CASE("GEV_URING_ENTRIES that is not a number from 1 to 32768 is refused", "[runtime][poller]") {
    ScopedEnv entries("GEV_URING_ENTRIES", "0");
    gev::RunOptions o;
    o.poller = "io_uring";
    REQUIRE_THROWS_AS(gev::run([] {}, o), std::system_error);
}

TEST_CASE("an allocation that fails as a socket wait starts leaves nothing with the kernel",
          "[runtime][poller]") {
    gev::testing::run([] {
        auto [a, peer] = socket_pair();
        // A first wait without a deadline: the fd is known to the poller, and no timer
        // has been armed on this hub yet, so the next deadline must grow the timer heap.
        auto first = gev::spawn([&peer] {
            gev::sleep(0s);
            peer.sendall("1");
        });
        REQUIRE(a.recv(8) == "1");
        first.join();
        a.set_timeout(50ms);
        std::array<std::byte, 8> buf;
        bool threw = false;
        t_failed_allocations = 0;
        t_fail_next_allocation = true;
        try {
            a.recv(buf);
        } catch (const std::bad_alloc&) {
            threw = true;
        }
        t_fail_next_allocation = false;
        REQUIRE(t_failed_allocations == 1);
        REQUIRE(threw);
        // Before the fix (io_uring) the failed recv stayed queued and took these bytes
        // into a dead stack frame.
        peer.sendall("after");
        a.set_timeout(2s);
        REQUIRE(a.recv(8) == "after");
    });
}
