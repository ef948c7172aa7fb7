// tests/net/reader_test.cpp — gev::net::Reader: lines and delimiters split across any
// number of recvs, the size cap that keeps a peer without newlines from growing the
// buffer, end of stream, and exact reads.
#include "net_support.hpp"

using namespace std::chrono_literals;
using gev::net::IncompleteRead;
using gev::net::Reader;
using gev::net::SocketError;
using namespace gev::testing;

TEST_CASE("readline returns each line with its newline, across recvs cut at any byte", "[net][reader]") {
    run([] {
        auto [c, s] = tcp_pair();
        auto writer = gev::spawn([&c] {
            const std::string text = "first line\nsecond\n\nlast without newline";
            for (char ch : text) {   // one byte per send: every line spans many recvs
                c.sendall(std::string(1, ch));
                gev::sleep(0ns);
            }
            c.shutdown(SHUT_WR);
        });
        Reader r(s, 3);
        REQUIRE(r.readline() == "first line\n");
        REQUIRE(r.readline() == "second\n");
        REQUIRE(r.readline() == "\n");
        REQUIRE(r.readline() == "last without newline");
        REQUIRE(r.readline().empty());   // end of stream, and again
        REQUIRE(r.readline().empty());
        writer.get(1s);
    });
}

TEST_CASE("read_until finds a multi-byte delimiter split between two recvs", "[net][reader]") {
    run([] {
        auto [c, s] = tcp_pair();
        c.sendall("GET / HTTP/1.0\r");
        auto late = gev::spawn([&c] {
            gev::sleep(5ms);
            c.sendall("\n\r\nbody");
        });
        Reader r(s);
        REQUIRE(r.read_until("\r\n\r\n") == "GET / HTTP/1.0\r\n\r\n");
        REQUIRE(r.read(100) == "body");
        late.get(1s);
    });
}

TEST_CASE("readline caps a line at max bytes when a peer never sends a newline", "[net][reader]") {
    run([] {
        auto [c, s] = tcp_pair();
        c.sendall(std::string(10'000, 'x') + "\nok\n");
        Reader r(s);
        REQUIRE(r.readline(4096) == std::string(4096, 'x'));
        REQUIRE(r.readline(4096) == std::string(4096, 'x'));
        REQUIRE(r.readline(4096) == std::string(10'000 - 8192, 'x') + "\n");
        REQUIRE(r.readline(4096) == "ok\n");
        REQUIRE(r.buffered().empty());
    });
}

TEST_CASE("read_exactly gathers bytes and throws IncompleteRead when the stream ends first", "[net][reader]") {
    run([] {
        auto [c, s] = tcp_pair();
        c.sendall("0123456789");
        c.close();
        Reader r(s, 4);
        REQUIRE(r.read_exactly(6) == "012345");
        REQUIRE_THROWS_AS(r.read_exactly(6), IncompleteRead);
    });
}

TEST_CASE("read_until with an empty delimiter throws SocketError EINVAL", "[net][reader]") {
    run([] {
        auto [c, s] = tcp_pair();
        Reader r(s);
        try {
            r.read_until("");
            FAIL("an empty delimiter was accepted");
        } catch (const SocketError& e) {
            REQUIRE(e.code().value() == EINVAL);
        }
    });
}

TEST_CASE("a Timeout around readline leaves what was buffered for the next call", "[net][reader]") {
    run([] {
        auto [c, s] = tcp_pair();
        c.sendall("partial ");
        Reader r(s);
        REQUIRE_THROWS_AS(gev::with_timeout(20ms, [&] { return r.readline(); }), gev::Timeout);
        c.sendall("line\n");
        REQUIRE(r.readline() == "partial line\n");
    });
}
