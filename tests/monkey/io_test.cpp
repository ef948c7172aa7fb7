// tests/monkey/io_test.cpp — the data calls under monkey patching: a blocking read,
// recv or send parks only its fiber; an fd its owner made non-blocking still says
// EAGAIN; SO_RCVTIMEO/SO_SNDTIMEO end waits with EAGAIN; errno is the C library's;
// stream writes and MSG_WAITALL reads move every byte; dups share the caller's flag.
#include "monkey_support.hpp"

#include <sys/ioctl.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace std::chrono_literals;
using namespace gev::testing;

TEST_CASE("a blocking read on a pipe parks only its fiber while another fiber runs", "[monkey][io]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        Trace trace;
        auto reader = gev::spawn([&] {
            trace.push_back("read starts");
            char buf[8];
            ssize_t n = ::read(p[0], buf, sizeof buf);
            trace.push_back("read " + std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
        });
        auto writer = gev::spawn([&] {
            trace.push_back("writer runs");
            REQUIRE(::write(p[1], "hi", 2) == 2);
        });
        gev::joinall({reader, writer});
        REQUIRE(trace == Trace{"read starts", "writer runs", "read hi"});
        CHECK_FALSE(caller_nonblocking(p[0]));   // still blocking to its owner
        CHECK(kernel_nonblocking(p[0]));         // while the kernel's flag is set
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("an fd its owner made non-blocking still fails with EAGAIN", "[monkey][io]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
        char c;
        errno = 0;
        CHECK(::read(p[0], &c, 1) == -1);
        CHECK(errno == EAGAIN);
        ::close(p[0]);
        ::close(p[1]);

        auto [a, b] = c_tcp_pair();
        REQUIRE(::write(b, "x", 1) == 1);
        CHECK(::recv(a, &c, 1, 0) == 1);
        errno = 0;
        CHECK(::recv(a, &c, 1, MSG_DONTWAIT) == -1);   // MSG_DONTWAIT: the real call, never a wait
        CHECK(errno == EAGAIN);
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("fcntl and FIONBIO switch a managed fd between the caller's two modes", "[monkey][io]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        auto w = gev::spawn([&] { REQUIRE(::write(p[1], "a", 1) == 1); });
        char c;
        REQUIRE(::read(p[0], &c, 1) == 1);   // waited: the fd is managed now
        w.get();
        REQUIRE(kernel_nonblocking(p[0]));
        int fl = ::fcntl(p[0], F_GETFL);
        CHECK((fl & O_NONBLOCK) == 0);
        REQUIRE(::fcntl(p[0], F_SETFL, fl | O_NONBLOCK) == 0);
        CHECK(caller_nonblocking(p[0]));
        CHECK(::read(p[0], &c, 1) == -1);
        CHECK(errno == EAGAIN);
        int off = 0, on = 1;
        REQUIRE(::ioctl(p[0], FIONBIO, &off) == 0);
        CHECK_FALSE(caller_nonblocking(p[0]));
        CHECK(kernel_nonblocking(p[0]));
        REQUIRE(::ioctl(p[0], FIONBIO, &on) == 0);
        CHECK(::read(p[0], &c, 1) == -1);
        CHECK(errno == EAGAIN);
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("SO_RCVTIMEO ends a blocking recv with EAGAIN while other fibers run", "[monkey][io][timeout]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        timeval tv{0, 20'000};
        REQUIRE(::setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
        int ticks = 0;
        auto ticker = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) {
                ++ticks;
                gev::sleep(1ms);
            }
        });
        char c;
        errno = 0;
        CHECK(::recv(a, &c, 1, 0) == -1);
        CHECK(errno == EAGAIN);
        CHECK(ticks == 3);
        timeval got{};
        socklen_t len = sizeof got;
        REQUIRE(::getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &got, &len) == 0);
        CHECK(got.tv_usec == 20'000);
        ticker.get();
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("SO_SNDTIMEO ends a blocking send on a full socket with EAGAIN or a partial count", "[monkey][io][timeout]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        int small = 4096;
        ::setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        timeval tv{0, 10'000};
        REQUIRE(::setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
        std::string big(8 << 20, 'x');
        errno = 0;
        ssize_t n = ::send(a, big.data(), big.size(), 0);   // nobody reads: it cannot all fit
        CHECK((n == -1 ? errno == EAGAIN : n > 0 && static_cast<std::size_t>(n) < big.size()));
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("errno is the C library's: ECONNREFUSED, EBADF, and untouched on success", "[monkey][io][errno]") {
    run_patched([] {
        sockaddr_in at{};
        int l = c_listener(&at);
        ::close(l);   // nothing listens there now
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        errno = 0;
        CHECK(::connect(s, reinterpret_cast<sockaddr*>(&at), sizeof at) == -1);
        CHECK(errno == ECONNREFUSED);
        ::close(s);

        char c;
        CHECK(::read(987654, &c, 1) == -1);
        CHECK(errno == EBADF);
        CHECK(::send(987654, "x", 1, 0) == -1);
        CHECK(errno == EBADF);

        int p[2];
        REQUIRE(::pipe(p) == 0);
        auto w = gev::spawn([&] {
            errno = EIO;   // another fiber's errno must not leak into the reader's
            REQUIRE(::write(p[1], "z", 1) == 1);
        });
        errno = 4242;
        CHECK(::read(p[0], &c, 1) == 1);   // waited, then succeeded
        CHECK(errno == 4242);
        w.get();
        ::close(p[1]);
        CHECK(::read(p[0], &c, 1) == 0);   // end of stream
        ::close(p[0]);
    });
}

TEST_CASE("closing an fd another fiber waits on wakes it with EBADF", "[monkey][io][close]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        int err = 0;
        ssize_t got = 0;
        auto reader = gev::spawn([&] {
            char c;
            got = ::read(p[0], &c, 1);
            err = errno;
        });
        gev::sleep(0ns);   // the reader parks in read()
        REQUIRE(::close(p[0]) == 0);
        reader.get(1s);
        CHECK(got == -1);
        CHECK(err == EBADF);
        ::close(p[1]);
    });
}

TEST_CASE("regular files pass through untouched", "[monkey][io][file]") {
    run_patched([] {
        char path[] = "/tmp/gev-monkey-XXXXXX";
        int fd = ::mkstemp(path);
        REQUIRE(fd >= 0);
        ::unlink(path);
        REQUIRE(::write(fd, "hello", 5) == 5);
        REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
        char buf[8];
        CHECK(::read(fd, buf, sizeof buf) == 5);
        CHECK(::read(fd, buf, sizeof buf) == 0);
        CHECK_FALSE(kernel_nonblocking(fd));
        ::close(fd);
    });
}

TEST_CASE("a dup shares the caller's flag and the blocking behaviour", "[monkey][io][dup]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        int d = ::dup(p[0]);
        int d2 = ::fcntl(p[0], F_DUPFD_CLOEXEC, 100);
        REQUIRE(d2 >= 100);
        Trace trace;
        auto reader = gev::spawn([&] {
            char c;
            trace.push_back("dup read");
            ssize_t n = ::read(d, &c, 1);
            trace.push_back("got " + std::to_string(n));
        });
        auto writer = gev::spawn([&] {
            trace.push_back("write");
            ::write(p[1], "q", 1);
        });
        gev::joinall({reader, writer});
        CHECK(trace == Trace{"dup read", "write", "got 1"});
        REQUIRE(::fcntl(d, F_SETFL, O_NONBLOCK) == 0);   // one description: every dup sees it
        CHECK(caller_nonblocking(p[0]));
        CHECK(caller_nonblocking(d2));
        char c;
        CHECK(::read(p[0], &c, 1) == -1);
        CHECK(errno == EAGAIN);
        REQUIRE(::dup2(p[1], d2) == d2);   // d2 now names the write end
        CHECK(::write(d2, "r", 1) == 1);
        CHECK(::read(d, &c, 1) == 1);
        for (int fd : {p[0], p[1], d, d2}) ::close(fd);
    });
}

TEST_CASE("a blocking stream send moves the whole buffer, as the kernel's would", "[monkey][io][stream]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        std::string big(4 << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
        std::string got;
        auto reader = gev::spawn([&, b = b] {
            char buf[65536];
            while (got.size() < big.size()) {
                ssize_t n = ::recv(b, buf, sizeof buf, 0);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
            }
        });
        CHECK(::send(a, big.data(), big.size(), 0) == static_cast<ssize_t>(big.size()));
        reader.get();
        CHECK(got == big);
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("MSG_WAITALL, readv and writev keep their blocking meaning", "[monkey][io][stream]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        auto writer = gev::spawn([&, a = a] {
            for (const char* part : {"ab", "cd", "ef"}) {
                REQUIRE(::send(a, part, 2, 0) == 2);
                gev::sleep(1ms);
            }
            iovec v[2] = {{const_cast<char*>("12"), 2}, {const_cast<char*>("345"), 3}};
            REQUIRE(::writev(a, v, 2) == 5);
        });
        char buf[6];
        CHECK(::recv(b, buf, 6, MSG_WAITALL) == 6);   // three separate sends, one call
        CHECK(std::string(buf, 6) == "abcdef");
        char x[2], y[3];
        iovec r[2] = {{x, 2}, {y, 3}};
        CHECK(::readv(b, r, 2) == 5);   // one writev arrives whole on loopback
        CHECK(std::string(x, 2) + std::string(y, 3) == "12345");
        writer.get();
        ::close(a);
        ::close(b);
    });
}
