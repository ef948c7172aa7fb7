// tests/runtime/stack_test.cpp — fiber stacks: many fibers alive at once, stacks
// returned to the pool and reused, and the process-wide guard-page budget.
#include "support.hpp"

#include <set>

using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kMany = 20'000;   // each stack costs more under AddressSanitizer
#else
constexpr int kMany = 100'000;
#endif

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
