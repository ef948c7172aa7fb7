// examples/stress_client.cpp — the seed's 100-connection stress client (S1-8) as fibers
// on one thread instead of 100 OS threads. Each connection sends `hello <n>` (or a
// B-byte message with --size), reads back exactly as many bytes and checks them, one
// message in flight at a time. Unlike the seed it is bounded (3 s by default) and ends
// with one summary line; the exit status is non-zero on any mismatch or error.
// Run: build/examples/echo_server --quiet &
//      build/examples/stress_client [--host 127.0.0.1] [--port 8001] [--connections 100]
//                                   [--seconds S | --count N] [--size B] [--quiet]
//      --count N is round trips per connection; a refused or broken connection counts
//      as an error, it does not stop the others.
#include "gev.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

struct Config {
    std::string host = "127.0.0.1";
    int port = 8001;
    int connections = 100;
    double seconds = 0;      // 0: no time limit (3 s when no count is given either)
    long count = 0;          // round trips per connection; 0: no limit
    std::size_t size = 0;    // 0: "hello <n>"
    bool quiet = false;
};

// Round-trip latencies in 100 ns buckets up to 100 ms (the last bucket holds the rest).
class Histogram {
public:
    void add(Clock::duration d) {
        auto b = static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() / 100);
        ++buckets_[std::min(b, buckets_.size() - 1)];
        ++n_;
    }
    double percentile_us(double p) const {
        std::uint64_t rank = static_cast<std::uint64_t>(p * static_cast<double>(n_)), seen = 0;
        for (std::size_t b = 0; b < buckets_.size(); ++b)
            if ((seen += buckets_[b]) > rank) return static_cast<double>(b) / 10.0;
        return 0;
    }
    std::uint64_t count() const { return n_; }

private:
    std::vector<std::uint32_t> buckets_ = std::vector<std::uint32_t>(1'000'000);
    std::uint64_t n_ = 0;
};

struct Totals {
    Histogram latency;
    long mismatches = 0, errors = 0;
};

// A pattern that differs per connection and per message, so a mixed-up echo shows.
std::string message(int conn, long n, std::size_t size) {
    if (size == 0) return "hello " + std::to_string(n);
    std::string m(size, ' ');
    for (std::size_t i = 0; i < size; ++i)
        m[i] = static_cast<char>('a' + (static_cast<std::size_t>(conn * 7 + n * 13) + i) % 26);
    return m;
}

// One connection: the seed's sock_conn(), bounded by the deadline or the count.
void sock_conn(int conn, const Config& cfg, Clock::time_point deadline, Totals& t) {
    try {
        gev::net::Socket client = gev::net::create_connection(cfg.host, static_cast<std::uint16_t>(cfg.port),
                                                              std::chrono::seconds(5));
        auto more = [&](long n) {
            return (cfg.count <= 0 || n < cfg.count) && (cfg.seconds <= 0 || Clock::now() < deadline);
        };
        for (long n = 0; more(n); ++n) {
            std::string msg = message(conn, n, cfg.size);
            auto t0 = Clock::now();
            client.sendall(msg);
            std::string data = client.recv_exactly(msg.size());   // replies may arrive split
            t.latency.add(Clock::now() - t0);
            if (data != msg) ++t.mismatches;
            if (cfg.quiet) continue;
            if (cfg.size == 0) std::printf("[%d]recv from server: %s\n", conn, data.c_str());
            else std::printf("[%d]recv from server: %zu bytes\n", conn, data.size());
        }
    } catch (const gev::net::SocketError& e) {   // refused, reset, closed early, 5 s without a reply
        ++t.errors;
        std::fprintf(stderr, "[%d]%s\n", conn, e.what());
    }
}

Config parse(int argc, char** argv) {
    Config c;
    for (int i = 1; i < argc; ++i) {
        auto arg = [&](const char* name) { return !std::strcmp(argv[i], name) && i + 1 < argc; };
        if (!std::strcmp(argv[i], "--quiet")) c.quiet = true;
        else if (arg("--host")) c.host = argv[++i];
        else if (arg("--port")) c.port = std::atoi(argv[++i]);
        else if (arg("--connections")) c.connections = std::atoi(argv[++i]);
        else if (arg("--seconds")) c.seconds = std::atof(argv[++i]);
        else if (arg("--count")) c.count = std::atol(argv[++i]);
        else if (arg("--size")) c.size = std::strtoull(argv[++i], nullptr, 10);
        else std::fprintf(stderr, "stress_client: ignoring %s\n", argv[i]);
    }
    if (c.seconds <= 0 && c.count <= 0) c.seconds = 3;
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg = parse(argc, argv);
    return gev::run([&] {
        Totals t;
        auto start = Clock::now();
        auto deadline = start + std::chrono::duration_cast<Clock::duration>(Seconds(cfg.seconds));
        std::vector<gev::Greenlet<>> conns;
        for (int i = 0; i < cfg.connections; ++i)
            conns.push_back(gev::spawn(sock_conn, i, std::cref(cfg), deadline, std::ref(t)));
        gev::joinall(conns);
        double secs = Seconds(Clock::now() - start).count();
        std::uint64_t trips = t.latency.count();
        std::fflush(stdout);
        std::printf("connections=%d round_trips=%llu seconds=%.2f rps=%.0f p50_us=%.1f p99_us=%.1f "
                    "mismatches=%ld errors=%ld\n",
                    cfg.connections, static_cast<unsigned long long>(trips), secs, secs > 0 ? trips / secs : 0.0,
                    t.latency.percentile_us(0.50), t.latency.percentile_us(0.99), t.mismatches, t.errors);
        return t.mismatches == 0 && t.errors == 0 ? 0 : 1;
    });
}
