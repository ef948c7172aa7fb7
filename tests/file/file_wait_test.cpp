// tests/file/file_wait_test.cpp — what a file op does to the rest of the hub: other
// fibers run while it waits, a kill or Timeout during it leaves nothing with the kernel
// and no fd behind, and sendfile parks on a full socket.
#include "file/file.hpp"
#include "file_support.hpp"
#include "runtime/hub.hpp"

#include <algorithm>
#include <chrono>
#include <string>

using gev::File;
using gev::testing::TempDir;
using namespace std::chrono_literals;

namespace {
std::size_t outstanding() { return gev::detail::Hub::current()->poller().outstanding(); }

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    return s;
}
// Where a and b first differ (npos: equal), so a failure prints a number, not 16 MiB.
std::size_t first_difference(const std::string& a, const std::string& b) {
    auto [pa, pb] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    return pa == a.end() && pb == b.end() ? std::string::npos : static_cast<std::size_t>(pa - a.begin());
}
}  // namespace

TEST_CASE("another fiber keeps running while a large cold read waits", "[file][wait]") {
    TempDir dir;
    std::string data = pattern(16 << 20);
    gev::testing::put_file(dir / "big", data);
    gev::testing::make_cold(dir / "big");
    gev::testing::run([&] {
        bool reading = true;
        int ticks_during = 0;
        auto ticker = gev::spawn([&] {
            for (int i = 0; i < 100000 && reading; ++i) {
                gev::sleep(0s);
                ++ticks_during;
            }
        });
        File f = File::open(dir / "big");
        std::string got(data.size(), '\0');
        std::size_t done = 0;
        for (int i = 0; i < 100000 && done < got.size(); ++i) {   // a read may be short; 0 is the end
            std::size_t n = f.read(std::as_writable_bytes(
                std::span(got.data() + done, std::min<std::size_t>(1 << 20, got.size() - done))));
            if (n == 0) break;
            done += n;
        }
        reading = false;
        ticker.join();
        CHECK(done == data.size());
        CHECK(first_difference(got, data) == std::string::npos);
        CHECK(ticks_during > 0);
    });
}

TEST_CASE("a kill during a file write leaves no operation with the kernel and no fd open", "[file][wait]") {
    TempDir dir;
    std::string chunk = pattern(4 << 20);
    int before = gev::testing::count_fds();
    gev::testing::run([&] {
        int writes = 0;
        auto writer = gev::spawn([&] {
            File f = File::open(dir / "k", "w");
            for (int i = 0; i < 16; ++i) {
                f.write(chunk);
                ++writes;
            }
        });
        gev::sleep(0s);   // the writer starts and parks in its first write
        writer.kill();
        CHECK(writer.dead());
        CHECK(writes < 16);
        CHECK(outstanding() == 0);
    });
    CHECK(gev::testing::count_fds() == before);
}

TEST_CASE("a Timeout during file writes raises Timeout, the file is closed, and later ops work", "[file][wait]") {
    TempDir dir;
    std::string chunk = pattern(4 << 20);
    int before = gev::testing::count_fds();
    gev::testing::run([&] {
        bool timed_out = false;
        try {
            gev::Timeout limit{1ms};
            File f = File::open(dir / "t", "w");
            for (int i = 0; i < 100; ++i) f.write(chunk);   // 400 MiB: far longer than 1 ms
        } catch (const gev::Timeout&) {
            timed_out = true;
        }
        CHECK(timed_out);
        CHECK(outstanding() == 0);
        File g = File::open(dir / "after", "w");
        g.write("fine");
        g.close();
        CHECK(File::open(dir / "after").read_all() == "fine");
    });
    CHECK(gev::testing::count_fds() == before);
}

TEST_CASE("sendfile sends a file range over a loopback socket, parking while the socket is full", "[file][sendfile]") {
    TempDir dir;
    std::string data = pattern(8 << 20);
    gev::testing::put_file(dir / "s", data);
    gev::testing::run([&] {
        auto [client, server] = gev::testing::tcp_pair();
        File f = File::open(dir / "s");
        std::string got;
        auto reader = gev::spawn([&, &client = client] {
            std::string buf(1 << 16, '\0');
            while (std::size_t n = client.recv(std::span(buf.data(), buf.size()))) got.append(buf.data(), n);
        });
        std::size_t sent = gev::sendfile(server, f, 1000, data.size() - 2000);
        CHECK(sent == data.size() - 2000);
        CHECK(gev::sendfile(server, f, static_cast<off_t>(data.size()) - 10, 100) == 10);   // the file ends first
        CHECK(f.tell() == 0);   // the File's position is left alone
        server.close();
        reader.join();
        CHECK(first_difference(got, data.substr(1000, data.size() - 2000) + data.substr(data.size() - 10)) == std::string::npos);
    });
}

TEST_CASE("sendfile of a cold file sends it all while another fiber keeps running", "[file][sendfile]") {
    TempDir dir;
    std::string data = pattern(8 << 20);
    gev::testing::put_file(dir / "c", data);
    gev::testing::make_cold(dir / "c");
    gev::testing::run([&] {
        auto [client, server] = gev::testing::tcp_pair();
        File f = File::open(dir / "c");
        std::string got;
        bool sending = true;
        int ticks_during = 0;
        auto reader = gev::spawn([&, &client = client] {
            std::string buf(1 << 16, '\0');
            while (std::size_t n = client.recv(std::span(buf.data(), buf.size()))) {
                got.append(buf.data(), n);
                if (sending) ++ticks_during;
            }
        });
        CHECK(gev::sendfile(server, f, 0, data.size()) == data.size());
        sending = false;
        server.close();
        reader.join();
        CHECK(first_difference(got, data) == std::string::npos);
        CHECK(ticks_during > 0);
    });
}

TEST_CASE("sendfile to a closed peer throws a SocketError naming sendfile", "[file][sendfile]") {
    TempDir dir;
    gev::testing::put_file(dir / "s", pattern(4 << 20));
    gev::testing::run([&] {
        auto [client, server] = gev::testing::tcp_pair();
        File f = File::open(dir / "s");
        client.close();
        try {
            for (int i = 0; i < 100; ++i) gev::sendfile(server, f, 0, 4 << 20);
            FAIL("no exception");
        } catch (const gev::net::SocketError& e) {
            CHECK(std::string(e.what()).find("sendfile") == 0);
        }
    });
}
