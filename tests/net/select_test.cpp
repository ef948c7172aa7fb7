// tests/net/select_test.cpp — gev::net::select and gev::net::poll on pipes and sockets:
// they return the ready fds, an empty answer at the timeout, park only the calling
// fiber, reject a bad fd with SocketError (EBADF), and leave the fds usable by Socket.
#include "net_support.hpp"

#include <array>

using namespace std::chrono_literals;
using gev::net::Socket;
using gev::net::SocketError;
using namespace gev::testing;

namespace {

// A non-blocking pipe, closed at the end of the scope.
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
        r = p[0];
        w = p[1];
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() {
        ::close(r);
        ::close(w);
    }
    void put(const char* s) const { REQUIRE(::write(w, s, std::strlen(s)) == static_cast<ssize_t>(std::strlen(s))); }
};

using Fds = std::vector<int>;

}  // namespace

TEST_CASE("select returns the ready fds of each list, in the order given", "[net][select]") {
    run([] {
        Pipe p1, p2, p3;
        p3.put("c");
        p1.put("a");
        auto r = gev::net::select({p1.r, p2.r, p3.r}, {p2.w}, {}, 1s);
        REQUIRE(r.readable == Fds{p1.r, p3.r});
        REQUIRE(r.writable == Fds{p2.w});
        REQUIRE(r.exceptional.empty());
    });
}

TEST_CASE("select with a timeout and nothing ready returns empty lists", "[net][select]") {
    run([] {
        Pipe p;
        auto start = std::chrono::steady_clock::now();
        auto r = gev::net::select({p.r}, {}, {p.r}, 20ms);
        REQUIRE(std::chrono::steady_clock::now() - start >= 20ms);
        REQUIRE(r.readable.empty());
        REQUIRE(r.writable.empty());
        REQUIRE(r.exceptional.empty());
        auto now = gev::net::select({p.r}, {}, {}, 0ns);   // 0: just polls
        REQUIRE(now.readable.empty());
        auto nothing = gev::net::select({}, {}, {}, 5ms);   // no fds: a sleep
        REQUIRE(nothing.readable.empty());
    });
}

TEST_CASE("select parks only its caller: another fiber runs meanwhile and makes an fd ready", "[net][select]") {
    run([] {
        Pipe p1, p2;
        int ticks = 0;
        auto writer = gev::spawn([&] {
            for (; ticks < 3; ++ticks) gev::sleep(1ms);
            p2.put("x");
        });
        auto r = gev::net::select({p1.r, p2.r}, {}, {}, 2s);
        REQUIRE(ticks == 3);
        REQUIRE(r.readable == Fds{p2.r});
        writer.get(0ns);
    });
}

TEST_CASE("select on sockets sees a pending connection, incoming data and the peer's close", "[net][select]") {
    run([] {
        Socket l = listener();
        Socket c(AF_INET, SOCK_STREAM);
        auto none = gev::net::select({l.fileno()}, {}, {}, 0ns);
        REQUIRE(none.readable.empty());
        c.connect(l.local_address());
        REQUIRE(gev::net::select({l.fileno()}, {}, {}, 1s).readable == Fds{l.fileno()});
        auto [s, peer] = l.accept();
        REQUIRE(gev::net::select({s.fileno()}, {c.fileno()}, {}, 1s).writable == Fds{c.fileno()});
        auto sender = gev::spawn([&c] {
            gev::sleep(2ms);
            c.sendall("data");
        });
        REQUIRE(gev::net::select({s.fileno()}, {}, {}, 1s).readable == Fds{s.fileno()});
        REQUIRE(s.recv_exactly(4) == "data");   // the Socket still works after select watched it
        c.close();
        REQUIRE(gev::net::select({s.fileno()}, {}, {}, 1s).readable == Fds{s.fileno()});
        std::array<char, 8> buf;
        REQUIRE(s.recv(buf) == 0);
        sender.get(0ns);
    });
}

TEST_CASE("a Socket's own recv still works while and after select watches its fd", "[net][select]") {
    run([] {
        auto [c, s] = tcp_pair();
        for (int round = 0; round < 3; ++round) {
            auto watcher = gev::spawn([fd = s.fileno()] { return gev::net::select({fd}, {}, {}, 1s).readable; });
            gev::sleep(1ms);
            c.sendall("r" + std::to_string(round));
            REQUIRE(watcher.get(1s) == Fds{s.fileno()});
            s.set_timeout(1s);
            REQUIRE(s.recv_exactly(2) == "r" + std::to_string(round));
        }
    });
}

TEST_CASE("poll fills revents and returns how many fds are ready", "[net][select][poll]") {
    run([] {
        Pipe p1, p2;
        p2.put("y");
        std::vector<pollfd> fds{{p1.r, POLLIN, 0}, {p2.r, POLLIN, 0}, {p1.w, POLLOUT, 0}};
        REQUIRE(gev::net::poll(fds, 1s) == 2);
        REQUIRE(fds[0].revents == 0);
        REQUIRE((fds[1].revents & POLLIN) != 0);
        REQUIRE((fds[2].revents & POLLOUT) != 0);
        std::vector<pollfd> idle{{p1.r, POLLIN, 0}};
        REQUIRE(gev::net::poll(idle, 20ms) == 0);   // the timeout: nothing ready
        REQUIRE(idle[0].revents == 0);
        auto writer = gev::spawn([&] {
            gev::sleep(2ms);
            p1.put("z");
        });
        REQUIRE(gev::net::poll(idle) == 1);   // no timeout: parks until the writer ran
        REQUIRE((idle[0].revents & POLLIN) != 0);
        writer.get(0ns);
    });
}

TEST_CASE("select and poll on a bad fd throw SocketError EBADF", "[net][select]") {
    run([] {
        int fd = -1;
        {
            Pipe p;
            fd = p.r;
        }
        REQUIRE(fd_is_closed(fd));
        auto check = [fd](auto&& call) {
            try {
                call();
                FAIL("no error for closed fd " << fd);
            } catch (const SocketError& e) {
                INFO(e.what());
                REQUIRE(e.code().value() == EBADF);
                REQUIRE(std::string(e.what()).find(std::to_string(fd)) != std::string::npos);
            }
        };
        check([fd] { gev::net::select({fd}, {}, {}, 10ms); });
        check([fd] { gev::net::select({}, {fd}, {}, 10ms); });
        std::vector<pollfd> fds{{fd, POLLIN, 0}};
        check([&fds] { gev::net::poll(fds, 10ms); });
    });
}
