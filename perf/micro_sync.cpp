// perf/micro_sync.cpp — hand-off benchmarks on sync/, one line each like perf/micro:
//   event_pingpong        two fibers on one hub bounce a token with two gev::Events
//   chan_pingpong         the same with two unbuffered gev::Channel<long> (Go's chan int)
//   handoff_2hubs         chan_pingpong with the peer on a second hub (issue 5's goal:
//                         ≤ 0.5× Go's unbuffered channel ping-pong with GOMAXPROCS=2)
//   event_handoff_2hubs   event_pingpong across two hubs
//   semaphore_uncontended Semaphore acquire + release with no contention, one fiber
//   queue_putget          a producer and a consumer fiber through a Queue(64): ns per item
// ns_per_op is per one-way hand-off (two per round trip). A run stops after `kBudgetNs`
// even short of N (a cross-hub wake-up waits for the OS to schedule the other thread,
// which on a loaded machine takes milliseconds); n= says how many round trips ran.
// Built only when sync/ is.
// Run: build/perf/micro_sync [--scale F] [--rounds R] [--only NAME] [--warmup W]
#include "gev.hpp"
#include "perf/bench_util.hpp"
#include "sync/channel.hpp"
#include "sync/event.hpp"
#include "sync/queue.hpp"
#include "sync/semaphore.hpp"

#include <atomic>
#include <cstddef>
#include <string>

namespace {

using perf::bench;
using perf::now_ns;
using perf::scaled;

constexpr double kBudgetNs = 2e9;
std::size_t g_done = 0;   // round trips the last run managed

// Whether the measuring side should stop after round trip i (checked every 64).
bool over_budget(std::size_t i, double t0) { return (i & 63) == 63 && now_ns() - t0 > kBudgetNs; }

// Runs `body(peer_hub)` as main with `hubs` hubs and returns what it measured.
template <class F>
double in_runtime(unsigned hubs, F body) {
    double ns = 0;
    gev::RunOptions o;
    o.threads = hubs;
    gev::run([&] { ns = body(hubs - 1); }, o);
    return ns;
}

double event_pingpong(std::size_t n, unsigned hubs) {
    return in_runtime(hubs, [n](unsigned peer_hub) {
        gev::Event ping, pong;
        std::atomic<bool> stop{false};
        auto peer = gev::spawn_on(peer_hub, [&] {
            for (;;) {
                ping.wait();
                ping.clear();
                if (stop.load()) return;
                pong.set();
            }
        });
        double t0 = now_ns();
        std::size_t i = 0;
        while (i < n) {
            ping.set();
            pong.wait();
            pong.clear();
            if (over_budget(i++, t0)) break;
        }
        double dt = now_ns() - t0;
        stop.store(true);
        ping.set();
        peer.get();
        g_done = i;
        return dt / (2.0 * i);
    });
}

double chan_pingpong(std::size_t n, unsigned hubs) {
    return in_runtime(hubs, [n](unsigned peer_hub) {
        gev::Channel<long> a, b;
        auto peer = gev::spawn_on(peer_hub, [&] {
            for (long v; (v = a.get()) >= 0;) b.put(v + 1);
        });
        double t0 = now_ns();
        long v = 0;
        std::size_t i = 0;
        while (i < n) {
            a.put(v);
            v = b.get();
            if (over_budget(i++, t0)) break;
        }
        double dt = now_ns() - t0;
        a.put(-1);
        peer.get();
        if (v != static_cast<long>(i)) std::fprintf(stderr, "chan_pingpong: got %ld, want %zu\n", v, i);
        g_done = i;
        return dt / (2.0 * i);
    });
}

// Uncontended Semaphore acquire + release (issue 4's goal: ≤ 10 ns), one fiber.
double semaphore_uncontended(std::size_t n) {
    return in_runtime(1, [n](unsigned) {
        gev::Semaphore s(1);
        double t0 = now_ns();
        for (std::size_t i = 0; i < n; ++i) {
            s.acquire();
            s.release();
        }
        double dt = now_ns() - t0;
        if (s.counter() != 1) std::fprintf(stderr, "semaphore: counter %d, want 1\n", s.counter());
        return dt / static_cast<double>(n);
    });
}

// Queue throughput: a producer fiber puts n items into a Queue(64), a consumer gets
// them (each parks when the queue is full or empty); ns per item put and got.
double queue_putget(std::size_t n) {
    return in_runtime(1, [n](unsigned) {
        gev::Queue<long> q(64);
        long sum = 0;
        double t0 = now_ns();
        auto consumer = gev::spawn([&] {
            for (std::size_t i = 0; i < n; ++i) sum += q.get();
        });
        for (std::size_t i = 0; i < n; ++i) q.put(static_cast<long>(i));
        consumer.get();
        double dt = now_ns() - t0;
        long want = static_cast<long>(n) * (static_cast<long>(n) - 1) / 2;
        if (sum != want) std::fprintf(stderr, "queue_putget: sum %ld, want %ld\n", sum, want);
        return dt / static_cast<double>(n);
    });
}

}  // namespace

int main(int argc, char** argv) {
    perf::parse_args(argc, argv);
    std::size_t n = scaled(2'000'000);
    bench("event_pingpong", n, [&] { return event_pingpong(n, 1); });
    bench("chan_pingpong", n, [&] { return chan_pingpong(n, 1); });
    std::size_t m = scaled(10'000'000);
    bench("semaphore_uncontended", m, [&] { return semaphore_uncontended(m); });
    bench("queue_putget", n, [&] { return queue_putget(n); });
    std::size_t x = scaled(200'000);
    auto done = [] { return " done=" + std::to_string(g_done); };
    bench("handoff_2hubs", x, [&] { return chan_pingpong(x, 2); }, done);
    bench("event_handoff_2hubs", x, [&] { return event_pingpong(x, 2); }, done);
    return 0;
}
