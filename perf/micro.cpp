// perf/micro.cpp — the runtime's micro benchmarks, one line each:
//   name n=N ns_per_op=X [more key=value]
// Each benchmark runs --warmup times untimed, then --rounds times (default 5), and reports
// the median and the minimum.
// context_raw is the in-run floor: a bare Boost.Context resume loop, the cost of one
// switch with nothing around it; switch_raw is greenlet ping-pong measured the same way.
// spawn_on_rt crosses to a second hub and back; eventfd_pingpong is its OS floor (two
// plain threads that sleep in read() and wake each other with write(), as an idle hub
// sleeps in its poller and is woken through an eventfd). stack_spike shows the resident
// set before, at and after a spike of parked fibers: the stack pool gives the pages of
// idle stacks beyond its cache limit back. perf/micro_sync has the sync/ ones.
// Run: build/perf/micro [--scale F] [--rounds R] [--only NAME] [--warmup W]
#include "gev.hpp"
#include "perf/bench_util.hpp"
#include "runtime/fiber.hpp"

#include <boost/context/detail/fcontext.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <malloc.h>
#include <string>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
namespace bctx = boost::context::detail;

namespace {

using perf::bench;
using perf::now_ns;
using perf::scaled;

long rss_kib() {
    long pages = 0, rss = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        std::fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

void raw_entry(bctx::transfer_t t) {
    for (;;) t = bctx::jump_fcontext(t.fctx, nullptr);
}

double context_raw(std::size_t n) {
    static std::vector<char> stack(64 * 1024);
    bctx::fcontext_t f = bctx::make_fcontext(stack.data() + stack.size(), stack.size(), raw_entry);
    double t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) f = bctx::jump_fcontext(f, nullptr).fctx;
    return (now_ns() - t0) / (2.0 * n);   // two switches per round trip
}

double switch_raw(std::size_t n) {
    gev::RawGreenlet main = gev::getcurrent();
    gev::RawGreenlet peer([&] {
        for (;;) main.switch_to();
    });
    double t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) peer.switch_to();
    return (now_ns() - t0) / (2.0 * n);
}

double yield(std::size_t n) {
    double ns = 0;
    gev::run([&] {
        auto spin = [n] {
            for (std::size_t i = 0; i < n; ++i) gev::sleep(0ns);
        };
        auto a = gev::spawn(spin);
        auto b = gev::spawn(spin);
        double t0 = now_ns();
        gev::joinall({a, b});
        ns = (now_ns() - t0) / (2.0 * n);
    });
    return ns;
}

double spawn_join(std::size_t n) {
    double ns = 0;
    gev::run([&] {
        std::vector<gev::Greenlet<>> gs;
        gs.reserve(n);
        double t0 = now_ns();
        for (std::size_t i = 0; i < n; ++i) gs.push_back(gev::spawn([] {}));
        gev::joinall(gs);
        ns = (now_ns() - t0) / n;
    });
    return ns;
}

// Pool.spawn on a Pool of 100 kept full: each spawn past the 100th waits for a member
// to end (the slot handed over by the member's rawlink, no fiber of its own).
double pool_spawn(std::size_t n) {
    double ns = 0;
    gev::run([&] {
        gev::Pool pool(100);
        double t0 = now_ns();
        for (std::size_t i = 0; i < n; ++i) pool.spawn([] {});
        pool.join();
        ns = (now_ns() - t0) / n;
    });
    return ns;
}

long skynet(long num, long size, long div) {
    if (size == 1) return num;
    std::vector<gev::Greenlet<long>> kids;
    kids.reserve(div);
    long sub = size / div;
    for (long i = 0; i < div; ++i) kids.push_back(gev::spawn(skynet, num + i * sub, sub, div));
    long sum = 0;
    for (auto& k : kids) sum += k.get();
    return sum;
}

double skynet_bench(std::size_t leaves, double* total_ms) {
    double ns = 0;
    gev::run([&] {
        double t0 = now_ns();
        long sum = gev::spawn(skynet, 0L, static_cast<long>(leaves), 10L).get();
        double dt = now_ns() - t0;
        long want = static_cast<long>(leaves) * (static_cast<long>(leaves) - 1) / 2;
        if (sum != want) std::fprintf(stderr, "skynet: wrong sum %ld (want %ld)\n", sum, want);
        ns = dt / leaves;
        *total_ms = dt / 1e6;
    });
    return ns;
}

double sleep_many(std::size_t n) {
    double ns = 0;
    gev::run([&] {
        std::vector<gev::Greenlet<>> gs;
        gs.reserve(n);
        double t0 = now_ns();
        for (std::size_t i = 0; i < n; ++i) gs.push_back(gev::spawn([] { gev::sleep(10ms); }));
        gev::joinall(gs);
        ns = (now_ns() - t0 - 10e6) / n;
    });
    return ns;
}

double timeout_churn(std::size_t n, std::size_t armed) {
    double ns = 0;
    gev::run([&] {
        std::vector<gev::Greenlet<>> sleepers;
        for (std::size_t i = 0; i < armed; ++i)
            sleepers.push_back(gev::spawn([] { gev::Timeout t{1h}; gev::sleep(1h); }));
        gev::sleep(0ns);   // let them all arm their Timeouts
        double t0 = now_ns();
        for (std::size_t i = 0; i < n; ++i) {
            gev::Timeout t{std::chrono::seconds(1 + i % 7)};
        }
        ns = (now_ns() - t0) / n;
        gev::killall(sleepers);
    });
    return ns;
}

double idle_many(std::size_t n, double* kib_per_fiber, double* create_ms) {
    double ns = 0;
    gev::run([&] {
        std::vector<gev::Greenlet<>> gs;
        gs.reserve(n);
        long before = rss_kib();
        double t0 = now_ns();
        for (std::size_t i = 0; i < n; ++i) gs.push_back(gev::spawn([] { gev::sleep(1h); }));
        gev::sleep(0ns);   // every one runs up to its park
        double dt = now_ns() - t0;
        *kib_per_fiber = static_cast<double>(rss_kib() - before) / n;
        *create_ms = dt / 1e6;
        ns = dt / n;
        gev::killall(gs);
    });
    return ns;
}

// n fibers park at once, then all end. Runs on a thread of its own, so its stack pool
// starts empty and goes with the thread; ns_per_op covers spawn to the last join.
void stack_spike(std::size_t n) {
    long before = 0, peak = 0, after = 0, trimmed = 0;
    std::size_t released = 0, calls = 0;
    double ns = 0;
    std::thread([&] {
        gev::run([&] {
            before = rss_kib();
            double t0 = now_ns();
            {
                gev::Event go;
                std::vector<gev::Greenlet<>> gs;
                gs.reserve(n);
                for (std::size_t i = 0; i < n; ++i) gs.push_back(gev::spawn([&go] { go.wait(); }));
                gev::sleep(0ns);   // every one has parked
                peak = rss_kib();
                go.set();
                gev::joinall(gs);
            }
            ns = (now_ns() - t0) / n;
            after = rss_kib();
            released = gev::detail::stack_pool().released_bytes();
            calls = gev::detail::stack_pool().release_calls();
            ::malloc_trim(0);   // what stays after this is not stacks: the fibers' freed heap
            trimmed = rss_kib();
        });
    }).join();
    std::printf("stack_spike n=%zu ns_per_op=%.2f rounds=1 rss_before_kib=%ld rss_peak_kib=%ld rss_after_kib=%ld "
                "rss_after_malloc_trim_kib=%ld released_mib=%zu madvise_calls=%zu cache_limit=%zu\n",
                n, ns, before, peak, after, trimmed, released >> 20, calls, gev::stack_cache_limit());
    std::fflush(stdout);
}

// A round trip to a second hub: spawn_on(1, f) then get(); the first hub parks until the
// other hub's wake-up comes back through its inbox. Two cross-hub hand-offs per op.
// Stops after 2 s even short of n (each wake-up waits for the OS to run the other thread).
std::size_t g_done = 0;
double spawn_on_rt(std::size_t n) {
    double ns = 0;
    gev::RunOptions o;
    o.threads = 2;
    gev::run([&] {
        gev::spawn_on(1, [] {}).get();   // the second hub is up and warm
        double t0 = now_ns();
        std::size_t i = 0;
        while (i < n) {
            gev::spawn_on(1, [] {}).get();
            if ((++i & 63) == 0 && now_ns() - t0 > 2e9) break;
        }
        ns = (now_ns() - t0) / i;
        g_done = i;
    }, o);
    return ns;
}

// Two threads bounce a token through two eventfds; per one-way hand-off. Bounded like
// spawn_on_rt (2 s).
double eventfd_pingpong(std::size_t n) {
    int to_peer = eventfd(0, EFD_CLOEXEC), to_main = eventfd(0, EFD_CLOEXEC);
    std::uint64_t v = 1;
    std::thread peer([&] {
        std::uint64_t x;
        while (read(to_peer, &x, sizeof x) == sizeof x && x != 2) {
            std::uint64_t one = 1;
            if (write(to_main, &one, sizeof one) != sizeof one) break;
        }
    });
    double t0 = now_ns();
    std::size_t i = 0;
    while (i < n) {
        if (write(to_peer, &v, sizeof v) != sizeof v || read(to_main, &v, sizeof v) != sizeof v) break;
        if ((++i & 63) == 0 && now_ns() - t0 > 2e9) break;
    }
    double ns = (now_ns() - t0) / (2.0 * i);
    std::uint64_t stop = 2;
    if (write(to_peer, &stop, sizeof stop) != sizeof stop) std::perror("eventfd_pingpong");
    peer.join();
    close(to_peer);
    close(to_main);
    g_done = i;
    return ns;
}

}  // namespace

int main(int argc, char** argv) {
    perf::parse_args(argc, argv);
    std::size_t sw = scaled(10'000'000);
    bench("context_raw", sw, [&] { return context_raw(sw); });
    bench("switch_raw", sw, [&] { return switch_raw(sw); });
    std::size_t y = scaled(5'000'000);
    bench("yield", y, [&] { return yield(y); });
    std::size_t sj = scaled(100'000);   // alive at once, as in every peer's spawn_join
    bench("spawn_join", sj, [&] { return spawn_join(sj); });
    bench("pool_spawn", sj, [&] { return pool_spawn(sj); });
    std::size_t leaves = 1;
    while (leaves * 10 <= scaled(1'000'000)) leaves *= 10;
    double total_ms = 0;
    bench("skynet_1m", leaves, [&] { return skynet_bench(leaves, &total_ms); });
    std::size_t sl = scaled(100'000);
    bench("sleep_100k", sl, [&] { return sleep_many(sl); });
    std::size_t tc = scaled(1'000'000);
    bench("timeout_churn", tc, [&] { return timeout_churn(tc, scaled(100'000)); });
    std::size_t rt = scaled(50'000);
    auto done = [] { return " done=" + std::to_string(g_done); };
    bench("spawn_on_rt", rt, [&] { return spawn_on_rt(rt); }, done);
    std::size_t ef = scaled(200'000);
    bench("eventfd_pingpong", ef, [&] { return eventfd_pingpong(ef); }, done);
    if (perf::want("stack_spike")) stack_spike(scaled(1'000'000));
    std::size_t idle = scaled(1'000'000);
    if (perf::want("idle_1m")) {
        // A million parked fibers, twice: the first round maps fresh stacks (on this VM
        // every first touch of a page costs ~10 us), the second reuses the warm pool,
        // which therefore keeps every idle stack warm here.
        std::size_t limit = gev::stack_cache_limit();
        gev::set_stack_cache_limit(SIZE_MAX);
        for (const char* phase : {"cold", "warm"}) {
            double kib = 0, create_ms = 0;
            double ns = idle_many(idle, &kib, &create_ms);
            std::printf("idle_1m n=%zu ns_per_op=%.2f rounds=1 pool=%s rss_kib_per_fiber=%.2f create_ms=%.0f\n",
                        idle, ns, phase, kib, create_ms);
            std::fflush(stdout);
        }
        gev::set_stack_cache_limit(limit);
    }
    return 0;
}
