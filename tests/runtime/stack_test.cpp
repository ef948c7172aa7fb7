// tests/runtime/stack_test.cpp — fiber stacks: many fibers alive at once, stacks
// returned to the pool and reused, the process-wide guard-page budget, and the pages
// of idle stacks beyond the cache limit given back to the kernel.
#include "support.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>

using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kMany = 20'000;   // each stack costs more under AddressSanitizer
#else
constexpr int kMany = 100'000;
#endif

// Resident set size of this process, from /proc/self/statm.
std::size_t rss_bytes() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Writes `byte` over 8 KiB of the calling fiber's stack; returns where it wrote.
[[gnu::noinline]] const unsigned char* scribble(unsigned char byte) {
    static const unsigned char* volatile where = nullptr;
    unsigned char buf[8192];
    std::memset(buf, byte, sizeof buf);
    where = buf;   // the stores above cannot be dropped: the buffer escapes
    return where;
}

struct CacheLimitGuard {
    std::size_t saved = gev::stack_cache_limit();
    ~CacheLimitGuard() { gev::set_stack_cache_limit(saved); }
};

}  // namespace

TEST_CASE("guard pages come out of a process-wide budget while it lasts", "[runtime][stack]") {
    // An odd size gets a size class (and so a chunk of stacks) of its own.
    constexpr std::size_t kOddSize = 200 * 1024 + 4096 * 3;
    std::size_t budget_before = gev::stack_guard_budget();
    bool guarded = false;
    std::size_t size = 0;
    gev::testing::run([&] {
        auto g = gev::spawn(gev::SpawnOptions{.stack_size = kOddSize}, [&] {
            guarded = gev::detail::current_fiber()->stack.guarded;
            size = gev::detail::current_fiber()->stack.size;
        });
        g.join();
    });
    std::size_t budget_after = gev::stack_guard_budget();
    REQUIRE(size == kOddSize);
    if (guarded) {
        REQUIRE(budget_after < budget_before);
    } else {
        // Past the budget stacks come unguarded, and the budget stays as it was.
        REQUIRE(budget_after == budget_before);
    }
}

TEST_CASE("a hundred thousand fibers can be alive at once and all complete", "[runtime][stack]") {
    int finished = 0;
    std::size_t peak = 0;
    std::size_t baseline = 0, after = 0;
    gev::testing::run([&] {
        baseline = gev::detail::stack_pool().in_use();
        std::vector<gev::Greenlet<>> gs;
        gs.reserve(kMany);
        for (int i = 0; i < kMany; ++i)
            gs.push_back(gev::spawn([&] {
                peak = std::max(peak, gev::detail::stack_pool().in_use());
                gev::idle();   // until every one of them has started
                gev::sleep(1ms);
                ++finished;
            }));
        gev::joinall(gs);
        after = gev::detail::stack_pool().in_use();
    });
    REQUIRE(finished == kMany);
    REQUIRE(peak == baseline + kMany);   // every one of them was alive at the same time
    REQUIRE(after == baseline);
}

TEST_CASE("stacks of ended fibers are reused by later fibers", "[runtime][stack]") {
    constexpr int kBatch = 500;
    std::set<const char*> first_bases, second_bases;
    std::size_t baseline = 0, between = 0, peak = 0, after = 0;
    gev::testing::run([&] {
        baseline = gev::detail::stack_pool().in_use();
        auto batch = [&](std::set<const char*>& bases) {
            std::vector<gev::Greenlet<>> gs;
            for (int i = 0; i < kBatch; ++i)
                gs.push_back(gev::spawn([&] {
                    bases.insert(gev::detail::current_fiber()->stack.base);
                    peak = std::max(peak, gev::detail::stack_pool().in_use());
                    gev::idle();
                    gev::sleep(1ms);
                }));
            gev::joinall(gs);
        };
        batch(first_bases);
        between = gev::detail::stack_pool().in_use();
        peak = 0;
        batch(second_bases);
        after = gev::detail::stack_pool().in_use();
    });
    REQUIRE(first_bases.size() == kBatch);
    REQUIRE(between == baseline);
    REQUIRE(peak == baseline + kBatch);   // the second batch needs no more than its own size
    REQUIRE(after == baseline);
    REQUIRE(second_bases == first_bases);   // every stack came back from the first batch
}

TEST_CASE("a fiber that never ran holds no stack", "[runtime][stack]") {
    std::size_t before = 0, with_unstarted = 0;
    gev::testing::run([&] {
        before = gev::detail::stack_pool().in_use();
        auto g = gev::spawn([] {});
        with_unstarted = gev::detail::stack_pool().in_use();
        g.kill();
    });
    REQUIRE(with_unstarted == before);
}

TEST_CASE("after a spike of fibers the idle stacks beyond the cache limit give their pages back",
          "[runtime][stack][release]") {
    constexpr int kSpike = 20'000;
    constexpr std::size_t kSize = 40 * 1024;   // a size class of its own
    auto& pool = gev::detail::stack_pool();
    std::size_t released_before = pool.released_bytes(), calls_before = pool.release_calls();
    std::size_t rss_peak = 0, rss_after = 0, warm_before = 0, warm_after = 0;
    gev::testing::run([&] {
        warm_before = pool.idle_warm();   // other size classes keep theirs
        gev::Event go;
        std::vector<gev::Greenlet<>> gs;
        gs.reserve(kSpike);
        for (int i = 0; i < kSpike; ++i)
            gs.push_back(gev::spawn(gev::SpawnOptions{.stack_size = kSize}, [&] {
                scribble(0x5a);
                go.wait();
            }));
        gev::sleep(0ns);   // every one has touched its stack and parked
        rss_peak = rss_bytes();
        go.set();
        gev::joinall(gs);
        rss_after = rss_bytes();
        warm_after = pool.idle_warm();
    });
    std::size_t released = pool.released_bytes() - released_before;
    std::size_t stacks = released / kSize;
    INFO("rss peak " << rss_peak / 1024 << " KiB, after " << rss_after / 1024 << " KiB, released "
                     << stacks << " stacks in " << pool.release_calls() - calls_before << " calls");
    REQUIRE(stacks >= kSpike - gev::stack_cache_limit());
    REQUIRE(warm_after <= warm_before + gev::stack_cache_limit() + 1);   // +1: the main fiber's own stack
    // Neighbouring stacks go back together: far fewer calls than stacks.
    REQUIRE(pool.release_calls() - calls_before <= stacks / 8);
    // Each released stack had at least its two scribbled pages resident.
    REQUIRE(rss_after + stacks * 8192 / 2 <= rss_peak);
}

TEST_CASE("fibers spawned and ended below the cache limit map nothing and give nothing back",
          "[runtime][stack][release]") {
    constexpr std::size_t kSize = 44 * 1024;
    auto& pool = gev::detail::stack_pool();
    std::size_t mapped = 0, released = 0;
    bool steady = true;
    gev::testing::run([&] {
        for (int round = 0; round < 20; ++round) {
            std::vector<gev::Greenlet<>> gs;
            for (int i = 0; i < 200; ++i)
                gs.push_back(gev::spawn(gev::SpawnOptions{.stack_size = kSize}, [] {
                    scribble(1);
                    gev::sleep(0ns);
                }));
            gev::joinall(gs);
            if (round == 0) {
                mapped = pool.mapped_bytes();
                released = pool.released_bytes();
            } else if (pool.mapped_bytes() != mapped || pool.released_bytes() != released) {
                steady = false;
            }
        }
    });
    REQUIRE(steady);
}

TEST_CASE("a stack whose pages went back is reused and reads as fresh zeroed memory",
          "[runtime][stack][release]") {
    CacheLimitGuard restore;
    gev::set_stack_cache_limit(0);   // every ending fiber's pages go back at once
    constexpr std::size_t kSize = 48 * 1024;
    const unsigned char* written = nullptr;
    const char* first_base = nullptr;
    const char* second_base = nullptr;
    bool zeroed = false;
    gev::testing::run([&] {
        gev::spawn(gev::SpawnOptions{.stack_size = kSize}, [&] {
            first_base = gev::detail::current_fiber()->stack.base;
            written = scribble(0x5a);
        }).join();
        // The pages the fiber wrote are gone: reading them faults in zero pages.
        const volatile unsigned char* p = written;
        zeroed = true;
        for (std::size_t i = 0; i < 8192; i += 512) zeroed = zeroed && p[i] == 0;
        gev::spawn(gev::SpawnOptions{.stack_size = kSize}, [&] {
            second_base = gev::detail::current_fiber()->stack.base;
            scribble(0x33);   // the reused stack works to its depth
        }).join();
    });
    REQUIRE(first_base != nullptr);
    REQUIRE(second_base == first_base);
    REQUIRE(zeroed);
}
