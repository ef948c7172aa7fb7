// tests/monkey/iov2_test.cpp — preadv2 and pwritev2 from plain C callers, hooked as
// readv/writev and preadv/pwritev are: at the file position on a blocking pipe they park
// only the fiber (and a stream write moves all of it), on a regular file they run on
// the hub's thread pool at the offset or the file position; off a fiber, an offset on a
// pipe (ESPIPE) and RWF_NOWAIT, they are the C library's.
#include "file/file_ops.hpp"
#include "monkey_support.hpp"
#include "plain_calls.hpp"

#include <cerrno>
#include <string>
#include <thread>

using namespace gev::testing;

namespace {

// Not $GEV_FILE_NOWAIT: libgev reads it when it loads, before this file's statics.
[[maybe_unused]] const bool kNoWaitOff = (gev::detail::set_file_nowait_first(false), true);

int temp_file() {
    char path[] = "/tmp/gev_monkey_iov2_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::unlink(path);
    return fd;
}

}  // namespace

TEST_CASE("a blocking preadv2 on a pipe parks only its fiber while another fiber runs", "[monkey][iov2]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        Trace trace;
        auto reader = gev::spawn([&] {
            trace.push_back("read starts");
            char a[2] = {}, b[8] = {};
            iovec in[2] = {{a, 2}, {b, sizeof b}};
            ssize_t n = plain_preadv2(p[0], in, 2, -1, 0);
            trace.push_back("read " + std::to_string(n) + " " + std::string(a, 2) + std::string(b, 1));
        });
        auto writer = gev::spawn([&] {
            trace.push_back("writer runs");
            REQUIRE(::write(p[1], "abc", 3) == 3);
        });
        gev::joinall({reader, writer});
        CHECK(trace == Trace{"read starts", "writer runs", "read 3 abc"});
        CHECK_FALSE(caller_nonblocking(p[0]));
        char c;
        iovec one{&c, 1};
        errno = 0;
        CHECK(plain_preadv2(p[0], &one, 1, 0, 0) == -1);   // an offset on a pipe: the kernel's ESPIPE
        CHECK(errno == ESPIPE);
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("a blocking pwritev2 on a full pipe parks until all of it is through", "[monkey][iov2]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        std::string big(256 * 1024, 'w');   // more than a pipe holds
        std::size_t got = 0;
        auto drain = gev::spawn([&] {
            char buf[65536];
            while (got < big.size()) {
                ssize_t n = ::read(p[0], buf, sizeof buf);
                if (n <= 0) break;
                got += static_cast<std::size_t>(n);
            }
        });
        iovec out[2] = {{big.data(), 1000}, {big.data() + 1000, big.size() - 1000}};
        CHECK(plain_pwritev2(p[1], out, 2, -1, 0) == static_cast<ssize_t>(big.size()));
        drain.get(std::chrono::seconds(2));
        CHECK(got == big.size());
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("preadv2 and pwritev2 on a regular file run on the hub's thread pool", "[monkey][iov2][file]") {
    run_patched([] {
        int fd = temp_file();
        char a[] = "one ", b[] = "two";
        iovec out[2] = {{a, 4}, {b, 3}};
        Ticker ticker;
        CHECK(plain_pwritev2(fd, out, 2, -1, 0) == 7);   // at the file position, which moves
        CHECK(ticker.finish() > 0);
        CHECK(::lseek(fd, 0, SEEK_CUR) == 7);
        char x[4] = {}, y[8] = {};
        iovec in[2] = {{x, 3}, {y, sizeof y}};
        Ticker ticker2;
        CHECK(plain_preadv2(fd, in, 2, 0, 0) == 7);   // at an offset: the position stays
        CHECK(ticker2.finish() > 0);
        CHECK(std::string(x, 3) == "one");
        CHECK(std::string(y, 4) == " two");
        CHECK(::lseek(fd, 0, SEEK_CUR) == 7);
        errno = 0;
        CHECK(plain_preadv2(fd, in, 2, -5, 0) == -1);   // the kernel's EINVAL
        CHECK(errno == EINVAL);
        ::close(fd);
    });
}

TEST_CASE("preadv2 off a fiber and with RWF_NOWAIT is the C library's", "[monkey][iov2]") {
    run_patched([] {
        int fd = temp_file();
        REQUIRE(::write(fd, "plain", 5) == 5);
        char buf[8] = {};
        iovec in{buf, sizeof buf};
        ssize_t off_fiber = -2;
        std::thread([&] { off_fiber = plain_preadv2(fd, &in, 1, 0, 0); }).join();
        CHECK(off_fiber == 5);
        ssize_t nowait = plain_preadv2(fd, &in, 1, 1, RWF_NOWAIT);   // cached data, or EAGAIN/EOPNOTSUPP
        CHECK((nowait == 4 || (nowait == -1 && (errno == EAGAIN || errno == EOPNOTSUPP))));
        ::close(fd);
    });
}
