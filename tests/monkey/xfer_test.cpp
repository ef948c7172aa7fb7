// tests/monkey/xfer_test.cpp — sendfile, splice, sendmmsg and recvmmsg under monkey
// patching, called from plain C code: a blocking transfer parks only its fiber while
// another runs; partial counts, offsets, errno, MSG_WAITFORONE and the recvmmsg
// timeout are the kernel's; an fd its owner made non-blocking still gets EAGAIN, and a
// call off a fiber is the C library's.
#include "monkey_support.hpp"
#include "plain_calls.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/un.h>

#include <cerrno>
#include <string>

using namespace std::chrono_literals;
using namespace gev::testing;

namespace {

// A temporary regular file holding `n` bytes of a known pattern; removed at once
// (the fd keeps it).
int pattern_file(std::size_t n) {
    char path[] = "/tmp/gev_xfer_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::unlink(path);
    std::string data(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>('a' + i % 26);
    REQUIRE(gev::monkey::original::write(fd, data.data(), n) == static_cast<ssize_t>(n));
    return fd;
}

bool is_pattern(const std::string& got, std::size_t from) {
    for (std::size_t i = 0; i < got.size(); ++i)
        if (got[i] != static_cast<char>('a' + (from + i) % 26)) return false;
    return true;
}

// A connected Unix stream pair with small buffers, so a large transfer must wait.
// (Loopback TCP with buffers this small crawls, blocking or not: delayed ACKs.)
std::pair<int, int> unix_pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    return {sv[0], sv[1]};
}

void small_buffers(int fd) {
    int sz = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

// Reads until end of stream on a fiber; returns what came.
gev::Greenlet<std::string> drain(int fd) {
    return gev::spawn([fd] {
        std::string got;
        char buf[8192];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
        return got;
    });
}

}  // namespace

TEST_CASE("a blocking sendfile parks its fiber until every byte reached a slow reader", "[monkey][xfer]") {
    run_patched([] {
        constexpr std::size_t kSize = 1 << 20;
        int file = pattern_file(kSize);
        auto [a, b] = unix_pair();
        small_buffers(a);
        small_buffers(b);
        timeval limit{5, 0};   // without the hook the kernel would stop here, not hang
        ::setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        auto reader = drain(b);
        Ticker ticker;
        off_t off = 100;
        ssize_t n = plain_sendfile(a, file, &off, kSize);
        CHECK(ticker.finish() > 0);
        CHECK(n == static_cast<ssize_t>(kSize - 100));   // stops at the file's end
        CHECK(off == static_cast<off_t>(kSize));
        CHECK(::lseek(file, 0, SEEK_CUR) == static_cast<off_t>(kSize));   // an offset leaves the position alone
        ::close(a);
        std::string got = reader.get();
        CHECK(got.size() == kSize - 100);
        CHECK(is_pattern(got, 100));
        ::close(b);
        ::close(file);
    });
}

TEST_CASE("sendfile without an offset moves the file position; SO_SNDTIMEO ends it with a partial count",
          "[monkey][xfer]") {
    run_patched([] {
        constexpr std::size_t kSize = 1 << 20;
        int file = pattern_file(kSize);
        ::lseek(file, 0, SEEK_SET);
        auto [a, b] = unix_pair();
        small_buffers(a);
        small_buffers(b);
        timeval tv{0, 20'000};
        REQUIRE(::setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
        Ticker ticker;
        ssize_t n = plain_sendfile(a, file, nullptr, kSize);   // nobody reads: the buffers fill
        CHECK(ticker.finish() > 0);
        REQUIRE(n > 0);
        CHECK(n < static_cast<ssize_t>(kSize));
        CHECK(::lseek(file, 0, SEEK_CUR) == n);
        errno = 0;
        CHECK(plain_sendfile(a, file, nullptr, kSize) == -1);   // still full: the timeout, nothing moved
        CHECK(errno == EAGAIN);
        ::close(a);
        ::close(b);
        ::close(file);
    });
}

TEST_CASE("sendfile to a socket its owner made non-blocking gets EAGAIN, and bad fds get EBADF", "[monkey][xfer]") {
    run_patched([] {
        int file = pattern_file(1 << 20);
        auto [a, b] = unix_pair();
        small_buffers(a);
        REQUIRE(::fcntl(a, F_SETFL, ::fcntl(a, F_GETFL) | O_NONBLOCK) == 0);
        off_t off = 0;
        ssize_t first = plain_sendfile(a, file, &off, 1 << 20);
        CHECK(first > 0);
        CHECK(first < (1 << 20));   // a partial count, never a wait
        errno = 0;
        CHECK(plain_sendfile(a, file, &off, 1 << 20) == -1);
        CHECK(errno == EAGAIN);
        errno = 0;
        CHECK(plain_sendfile(a, -1, &off, 10) == -1);
        CHECK(errno == EBADF);
        ::close(a);
        ::close(b);
        ::close(file);
    });
}

TEST_CASE("sendfile off a fiber is the C library's call and leaves the socket blocking", "[monkey][xfer]") {
    gev::monkey::patch_all();
    int file = pattern_file(4096);
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    ssize_t n = -2;
    std::thread([&] {
        off_t off = 0;
        n = plain_sendfile(sv[0], file, &off, 4096);
    }).join();
    CHECK(n == 4096);
    CHECK_FALSE(kernel_nonblocking(sv[0]));
    ::close(sv[0]);
    ::close(sv[1]);
    ::close(file);
    gev::monkey::unpatch_all();
}

TEST_CASE("a blocking splice from a socket into a pipe parks until data comes, then returns what moved",
          "[monkey][xfer]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        int p[2];
        REQUIRE(::pipe(p) == 0);
        Trace trace;
        auto writer = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) gev::sleep(1ms);
            trace.push_back("writer sends");
            REQUIRE(::write(b, "hello", 5) == 5);
        });
        Watchdog rescue([&] { gev::monkey::original::write(b, "x", 1); });
        trace.push_back("splice starts");
        ssize_t n = plain_splice(a, nullptr, p[1], nullptr, 4096, 0);
        trace.push_back("splice " + std::to_string(n));
        writer.get();
        CHECK(trace == Trace{"splice starts", "writer sends", "splice 5"});
        char buf[8];
        CHECK(::read(p[0], buf, sizeof buf) == 5);
        CHECK(std::string(buf, 5) == "hello");
        // The other way: from a pipe into a socket whose peer is slow to read.
        std::string big(4 << 20, 'z');
        auto feeder = gev::spawn([&] { REQUIRE(::write(p[1], big.data(), big.size()) == static_cast<ssize_t>(big.size())); });
        auto reader = gev::spawn([&] {
            std::string got;
            char chunk[4096];
            while (got.size() < big.size()) {
                ssize_t r = ::read(b, chunk, sizeof chunk);
                if (r <= 0) break;
                got.append(chunk, static_cast<std::size_t>(r));
            }
            return got;
        });
        std::size_t moved = 0;
        while (moved < big.size()) {
            ssize_t r = plain_splice(p[0], nullptr, a, nullptr, big.size() - moved, 0);
            REQUIRE(r > 0);
            moved += static_cast<std::size_t>(r);
        }
        feeder.get();
        CHECK(reader.get() == big);
        for (int fd : {a, b, p[0], p[1]}) ::close(fd);
    });
}

TEST_CASE("splice from an empty pipe its owner made non-blocking gets EAGAIN; at end of stream 0", "[monkey][xfer]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        int p[2];
        REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
        errno = 0;
        CHECK(plain_splice(p[0], nullptr, a, nullptr, 100, 0) == -1);
        CHECK(errno == EAGAIN);
        ::close(p[0]);
        ::close(p[1]);
        int q[2];
        REQUIRE(::pipe(q) == 0);
        ::close(q[1]);
        CHECK(plain_splice(q[0], nullptr, a, nullptr, 100, 0) == 0);   // no writer left
        errno = 0;
        CHECK(plain_splice(q[0], nullptr, -1, nullptr, 100, 0) == -1);
        CHECK(errno == EBADF);
        for (int fd : {a, b, q[0]}) ::close(fd);
    });
}

TEST_CASE("a blocking sendmmsg on a stream moves every message whole while the reader runs", "[monkey][xfer]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        small_buffers(sv[0]);
        std::string parts[3] = {std::string(100'000, 'a'), std::string(150'000, 'b'), std::string(70'000, 'c')};
        iovec iov[3];
        mmsghdr msgs[3]{};
        for (int i = 0; i < 3; ++i) {
            iov[i] = iovec{parts[i].data(), parts[i].size()};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        auto reader = gev::spawn([fd = sv[1]] {
            std::string got;
            char buf[8192];
            while (got.size() < 320'000) {
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
            }
            return got;
        });
        CHECK(plain_sendmmsg(sv[0], msgs, 3, 0) == 3);
        for (int i = 0; i < 3; ++i) CHECK(msgs[i].msg_len == parts[i].size());
        CHECK(reader.get() == parts[0] + parts[1] + parts[2]);
        ::close(sv[0]);
        ::close(sv[1]);
    });
}

TEST_CASE("sendmmsg with MSG_DONTWAIT on a full socket is the kernel's call: a partial count or EAGAIN",
          "[monkey][xfer]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
        char byte = 'x';
        iovec iov{&byte, 1};
        mmsghdr msgs[4]{};
        for (auto& m : msgs) {
            m.msg_hdr.msg_iov = &iov;
            m.msg_hdr.msg_iovlen = 1;
        }
        CHECK(plain_sendmmsg(sv[0], msgs, 4, 0) == 4);   // datagrams: one message each
        int sent = 0;
        for (int i = 0; i < 10'000; ++i) {   // fill the receive queue
            int r = plain_sendmmsg(sv[0], msgs, 4, MSG_DONTWAIT);
            if (r < 0) break;
            sent += r;
        }
        errno = 0;
        CHECK(plain_sendmmsg(sv[0], msgs, 4, MSG_DONTWAIT) == -1);
        CHECK(errno == EAGAIN);
        CHECK(sent > 0);
        ::close(sv[0]);
        ::close(sv[1]);
    });
}

TEST_CASE("recvmmsg with MSG_WAITFORONE parks for the first datagram and returns what had come", "[monkey][xfer]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
        char bufs[4][16];
        iovec iov[4];
        mmsghdr msgs[4]{};
        for (int i = 0; i < 4; ++i) {
            iov[i] = iovec{bufs[i], sizeof bufs[i]};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        Trace trace;
        auto sender = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) gev::sleep(1ms);
            trace.push_back("send");
            REQUIRE(::send(sv[1], "one", 3, 0) == 3);
            REQUIRE(::send(sv[1], "two", 3, 0) == 3);
        });
        Watchdog rescue([&] { gev::monkey::original::send(sv[1], "!", 1, 0); });
        trace.push_back("recv starts");
        int n = plain_recvmmsg(sv[0], msgs, 4, MSG_WAITFORONE, nullptr);
        trace.push_back("recv " + std::to_string(n));
        sender.get();
        CHECK(trace == Trace{"recv starts", "send", "recv 2"});
        CHECK(msgs[0].msg_len == 3);
        CHECK(std::string(bufs[1], msgs[1].msg_len) == "two");
        // Without MSG_WAITFORONE a blocking recvmmsg waits for all of them.
        auto later = gev::spawn([&] {
            REQUIRE(::send(sv[1], "a", 1, 0) == 1);
            gev::sleep(1ms);
            REQUIRE(::send(sv[1], "bb", 2, 0) == 2);
            gev::sleep(1ms);
            REQUIRE(::send(sv[1], "ccc", 3, 0) == 3);
        });
        CHECK(plain_recvmmsg(sv[0], msgs, 3, 0, nullptr) == 3);
        CHECK(msgs[2].msg_len == 3);
        later.get();
        ::close(sv[0]);
        ::close(sv[1]);
    });
}

TEST_CASE("recvmmsg's timeout is looked at only after a datagram arrives, as in the kernel", "[monkey][xfer]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
        char bufs[3][8];
        iovec iov[3];
        mmsghdr msgs[3]{};
        for (int i = 0; i < 3; ++i) {
            iov[i] = iovec{bufs[i], sizeof bufs[i]};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        auto sender = gev::spawn([&] {
            for (int i = 0; i < 3; ++i) gev::sleep(1ms);
            REQUIRE(::send(sv[1], "x", 1, 0) == 1);
        });
        Watchdog rescue([&] { gev::monkey::original::send(sv[1], "!", 1, 0); });
        timespec zero{0, 0};   // already over, yet the call waits for the first datagram
        CHECK(plain_recvmmsg(sv[0], msgs, 3, 0, &zero) == 1);
        CHECK(zero.tv_sec == 0);
        CHECK(zero.tv_nsec == 0);
        sender.get();
        errno = 0;
        CHECK(plain_recvmmsg(sv[0], msgs, 3, MSG_DONTWAIT, nullptr) == -1);
        CHECK(errno == EAGAIN);
        timespec bad{0, 2'000'000'000};
        errno = 0;
        CHECK(plain_recvmmsg(sv[0], msgs, 3, 0, &bad) == -1);
        CHECK(errno == EINVAL);
        ::close(sv[0]);
        ::close(sv[1]);
    });
}

TEST_CASE("SO_RCVTIMEO ends a blocking recvmmsg with EAGAIN", "[monkey][xfer]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
        timeval tv{0, 20'000};
        REQUIRE(::setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
        char buf[8];
        iovec iov{buf, sizeof buf};
        mmsghdr msg{};
        msg.msg_hdr.msg_iov = &iov;
        msg.msg_hdr.msg_iovlen = 1;
        Ticker ticker;
        errno = 0;
        CHECK(plain_recvmmsg(sv[0], &msg, 1, 0, nullptr) == -1);
        CHECK(errno == EAGAIN);
        CHECK(ticker.finish() > 0);
        ::close(sv[0]);
        ::close(sv[1]);
    });
}
