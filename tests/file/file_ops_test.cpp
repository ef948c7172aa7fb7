// tests/file/file_ops_test.cpp — the primitive file ops (file/file_ops.hpp) against the
// C library's semantics: positions, offsets, EOF, errors, on both pollers.
#include "file/file_ops.hpp"
#include "file_support.hpp"
#include "support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

using gev::testing::TempDir;

TEST_CASE("file ops are available inside a hub's fiber and not outside", "[file][ops]") {
    CHECK_FALSE(gev::detail::file_ops_available());
    bool inside = false;
    gev::testing::run([&] { inside = gev::detail::file_ops_available(); });
    CHECK(inside);
}

TEST_CASE("file_read and file_write use and advance the file position like read and write", "[file][ops]") {
    TempDir dir;
    gev::testing::put_file(dir / "a", "0123456789");
    gev::testing::run([&] {
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "a").c_str(), O_RDWR, 0);
        REQUIRE(fd >= 0);
        char buf[4];
        REQUIRE(gev::detail::file_read(fd, buf, 4) == 4);
        CHECK(std::string(buf, 4) == "0123");
        CHECK(::lseek(fd, 0, SEEK_CUR) == 4);
        REQUIRE(gev::detail::file_read(fd, buf, 3) == 3);
        CHECK(std::string(buf, 3) == "456");
        REQUIRE(gev::detail::file_write(fd, "XY", 2) == 2);
        CHECK(::lseek(fd, 0, SEEK_CUR) == 9);
        CHECK(gev::detail::file_read(fd, buf, 4) == 1);
        CHECK(gev::detail::file_read(fd, buf, 4) == 0);   // EOF
        ::close(fd);
    });
    CHECK(gev::testing::get_file(dir / "a") == "0123456XY9");
}

TEST_CASE("with the page-cache first try off, reads at the file position still advance it", "[file][ops]") {
    TempDir dir;
    gev::testing::put_file(dir / "a", "abcdefghij");
    gev::detail::set_file_nowait_first(false);   // every read goes to io_uring (offset -1) or the pool
    gev::testing::run([&] {
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "a").c_str(), O_RDONLY, 0);
        REQUIRE(fd >= 0);
        char buf[4];
        REQUIRE(gev::detail::file_read(fd, buf, 4) == 4);
        CHECK(std::string(buf, 4) == "abcd");
        REQUIRE(gev::detail::file_read(fd, buf, 4) == 4);
        CHECK(std::string(buf, 4) == "efgh");
        CHECK(::lseek(fd, 0, SEEK_CUR) == 8);
        CHECK(gev::detail::file_pread(fd, buf, 2, 1) == 2);
        CHECK(std::string(buf, 2) == "bc");
        CHECK(gev::detail::file_read(fd, buf, 4) == 2);
        CHECK(gev::detail::file_read(fd, buf, 4) == 0);
        ::close(fd);
    });
    gev::detail::set_file_nowait_first(true);
}

TEST_CASE("file_pread and file_pwrite leave the file position alone", "[file][ops]") {
    TempDir dir;
    gev::testing::put_file(dir / "a", "abcdefgh");
    gev::testing::run([&] {
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "a").c_str(), O_RDWR, 0);
        REQUIRE(fd >= 0);
        REQUIRE(::lseek(fd, 2, SEEK_SET) == 2);
        char buf[3];
        REQUIRE(gev::detail::file_pread(fd, buf, 3, 5) == 3);
        CHECK(std::string(buf, 3) == "fgh");
        REQUIRE(gev::detail::file_pwrite(fd, "ZZ", 2, 0) == 2);
        CHECK(::lseek(fd, 0, SEEK_CUR) == 2);
        CHECK(gev::detail::file_pread(fd, buf, 3, 100) == 0);
        CHECK(gev::detail::file_pread(fd, buf, 3, -1) == -EINVAL);
        ::close(fd);
    });
    CHECK(gev::testing::get_file(dir / "a") == "ZZcdefgh");
}

TEST_CASE("a read of more than the file holds returns what there is", "[file][ops]") {
    TempDir dir;
    gev::testing::put_file(dir / "a", std::string(100000, 'q'));
    gev::testing::run([&] {
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "a").c_str(), O_RDONLY, 0);
        std::string buf(300000, '\0');
        CHECK(gev::detail::file_read(fd, buf.data(), buf.size()) == 100000);
        CHECK(gev::detail::file_read(fd, buf.data(), buf.size()) == 0);
        ::close(fd);
    });
}

TEST_CASE("file ops return -errno instead of throwing", "[file][ops]") {
    TempDir dir;
    gev::testing::run([&] {
        CHECK(gev::detail::file_openat(AT_FDCWD, (dir / "missing").c_str(), O_RDONLY, 0) == -ENOENT);
        char c;
        CHECK(gev::detail::file_read(-1, &c, 1) == -EBADF);
        CHECK(gev::detail::file_write(1000000, &c, 1) == -EBADF);
        CHECK(gev::detail::file_fsync(-1, false) == -EBADF);
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "ro").c_str(), O_RDONLY | O_CREAT, 0644);
        REQUIRE(fd >= 0);
        CHECK(gev::detail::file_write(fd, "x", 1) == -EBADF);
        ::close(fd);
    });
}

TEST_CASE("file_openat creates with the mode and close-on-exec, file_statx and file_fsync work", "[file][ops]") {
    TempDir dir;
    gev::testing::run([&] {
        ::umask(022);
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "n").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
        REQUIRE(fd >= 0);
        CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        REQUIRE(gev::detail::file_write(fd, "hello", 5) == 5);
        CHECK(gev::detail::file_fsync(fd, false) == 0);
        CHECK(gev::detail::file_fsync(fd, true) == 0);
        struct statx sx{};
        REQUIRE(gev::detail::file_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0);
        CHECK(sx.stx_size == 5);
        CHECK((sx.stx_mode & 0777) == 0640);
        CHECK(gev::detail::file_statx(AT_FDCWD, (dir / "nope").c_str(), 0, STATX_SIZE, &sx) == -ENOENT);
        CHECK(gev::detail::file_openat(AT_FDCWD, (dir / "n").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640) == -EEXIST);
        ::close(fd);
    });
}

TEST_CASE("file ops outside a hub are the plain calls", "[file][ops]") {
    TempDir dir;
    int fd = gev::detail::file_openat(AT_FDCWD, (dir / "p").c_str(), O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    CHECK(gev::detail::file_write(fd, "abc", 3) == 3);
    char buf[3];
    CHECK(gev::detail::file_pread(fd, buf, 3, 0) == 3);
    CHECK(std::string(buf, 3) == "abc");
    ::close(fd);
}

TEST_CASE("file ops run in the ring on io_uring and on the thread pool on epoll", "[file][ops]") {
    TempDir dir;
    gev::detail::set_file_nowait_first(false);
    gev::testing::run([&] {
        int fd = gev::detail::file_openat(AT_FDCWD, (dir / "r").c_str(), O_RDWR | O_CREAT, 0644);
        REQUIRE(fd >= 0);
        CHECK(gev::detail::file_pwrite(fd, "ring", 4, 0) == 4);
        char buf[4];
        CHECK(gev::detail::file_pread(fd, buf, 4, 0) == 4);
        CHECK(gev::detail::file_fsync(fd, true) == 0);
        struct statx sx{};
        CHECK(gev::detail::file_statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx) == 0);
        ::close(fd);
        gev::HubStats s = gev::stats().at(0);
        if (s.poller == "io_uring") CHECK(s.threadpool_threads == 0);
        else CHECK(s.threadpool_threads > 0);
    });
    gev::detail::set_file_nowait_first(true);
}
