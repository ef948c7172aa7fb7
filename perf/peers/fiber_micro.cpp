// perf/peers/fiber_micro.cpp — the Boost.Fiber peer for perf/run: gev's micro
// benchmarks on Boost.Fiber's default round-robin scheduler, one thread, printed as
// `name n=N ns_per_op=X`. Children start with launch::dispatch (they run at once) on
// 16 KiB pooled stacks, as in Boost's own performance/fiber/skynet benchmarks; malloc'd
// stacks were 10x slower here (glibc trims and refaults the heap). Boost.Fiber frees a
// finished fiber only when its scheduler idles, so skynet keeps every stack until the
// end: it runs 100k leaves (~0.6 GB), not 1M (~6 GB). spawn_join holds n fibers alive,
// then joins them, as perf/micro's does; it runs 100k.
// Each runs --warmup times untimed first, as perf/micro --warmup does.
// Run: fiber_micro [--scale F] [--only NAME] [--warmup W]
#include <boost/fiber/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

namespace fibers = boost::fibers;
using Stack = fibers::pooled_fixedsize_stack;

double g_scale = 1.0;
const char* g_only = nullptr;
int g_warmup = 0;

std::size_t scaled(std::size_t n) { return std::max<std::size_t>(1, static_cast<std::size_t>(n * g_scale)); }
bool want(const char* name) { return g_only == nullptr || std::strcmp(g_only, name) == 0; }

double now_ns() {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Stack& stacks() {
    static Stack s(16 * 1024);
    return s;
}

double yield(std::size_t n) {
    auto spin = [n] {
        for (std::size_t i = 0; i < n; ++i) boost::this_fiber::yield();
    };
    double t0 = now_ns();
    fibers::fiber a(std::allocator_arg, stacks(), spin), b(std::allocator_arg, stacks(), spin);
    a.join();
    b.join();
    return (now_ns() - t0) / (2.0 * n);
}

// Measured as gev's is: n fibers spawned (queued, not yet run) and alive together, then
// all joined, so each holds its own stack meanwhile.
double spawn_join(std::size_t n) {
    std::vector<fibers::fiber> kids;
    kids.reserve(n);
    double t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) kids.emplace_back(fibers::launch::post, std::allocator_arg, stacks(), [] {});
    for (auto& k : kids) k.join();
    return (now_ns() - t0) / n;
}

void skynet(long& out, long num, long size, long div) {
    if (size == 1) {
        out = num;
        return;
    }
    std::vector<long> sums(div, 0);
    std::vector<fibers::fiber> kids;
    kids.reserve(div);
    long sub = size / div;
    for (long i = 0; i < div; ++i)
        kids.emplace_back(fibers::launch::dispatch, std::allocator_arg, stacks(), skynet, std::ref(sums[i]),
                          num + i * sub, sub, div);
    for (auto& k : kids) k.join();
    out = 0;
    for (long s : sums) out += s;
}

// One item bounced between two fibers over two unbuffered channels; per hand-off.
double chan_pingpong(std::size_t n) {
    fibers::unbuffered_channel<long> a, b;
    fibers::fiber peer(std::allocator_arg, stacks(), [&] {
        for (std::size_t i = 0; i < n; ++i) b.push(a.value_pop() + 1);
    });
    double t0 = now_ns();
    long v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        a.push(v);
        v = b.value_pop();
    }
    double dt = now_ns() - t0;
    peer.join();
    return dt / (2.0 * n);
}

template <class F>
void run(const char* name, std::size_t n, F once) {
    if (!want(name)) return;
    for (int w = 0; w < g_warmup; ++w) once(n);
    std::printf("%s n=%zu ns_per_op=%.2f\n", name, n, once(n));
    std::fflush(stdout);
}

double skynet_bench(std::size_t leaves) {
    long sum = 0;
    double t0 = now_ns();
    fibers::fiber(std::allocator_arg, stacks(), skynet, std::ref(sum), 0L, static_cast<long>(leaves), 10L).join();
    double dt = now_ns() - t0;
    long want = static_cast<long>(leaves) * (static_cast<long>(leaves) - 1) / 2;
    if (sum != want) std::fprintf(stderr, "skynet: wrong sum %ld\n", sum);
    return dt / leaves;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--scale")) g_scale = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--only")) g_only = argv[i + 1];
        else if (!std::strcmp(argv[i], "--warmup")) g_warmup = std::atoi(argv[i + 1]);
    }
    std::size_t leaves = 1;
    while (leaves * 10 <= scaled(100'000)) leaves *= 10;
    run("yield", scaled(5'000'000), yield);
    run("spawn_join", scaled(100'000), spawn_join);
    run("skynet_1m", leaves, skynet_bench);
    run("chan_pingpong", scaled(2'000'000), chan_pingpong);
    return 0;
}
