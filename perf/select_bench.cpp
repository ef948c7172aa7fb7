// perf/select_bench.cpp — what a wait on an fd that is not a socket operation costs
// (select, poll, wait_read: the poller's watches): two fibers on one hub ping-pong one
// byte over a socketpair, each waiting for its end to be readable before it reads.
// One op = one round trip (two waits). Rows: select_pingpong (one fd), select2_pingpong
// (the fd and an idle pipe of its own: several fds), wait_read_pingpong, and recv_pingpong
// (a Socket's own parked recv, the floor). Count the system calls
// of a row with `strace -f -c build/perf/select_bench --only select_pingpong --rounds 1`
// and divide by 2n. Run: build/perf/select_bench [--scale F] [--rounds R] [--only NAME]
#include "gev.hpp"
#include "perf/bench_util.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace {

using Wait = std::function<void(int fd, int idle)>;

void die(const char* what) {
    std::fprintf(stderr, "select_bench: %s failed\n", what);
    std::exit(1);
}

// n round trips between two fibers, each waiting with `wait` before it reads.
double pingpong(std::size_t n, const Wait& wait) {
    int sv[2], idle[2][2];   // each side's own idle pipe
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
    for (auto& p : idle)
        if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) die("pipe");
    auto side = [&](int fd, bool first) {
        char c = 'x';
        if (first && ::send(fd, &c, 1, 0) != 1) die("send");
        for (std::size_t i = 0; i < n; ++i) {
            wait(fd, idle[first ? 0 : 1][0]);
            if (::recv(fd, &c, 1, MSG_DONTWAIT) != 1) die("recv");
            if ((!first || i + 1 < n) && ::send(fd, &c, 1, MSG_DONTWAIT) != 1) die("send");
        }
    };
    double t0 = perf::now_ns();
    gev::run([&] {
        auto a = gev::spawn([&] { side(sv[0], true); });
        auto b = gev::spawn([&] { side(sv[1], false); });
        gev::joinall({a, b});
        return 0;
    });
    double ns = (perf::now_ns() - t0) / static_cast<double>(n);
    for (int fd : {sv[0], sv[1], idle[0][0], idle[0][1], idle[1][0], idle[1][1]}) ::close(fd);
    return ns;
}

// The floor the watches are measured against: a Socket's own recv, parking as a socket
// operation (claimed side, registered once, held by the hub).
double recv_pingpong(std::size_t n) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
    double t0 = perf::now_ns();
    gev::run([&] {
        auto side = [n](int fd, bool first) {
            gev::net::Socket s = gev::net::Socket::adopt(fd);
            std::array<std::byte, 1> b{};
            if (first) s.sendall(b);
            for (std::size_t i = 0; i < n; ++i) {
                if (s.recv(b) != 1) die("recv");
                if (!first || i + 1 < n) s.sendall(b);
            }
        };
        auto a = gev::spawn([&] { side(sv[0], true); });
        auto b = gev::spawn([&] { side(sv[1], false); });
        gev::joinall({a, b});
        return 0;
    });
    return (perf::now_ns() - t0) / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
    perf::parse_args(argc, argv);
    std::size_t n = perf::scaled(200'000);
    perf::bench("select_pingpong", n, [n] {
        return pingpong(n, [](int fd, int) {
            if (gev::net::select({fd}, {}, {}).readable.empty()) die("select");
        });
    });
    perf::bench("select2_pingpong", n, [n] {
        return pingpong(n, [](int fd, int idle) {
            if (gev::net::select({fd, idle}, {}, {}).readable.empty()) die("select");
        });
    });
    perf::bench("wait_read_pingpong", n, [n] { return pingpong(n, [](int fd, int) { gev::net::wait_read(fd); }); });
    perf::bench("recv_pingpong", n, [n] { return recv_pingpong(n); });
    return 0;
}
