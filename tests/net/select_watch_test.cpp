// tests/net/select_watch_test.cpp — select's waits as watches of the hub's per-fd
// descriptor: any number of selects, and a Socket's own wait, on one fd at once, each
// woken for the direction it asked for; a registration net/ made is reused (nothing
// added, nothing removed), and an fd closed while a select waits leaves none behind.
#include "net_support.hpp"

#include <dirent.h>
#include <sys/socket.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>

using namespace std::chrono_literals;
using gev::net::Socket;
using gev::net::SocketError;
using namespace gev::testing;

namespace {

using Fds = std::vector<int>;
using Trace = std::vector<std::string>;

bool on_epoll() { return std::strcmp(gev::poller_name(), "epoll") == 0; }

// How many entries the epoll sets of this process (the hub's) hold for fd, from fdinfo.
int epoll_entries(int fd) {
    DIR* d = ::opendir("/proc/self/fd");
    REQUIRE(d != nullptr);
    int found = 0;
    while (dirent* e = ::readdir(d)) {
        char link[64] = {};
        std::string path = std::string("/proc/self/fd/") + e->d_name;
        if (::readlink(path.c_str(), link, sizeof link - 1) <= 0 || std::strcmp(link, "anon_inode:[eventpoll]") != 0)
            continue;
        std::ifstream info(std::string("/proc/self/fdinfo/") + e->d_name);
        for (std::string line; std::getline(info, line);) {
            int tfd = -1;
            if (std::sscanf(line.c_str(), "tfd: %d", &tfd) == 1 && tfd == fd) ++found;
        }
    }
    ::closedir(d);
    return found;
}

std::pair<Socket, Socket> unix_pair() {
    int p[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) == 0);
    return {Socket::adopt(p[0]), Socket::adopt(p[1])};
}

// Fills s's send buffer (and its peer's receive buffer) until a send would block.
void fill(Socket& s) {
    std::string chunk(65536, 'f');
    for (int i = 0; i < 1000 && ::send(s.fileno(), chunk.data(), chunk.size(), MSG_DONTWAIT) > 0; ++i) {
    }
}

}  // namespace

TEST_CASE("two fibers selecting on one fd at once both see it ready", "[net][select][watch]") {
    run([] {
        auto [a, b] = unix_pair();
        auto sel = [fd = b.fileno()] { return gev::net::select({fd}, {}, {}, 2s).readable; };
        auto first = gev::spawn(sel);
        auto second = gev::spawn(sel);
        gev::sleep(2ms);   // both park (before: the second's watcher died with ConcurrentObjectUseError)
        a.sendall("x");
        CHECK(first.get(2s) == Fds{b.fileno()});
        CHECK(second.get(2s) == Fds{b.fileno()});
    });
}

TEST_CASE("a select on a socket net/ already waits on registers nothing new", "[net][select][watch]") {
    run([] {
        auto [c, s] = tcp_pair();
        s.set_timeout(2s);
        auto reader = gev::spawn([&s] { return s.recv(1); });   // leaves a byte for the select to see
        gev::sleep(1ms);   // the Socket's recv parks: its fd is registered once
        if (on_epoll()) REQUIRE(epoll_entries(s.fileno()) == 1);
        auto watcher = gev::spawn([fd = s.fileno()] { return gev::net::select({fd}, {}, {}, 2s).readable; });
        gev::sleep(1ms);
        if (on_epoll()) CHECK(epoll_entries(s.fileno()) == 1);
        c.sendall("hi");
        CHECK(reader.get(2s) == "h");
        CHECK(watcher.get(2s) == Fds{s.fileno()});
        CHECK(s.recv(16) == "i");
        // The select ended without removing the Socket's registration: the next recv parks on it.
        auto later = gev::spawn([&s] { return s.recv(16); });
        gev::sleep(1ms);
        if (on_epoll()) CHECK(epoll_entries(s.fileno()) == 1);
        c.sendall("again");
        CHECK(later.get(2s) == "again");
    });
}

TEST_CASE("selects for reading and for writing on one socket each wake for their own direction",
          "[net][select][watch]") {
    run([] {
        auto [a, b] = unix_pair();
        fill(b);   // b cannot write until a reads
        Trace trace;
        auto writer = gev::spawn([&, fd = b.fileno()] {
            auto r = gev::net::select({}, {fd}, {}, 2s);
            trace.push_back(r.writable == Fds{fd} ? "writable" : "not writable");
        });
        auto reader = gev::spawn([&, fd = b.fileno()] {
            auto r = gev::net::select({fd}, {}, {}, 2s);
            trace.push_back(r.readable == Fds{fd} ? "readable" : "not readable");
        });
        gev::sleep(2ms);
        ::send(a.fileno(), "x", 1, MSG_DONTWAIT);   // a's send buffer has room: b becomes readable
        gev::sleep(2ms);
        trace.push_back("drain");
        std::array<char, 65536> buf;
        while (::recv(a.fileno(), buf.data(), buf.size(), MSG_DONTWAIT) > 0) {
        }
        reader.get(2s);
        writer.get(2s);
        CHECK(trace == Trace{"readable", "drain", "writable"});
    });
}

TEST_CASE("a select on an fd closed while it waits ends without a stale registration", "[net][select][watch]") {
    run([] {
        auto [a, b] = unix_pair();
        int number = b.fileno();
        auto closer = gev::spawn([&b] {
            gev::sleep(2ms);
            b.close();   // gev's close: the select's watch ends closed
        });
        CHECK_THROWS_AS(gev::net::select({number}, {}, {}, 2s), SocketError);   // EBADF, at once
        closer.get(1s);
        if (on_epoll()) CHECK(epoll_entries(number) == 0);
        // The number's next file is watched afresh.
        auto [c, d] = unix_pair();
        Socket& fresh = c.fileno() == number ? c : d;
        Socket& peer = c.fileno() == number ? d : c;
        REQUIRE(fresh.fileno() == number);
        auto sender = gev::spawn([&peer] {
            gev::sleep(2ms);
            peer.sendall("new");
        });
        CHECK(gev::net::select({number}, {}, {}, 2s).readable == Fds{number});
        sender.get(1s);
    });
}

TEST_CASE("a select on an fd closed behind gev's back ends at its timeout, and the number's next file is watched",
          "[net][select][watch]") {
    run([] {
        int p[2];
        REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
        auto closer = gev::spawn([&p] {
            gev::sleep(1ms);
            ::close(p[0]);   // no forget: epoll drops the file silently
        });
        CHECK_THROWS_AS(gev::net::select({p[0]}, {}, {}, 20ms), SocketError);   // EBADF, at the timeout
        closer.get(1s);
        int q[2];
        REQUIRE(::pipe2(q, O_NONBLOCK | O_CLOEXEC) == 0);
        REQUIRE(q[0] == p[0]);
        auto writer = gev::spawn([&q] {
            gev::sleep(2ms);
            REQUIRE(::write(q[1], "y", 1) == 1);
        });
        CHECK(gev::net::select({q[0]}, {}, {}, 2s).readable == Fds{q[0]});
        writer.get(1s);
        ::close(p[1]);
        ::close(q[0]);
        ::close(q[1]);
    });
}

TEST_CASE("wait_read on an fd a select watches returns too", "[net][select][watch]") {
    run([] {
        auto [a, b] = unix_pair();
        auto sel = gev::spawn([fd = b.fileno()] { return gev::net::select({fd}, {}, {}, 2s).readable; });
        auto waiter = gev::spawn([fd = b.fileno()] { gev::net::wait_read(fd, 2s); });
        gev::sleep(2ms);
        a.sendall("z");
        CHECK(sel.get(2s) == Fds{b.fileno()});
        waiter.get(2s);
    });
}

TEST_CASE("a select's registration stays for the next select, and a number reused behind gev's back is registered "
          "afresh",
          "[net][select][watch]") {
    run([] {
        int p[2];
        REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
        auto put = [](int fd, const char* s) {
            return gev::spawn([fd, s] {
                gev::sleep(2ms);
                REQUIRE(::write(fd, s, 1) == 1);
            });
        };
        auto w1 = put(p[1], "a");
        CHECK(gev::net::select({p[0]}, {}, {}, 2s).readable == Fds{p[0]});
        w1.get(1s);
        if (on_epoll()) CHECK(epoll_entries(p[0]) == 1);   // before: EPOLL_CTL_DEL after each select
        int keep = ::dup(p[0]);   // the old file lives on, with its registration
        ::close(p[0]);
        int q[2];
        REQUIRE(::pipe2(q, O_NONBLOCK | O_CLOEXEC) == 0);
        REQUIRE(q[0] == p[0]);
        auto stale = put(p[1], "s");   // the old file's readiness: not the new one's
        auto fresh = gev::spawn([&q] {
            gev::sleep(6ms);
            REQUIRE(::write(q[1], "b", 1) == 1);
        });
        auto r = gev::net::select({q[0]}, {}, {}, 2s);
        CHECK(r.readable == Fds{q[0]});
        CHECK(fresh.ready());   // the old file's write (first) did not end the select
        stale.get(1s);
        fresh.get(1s);
        for (int fd : {keep, p[1], q[0], q[1]}) ::close(fd);
    });
}
