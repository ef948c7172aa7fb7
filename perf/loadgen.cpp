// perf/loadgen.cpp — the echo load generator: N connections, each keeping one S-byte
// message in flight, on one thread with plain epoll (independent of gev, so it cannot
// hide a gev problem). Every echoed byte is checked. Reports rps, p50/p99 latency
// and, given the server's pid, the server's CPU time per round trip (/proc/PID/stat).
// Run: loadgen --port P [--host 127.0.0.1] [--connections 100] [--size 64]
//              [--seconds 3] [--warmup 0.5] [--server-pid PID] [--cpu N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
    int fd = -1;
    std::size_t sent = 0, got = 0;
    std::uint64_t seq = 0;
    Clock::time_point started;
    std::string msg;
};

double server_cpu_seconds(int pid) {
    if (pid <= 0) return 0;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return 0;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');   // fields after the command name
    unsigned long utime = 0, stime = 0;
    if (p == nullptr || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return 0;
    return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

void fill(Conn& c, std::size_t size) {
    // A pattern that differs per connection and per message, so a mixed-up echo shows.
    c.msg.resize(size);
    for (std::size_t i = 0; i < size; ++i)
        c.msg[i] = static_cast<char>('a' + (c.fd * 7 + c.seq * 13 + i) % 26);
    c.sent = c.got = 0;
    c.started = Clock::now();
}

struct Args {
    std::string host = "127.0.0.1";
    int port = 8001, conns = 100, pid = 0, cpu = -1;
    std::size_t size = 64;
    double seconds = 3, warmup = 0.5;
};

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--host") a.host = v;
        else if (k == "--port") a.port = std::atoi(v);
        else if (k == "--connections") a.conns = std::atoi(v);
        else if (k == "--size") a.size = std::strtoull(v, nullptr, 10);
        else if (k == "--seconds") a.seconds = std::atof(v);
        else if (k == "--warmup") a.warmup = std::atof(v);
        else if (k == "--server-pid") a.pid = std::atoi(v);
        else if (k == "--cpu") a.cpu = std::atoi(v);
    }
    return a;
}

// Connects every connection and watches it for replies; false (said why) on failure.
bool connect_all(const Args& args, int ep, std::vector<Conn>& cs) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(args.port));
    inet_pton(AF_INET, args.host.c_str(), &a.sin_addr);
    for (int i = 0; i < args.conns; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            std::fprintf(stderr, "loadgen: connect: %s\n", std::strerror(errno));
            return false;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cs[i].fd = fd;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    return true;
}

struct Tally {
    long errors = 0, mismatches = 0, trips = 0;
    double cpu0 = 0, cpu1 = 0;
    std::vector<double> lat;   // µs per round trip while measuring
};

// One message in flight per connection: send, wait for all of it back, check, repeat.
void drive(const Args& args, int ep, std::vector<Conn>& cs, Tally& t) {
    t.lat.reserve(1 << 20);
    std::string buf(std::max<std::size_t>(args.size, 65536), '\0');
    auto t_start = Clock::now();
    auto t_measure = t_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.warmup));
    auto t_end = t_measure + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.seconds));
    bool measuring = false;
    auto send_next = [&](Conn& c) {
        fill(c, args.size);
        ssize_t w = send(c.fd, c.msg.data(), c.msg.size(), MSG_NOSIGNAL);   // one message fits the socket buffer
        if (w != static_cast<ssize_t>(c.msg.size())) ++t.errors;
        c.sent = c.msg.size();
    };
    for (Conn& c : cs) send_next(c);
    epoll_event evs[256];
    for (;;) {
        auto now = Clock::now();
        if (!measuring && now >= t_measure) {
            measuring = true;
            t.cpu0 = server_cpu_seconds(args.pid);
            t.trips = 0;
            t.lat.clear();
        }
        if (now >= t_end) break;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; ++i) {
            Conn& c = cs[evs[i].data.u32];
            ssize_t r = recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                ++t.errors;
                epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                continue;
            }
            if (c.got + r > c.msg.size() || std::memcmp(buf.data(), c.msg.data() + c.got, r) != 0) ++t.mismatches;
            c.got += r;
            if (c.got >= c.msg.size()) {
                if (measuring) {
                    t.lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - c.started).count());
                    ++t.trips;
                }
                ++c.seq;
                send_next(c);
            }
        }
    }
    t.cpu1 = server_cpu_seconds(args.pid);
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse_args(argc, argv);
    if (args.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(args.cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    int ep = epoll_create1(0);
    std::vector<Conn> cs(args.conns);
    if (!connect_all(args, ep, cs)) return 2;
    Tally t;
    drive(args, ep, cs, t);
    std::sort(t.lat.begin(), t.lat.end());
    auto pct = [&](double p) {
        return t.lat.empty() ? 0.0 : t.lat[std::min(t.lat.size() - 1, static_cast<std::size_t>(p * t.lat.size()))];
    };
    std::printf("connections=%d size=%zu round_trips=%ld rps=%.0f p50_us=%.1f p99_us=%.1f", args.conns, args.size,
                t.trips, t.trips / args.seconds, pct(0.5), pct(0.99));
    if (args.pid > 0) std::printf(" server_cpu_ns_per_rt=%.0f", t.trips ? (t.cpu1 - t.cpu0) * 1e9 / t.trips : 0.0);
    std::printf(" mismatches=%ld errors=%ld\n", t.mismatches, t.errors);
    for (Conn& c : cs) close(c.fd);
    return t.mismatches || t.errors ? 1 : 0;
}
