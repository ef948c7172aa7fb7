// tests/net/sendall_test.cpp — a socket's timeout bounds a whole sendall (CPython's and
// gevent's rule), not each wait inside it: a reader that keeps taking a little at a
// time cannot hold the sender for ever, while a sendall that finishes in time is whole.
#include "net_support.hpp"

#include <array>
#include <string>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::Socket;
using namespace gev::testing;

namespace {

// A connected pair whose buffers are small, so the reader's pace sets the sender's.
std::pair<Socket, Socket> small_buffer_pair() {
    Socket l(AF_INET, SOCK_STREAM);
    l.setsockopt<int>(SOL_SOCKET, SO_RCVBUF, 8 << 10);   // inherited by the accepted socket
    l.bind(Address("127.0.0.1", 0));
    l.listen();
    Socket c(AF_INET, SOCK_STREAM);
    c.setsockopt<int>(SOL_SOCKET, SO_SNDBUF, 8 << 10);
    c.connect(l.local_address());
    auto [s, peer] = l.accept();
    return {std::move(c), std::move(s)};
}

}  // namespace

TEST_CASE("set_timeout bounds a whole sendall, so a reader that drips cannot hold the sender for ever",
          "[net][socket][sendall][timeout]") {
    const std::string data(4 << 20, 'x');
    std::size_t received = 0;
    bool timed_out = false;
    run([&] {
        auto [c, s] = small_buffer_pair();
        c.set_timeout(50ms);
        bool done = false;
        // Takes what has arrived every 5 ms: no single wait of the sender gets near 50 ms.
        auto reader = gev::spawn([&] {
            std::array<char, 64 << 10> buf;
            for (int i = 0; i < 1000 && !done; ++i) {
                std::size_t n = s.recv(buf);
                if (n == 0) return;
                received += n;
                gev::sleep(5ms);
            }
        });
        try {
            c.sendall(data);
        } catch (const gev::net::SocketTimeout& e) {
            timed_out = true;
            REQUIRE_THAT(e.what(), Catch::Contains("sendall") && Catch::Contains("timed out"));
        }
        done = true;
        c.close();
        reader.join();
    });
    REQUIRE(timed_out);
    REQUIRE(received < data.size());
}

TEST_CASE("a sendall that finishes within its timeout sends everything, however often it parks",
          "[net][socket][sendall][timeout]") {
    const std::string data(1 << 20, 'y');
    std::string got;
    run([&] {
        auto [c, s] = small_buffer_pair();
        c.set_timeout(10s);
        auto writer = gev::spawn([&] {
            c.sendall(data);
            c.shutdown(SHUT_WR);
        });
        std::array<char, 64 << 10> buf;
        for (int i = 0; i < 100000; ++i) {
            std::size_t n = s.recv(buf);
            if (n == 0) break;
            got.append(buf.data(), n);
        }
        writer.get();
    });
    REQUIRE(got == data);
}
