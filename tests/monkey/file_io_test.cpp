// tests/monkey/file_io_test.cpp — regular files under monkey patching, from plain C
// callers: read/write/pread/pwrite (and readv, pwritev) on a hub's fiber go through
// gev's file operations, parking only the fiber (another fiber runs meanwhile), with
// the system calls' results: counts, the file position, errno. Not patched, or off a
// fiber, they are the C library's. The synchronous page-cache attempt is turned off
// for the whole binary, so every read parks.
#include "file/file_ops.hpp"
#include "monkey_support.hpp"
#include "plain_calls.hpp"


#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>

using namespace gev::testing;

namespace {

// Not $GEV_FILE_NOWAIT: libgev reads it when it loads, before this file's statics.
[[maybe_unused]] const bool kNoWaitOff = (gev::detail::set_file_nowait_first(false), true);

// A fresh temporary file open for reading and writing, removed at once.
int temp_file(int extra_flags = 0) {
    char path[] = "/tmp/gev_monkey_file_XXXXXX";
    int fd = ::mkostemp(path, extra_flags);
    REQUIRE(fd >= 0);
    ::unlink(path);
    return fd;
}

}  // namespace

TEST_CASE("read and write on a regular file park the fiber and keep the system calls' results", "[monkey][file]") {
    run_patched([] {
        int fd = temp_file();
        Ticker ticker;
        errno = 1234;
        CHECK(plain_write(fd, "hello world", 11) == 11);
        CHECK(ticker.finish() > 0);   // the write parked: the ticker ran
        CHECK(errno == 1234);
        CHECK(::lseek(fd, 0, SEEK_CUR) == 11);
        REQUIRE(::lseek(fd, 6, SEEK_SET) == 6);
        char buf[32] = {};
        Ticker ticker2;
        CHECK(plain_read(fd, buf, sizeof buf) == 5);   // a short read at the end, as read(2)
        CHECK(ticker2.finish() > 0);
        CHECK(std::string(buf) == "world");
        CHECK(::lseek(fd, 0, SEEK_CUR) == 11);
        CHECK(plain_read(fd, buf, sizeof buf) == 0);   // end of file
        ::close(fd);
    });
}

TEST_CASE("pread and pwrite on a regular file park and leave the file position alone", "[monkey][file]") {
    run_patched([] {
        int fd = temp_file();
        Ticker ticker;
        CHECK(plain_pwrite(fd, "abcdef", 6, 100) == 6);
        CHECK(ticker.finish() > 0);
        CHECK(::lseek(fd, 0, SEEK_CUR) == 0);
        char buf[8] = {};
        Ticker ticker2;
        CHECK(plain_pread(fd, buf, 3, 102) == 3);
        CHECK(ticker2.finish() > 0);
        CHECK(std::string(buf) == "cde");
        CHECK(plain_pread(fd, buf, 3, 0) == 3);   // the hole reads as zeros
        CHECK(buf[0] == '\0');
        CHECK(::lseek(fd, 0, SEEK_CUR) == 0);
        ::close(fd);
    });
}

TEST_CASE("readv and pwritev on a regular file run on the hub's thread pool", "[monkey][file]") {
    run_patched([] {
        int fd = temp_file();
        char a[] = "one ", b[] = "two";
        iovec out[2] = {{a, 4}, {b, 3}};
        Ticker ticker;
        CHECK(plain_pwritev(fd, out, 2, 0) == 7);
        CHECK(ticker.finish() > 0);
        char x[4] = {}, y[8] = {};
        iovec in[2] = {{x, 3}, {y, sizeof y}};
        Ticker ticker2;
        CHECK(plain_readv(fd, in, 2) == 7);
        CHECK(ticker2.finish() > 0);
        CHECK(std::string(x, 3) == "one");
        CHECK(std::string(y, 4) == " two");
        CHECK(::lseek(fd, 0, SEEK_CUR) == 7);
        ::close(fd);
    });
}

TEST_CASE("file errors are the system calls' errno, and O_APPEND appends", "[monkey][file]") {
    run_patched([] {
        char path[] = "/tmp/gev_monkey_file_XXXXXX";
        int rw = ::mkstemp(path);
        REQUIRE(rw >= 0);
        REQUIRE(plain_write(rw, "12345", 5) == 5);
        int wo = ::open(path, O_WRONLY | O_APPEND);
        REQUIRE(wo >= 0);
        ::unlink(path);
        char c;
        errno = 0;
        CHECK(plain_read(wo, &c, 1) == -1);
        CHECK(errno == EBADF);
        errno = 0;
        CHECK(plain_pwrite(rw, "x", 1, -1) == -1);
        CHECK(errno == EINVAL);
        CHECK(plain_write(wo, "67", 2) == 2);
        char buf[8] = {};
        CHECK(plain_pread(rw, buf, sizeof buf, 0) == 7);
        CHECK(std::string(buf) == "1234567");
        int p[2];
        REQUIRE(::pipe(p) == 0);
        errno = 0;
        CHECK(plain_pread(p[0], buf, 1, 0) == -1);   // not a file: the real call
        CHECK(errno == ESPIPE);
        for (int fd : {rw, wo, p[0], p[1]}) ::close(fd);
    });
}

TEST_CASE("regular-file IO is the C library's when files are not patched or off a fiber", "[monkey][file]") {
    gev::monkey::patch_socket();
    struct Unpatch {
        ~Unpatch() { gev::monkey::unpatch_all(); }
    } unpatch;
    run([] {
        int fd = temp_file();
        Ticker ticker;
        CHECK(plain_write(fd, "abc", 3) == 3);
        char buf[4] = {};
        CHECK(plain_pread(fd, buf, 3, 0) == 3);
        CHECK(ticker.finish() == 0);   // no park
        gev::monkey::patch_all();
        ssize_t n = -2;
        std::thread([&] { n = plain_pread(fd, buf, 3, 0); }).join();
        CHECK(n == 3);
        ::close(fd);
    });
}

TEST_CASE("a number closed behind the hooks' back and reused for a file is routed as a file", "[monkey][file]") {
    run_patched([] {
        for (bool positioned : {true, false}) {
            int p[2];
            REQUIRE(::pipe(p) == 0);   // recorded as a pipe...
            gev::monkey::original::close(p[1]);
            gev::monkey::original::close(p[0]);   // ...and closed unseen, as a sanitizer or stdio does
            int fd = temp_file();
            REQUIRE(fd == p[0]);
            Ticker ticker;
            if (positioned) CHECK(plain_pwrite(fd, "abc", 3, 0) == 3);
            else CHECK(plain_write(fd, "abc", 3) == 3);
            CHECK(ticker.finish() > 0);
            ::close(fd);
        }
    });
}

// The watchdog reports from a signal handler: with stderr a regular file and the file
// hooks on, its write(2) must not be routed to the thread pool (a park inside a signal
// handler).
TEST_CASE("the blocked-hub report reaches a stderr redirected to a file while files are patched", "[monkey][file]") {
    int log = temp_file();
    std::fflush(stderr);
    int saved = ::dup(2);
    REQUIRE(::dup2(log, 2) == 2);
    gev::monkey::patch_all();
    gev::RunOptions opts;
    opts.monitor = true;
    gev::run([] {
        auto busy = gev::spawn(gev::SpawnOptions{.name = "busy"}, [] {
            auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
            while (std::chrono::steady_clock::now() < until) {
            }
        });
        busy.join();
        gev::sleep(std::chrono::milliseconds(60));   // one more look: the hub moved again
    }, opts);
    gev::monkey::unpatch_all();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::string text(4096, '\0');
    ssize_t n = ::pread(log, text.data(), text.size(), 0);
    ::close(log);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    INFO(text);
    CHECK(text.find("blocked for at least") != std::string::npos);
    CHECK(text.find("by <busy id=") != std::string::npos);
}
