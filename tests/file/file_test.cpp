// tests/file/file_test.cpp — gev::File's API: modes, buffered reads and lines, buffered
// writes with seek/tell, pread/pwrite, stat, fsync, errors naming the path, close.
#include "file/file.hpp"
#include "file_support.hpp"
#include "support.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

using gev::File;
using gev::testing::TempDir;

namespace {
std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
}  // namespace

TEST_CASE("open of a missing file throws FileError naming open and the path", "[file][api]") {
    TempDir dir;
    gev::testing::run([&] {
        try {
            File::open(dir / "missing.txt");
            FAIL("no exception");
        } catch (const gev::FileError& e) {
            CHECK(e.code() == std::errc::no_such_file_or_directory);
            CHECK(std::string(e.what()).find("open " + (dir / "missing.txt")) == 0);
        }
        CHECK_THROWS_AS(File::open(dir / "x", "rw"), gev::FileError);   // not a Python mode
    });
}

TEST_CASE("read(n) returns up to n bytes and an empty string at the end", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "a", "hello world");
    gev::testing::run([&] {
        File f = File::open(dir / "a");
        CHECK(f.read(5) == "hello");
        CHECK(f.read(100) == " world");
        CHECK(f.read(10).empty());
    });
}

TEST_CASE("read_all returns the rest of a large file", "[file][api]") {
    TempDir dir;
    std::string data;
    for (int i = 0; data.size() < 3'000'000; ++i) data += std::to_string(i) + ',';
    gev::testing::put_file(dir / "big", data);
    gev::testing::run([&] {
        File f = File::open(dir / "big");
        CHECK(f.read(7) == data.substr(0, 7));
        std::string rest = f.read_all();
        CHECK(rest.size() == data.size() - 7);
        CHECK(rest == data.substr(7));
        CHECK(f.read_all().empty());
    });
}

TEST_CASE("readline returns lines with their newline and a last line without one", "[file][api]") {
    TempDir dir;
    std::string longline(200000, 'L');   // longer than the buffer
    gev::testing::put_file(dir / "l", "one\ntwo\n\n" + longline + "\nlast");
    gev::testing::run([&] {
        File f = File::open(dir / "l");
        CHECK(f.readline() == "one\n");
        CHECK(f.readline() == "two\n");
        CHECK(f.readline() == "\n");
        CHECK(f.readline() == longline + "\n");
        CHECK(f.readline() == "last");
        CHECK(f.readline().empty());
    });
}

TEST_CASE("range-for over lines() yields every line in order", "[file][api]") {
    TempDir dir;
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
    gev::testing::put_file(dir / "l", text);
    gev::testing::run([&] {
        File f = File::open(dir / "l");
        int i = 0;
        bool in_order = true;
        for (const std::string& line : f.lines()) in_order = in_order && line == "line " + std::to_string(i++) + "\n";
        CHECK(i == 5000);
        CHECK(in_order);
    });
}

TEST_CASE("writes are buffered until flush and written by close", "[file][api]") {
    TempDir dir;
    gev::testing::run([&] {
        File f = File::open(dir / "w", "w");
        f.write("abc");
        CHECK(gev::testing::get_file(dir / "w").empty());
        f.flush();
        CHECK(gev::testing::get_file(dir / "w") == "abc");
        f.write("def");
        f.close();
        CHECK(f.closed());
        f.close();   // a second close does nothing
        CHECK(gev::testing::get_file(dir / "w") == "abcdef");
    });
}

TEST_CASE("a large write and many small writes land in order", "[file][api]") {
    TempDir dir;
    std::string big(1'000'000, 'B');
    gev::testing::run([&] {
        File f = File::open(dir / "w", "w");
        std::string expect;
        for (int i = 0; i < 3000; ++i) {
            f.write(std::to_string(i));
            expect += std::to_string(i);
        }
        f.write(big);
        f.write("end");
        expect += big + "end";
        f.close();
        CHECK(gev::testing::get_file(dir / "w") == expect);
    });
}

TEST_CASE("the destructor flushes and closes", "[file][api]") {
    TempDir dir;
    int before = gev::testing::count_fds();
    gev::testing::run([&] {
        File f = File::open(dir / "d", "w");
        f.write("kept");
    });
    CHECK(gev::testing::get_file(dir / "d") == "kept");
    CHECK(gev::testing::count_fds() == before);
}

TEST_CASE("append mode writes at the end whatever the position", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "a", "start;");
    gev::testing::run([&] {
        File f = File::open(dir / "a", "a+");
        f.seek(0);
        CHECK(f.read(5) == "start");
        f.write("more;");
        f.close();
        File g = File::open(dir / "a", "a");
        g.write("again");
    });
    CHECK(gev::testing::get_file(dir / "a") == "start;more;again");
}

TEST_CASE("tell counts buffered writes and read-ahead, and seek agrees with it", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "s", "0123456789");
    gev::testing::run([&] {
        File f = File::open(dir / "s", "r+");
        CHECK(f.read(3) == "012");
        CHECK(f.tell() == 3);            // the fd is at 10: the rest is read ahead
        f.write("ab");                   // overwrites at 3, buffered
        CHECK(f.tell() == 5);
        CHECK(f.read(2) == "56");        // flushes first
        CHECK(f.tell() == 7);
        CHECK(f.seek(-2, SEEK_CUR) == 5);
        CHECK(f.read(1) == "5");
        CHECK(f.seek(0, SEEK_END) == 10);
        f.write("XY");
        CHECK(f.tell() == 12);
        f.seek(0);
        CHECK(f.read_all() == "012ab56789XY");
    });
}

TEST_CASE("File pread and pwrite work at offsets without moving the position", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "p", "abcdefgh");
    gev::testing::run([&] {
        File f = File::open(dir / "p", "r+");
        CHECK(f.read(2) == "ab");
        std::string buf(3, '\0');
        CHECK(f.pread(std::as_writable_bytes(std::span(buf.data(), 3)), 4) == 3);
        CHECK(buf == "efg");
        CHECK(f.pwrite(bytes("XYZ"), 6) == 3);
        CHECK(f.tell() == 2);
        CHECK(f.pread(std::as_writable_bytes(std::span(buf.data(), 3)), 100) == 0);
    });
    CHECK(gev::testing::get_file(dir / "p") == "abcdefXYZ");
}

TEST_CASE("stat reports size and mode, fsync and fdatasync succeed", "[file][api]") {
    TempDir dir;
    gev::testing::run([&] {
        File f = File::open(dir / "st", "w", 0600);
        f.write(std::string(12345, 'x'));
        f.fsync();
        gev::FileStat s = f.stat();
        CHECK(s.size == 12345);
        CHECK(S_ISREG(s.mode));
        CHECK((s.mode & 0777) == 0600);
        CHECK(s.nlink == 1);
        f.write("y");
        f.fdatasync();
        CHECK(f.stat().size == 12346);
    });
}

TEST_CASE("reading a write-only file or writing a read-only one throws EBADF naming the path", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "r", "x");
    gev::testing::run([&] {
        File w = File::open(dir / "w", "w");
        try {
            w.read(1);
            FAIL("no exception");
        } catch (const gev::FileError& e) {
            CHECK(e.code() == std::errc::bad_file_descriptor);
            CHECK(std::string(e.what()).find("read " + (dir / "w")) == 0);
        }
        File r = File::open(dir / "r");
        CHECK_THROWS_AS(r.write("y"), gev::FileError);
        r.close();
        CHECK_THROWS_AS(r.read(1), gev::FileError);   // closed
    });
}

TEST_CASE("open with x refuses an existing file", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "e", "x");
    gev::testing::run([&] {
        try {
            File::open(dir / "e", "x");
            FAIL("no exception");
        } catch (const gev::FileError& e) {
            CHECK(e.code() == std::errc::file_exists);
        }
        File::open(dir / "new", "x").write("ok");
    });
    CHECK(gev::testing::get_file(dir / "new") == "ok");
}

TEST_CASE("a moved-from File is closed and the moved-to one works", "[file][api]") {
    TempDir dir;
    gev::testing::put_file(dir / "m", "moved");
    gev::testing::run([&] {
        File a = File::open(dir / "m");
        File b = std::move(a);
        CHECK(a.closed());
        CHECK(b.read_all() == "moved");
        File c;
        c = std::move(b);
        CHECK_FALSE(c.closed());
        int open_before = gev::testing::count_fds();
        File d = File::open(dir / "m");
        d = std::move(c);   // d's own file is closed
        CHECK(gev::testing::count_fds() == open_before);
        CHECK_FALSE(d.closed());
    });
}
