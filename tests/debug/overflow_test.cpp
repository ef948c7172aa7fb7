// tests/debug/overflow_test.cpp — a fiber that runs off its stack ends the process with
// a report naming it. Each overflow runs in a child process (a hidden test case of
// this binary, started again with an environment variable that lets it run).
#include "debug/debug_support.hpp"
#include "support.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

namespace {

constexpr std::size_t kStack = 64 * 1024;

// Catch2 puts its own SIGSEGV/SIGBUS handlers in place while a test case runs; a child
// puts gev's back (taken before any test case ran) so that the overflow meets them.
struct sigaction g_gev_segv, g_gev_bus;
const bool g_taken = [] {
    gev::detail::root_fiber();   // this thread's fiber state: installs gev's fault handlers
    ::sigaction(SIGSEGV, nullptr, &g_gev_segv);
    ::sigaction(SIGBUS, nullptr, &g_gev_bus);
    return true;
}();

bool in_child() {
    if (std::getenv("GEV_TEST_OVERFLOW_CHILD") == nullptr) return false;
    ::sigaction(SIGSEGV, &g_gev_segv, nullptr);
    ::sigaction(SIGBUS, &g_gev_bus, nullptr);
    return true;
}

[[gnu::noinline]] int recurse(int n, bool yield) {
    volatile char pad[512];
    pad[0] = static_cast<char>(n);
    if (yield) gev::sleep(0ns);
    if (n == 0) return pad[0];
    return recurse(n - 1, yield) + pad[0];
}

}  // namespace

TEST_CASE("overflow child: guarded", "[.][overflow-child]") {
    if (!in_child()) return;
    gev::run([] {
        auto g = gev::spawn(gev::SpawnOptions{.stack_size = kStack, .name = "deep"}, [] { recurse(1 << 20, false); });
        g.join();
    });
    FAIL("the fiber did not overflow");
}

TEST_CASE("overflow child: unguarded", "[.][overflow-child]") {
    if (!in_child()) return;
    gev::run([] {
        // The filler takes the lowest stack of the chunk, so `deep` runs into the filler's
        // stack (mapped memory: no fault) and is caught when it switches out.
        auto filler = gev::spawn(gev::SpawnOptions{.stack_size = kStack, .name = "filler"}, [] { gev::sleep(10s); });
        gev::sleep(0ns);
        auto g = gev::spawn(gev::SpawnOptions{.stack_size = kStack, .name = "deep"}, [] { recurse(1 << 20, true); });
        g.join();
        filler.kill();
    });
    FAIL("the fiber did not overflow");
}

TEST_CASE("a fiber that runs into its guard page dies naming itself, its stack size and where it was spawned",
          "[debug][overflow]") {
    auto r = gev::testing::run_test_in_child("overflow child: guarded",
                                             {"GEV_TEST_OVERFLOW_CHILD=1", "GEV_MONITOR=0"});
    INFO(r.err);
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: stack overflow in <deep id=") != std::string::npos);
    REQUIRE(r.err.find("stack 65536 bytes") != std::string::npos);
    REQUIRE(r.err.find("guard page hit at 0x") != std::string::npos);
    REQUIRE(r.err.find("spawned at ") != std::string::npos);
    REQUIRE(r.err.find("where it overflowed:") != std::string::npos);
}

TEST_CASE("a fiber that overflows an unguarded stack is named at its next switch-out", "[debug][overflow]") {
    auto r = gev::testing::run_test_in_child("overflow child: unguarded",
                                             {"GEV_TEST_OVERFLOW_CHILD=1", "GEV_MONITOR=0", "GEV_STACK_GUARDS=0"});
    INFO(r.err);
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer sees the first write into the neighbour's poisoned frames, before
    // the switch-out check can: its report (stack-buffer-underflow, stack-use-after-scope,
    // ... whichever poisoned byte comes first) ends the child (exit 1); or the deep frames
    // reach unmapped memory first and its SEGV report ends it.
    if (r.err.find("ERROR: AddressSanitizer: stack-") != std::string::npos ||
        r.err.find("ERROR: AddressSanitizer: SEGV") != std::string::npos) {
        REQUIRE((WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0));
        return;
    }
#endif
    REQUIRE(gev::testing::died_of_signal(r));
    REQUIRE(r.err.find("gev: stack overflow in <deep id=") != std::string::npos);
    REQUIRE(r.err.find("stack 65536 bytes") != std::string::npos);
    REQUIRE(r.err.find("unguarded") != std::string::npos);
}

TEST_CASE("a crash that is not a stack overflow keeps its usual signal", "[debug][overflow]") {
    auto r = gev::testing::run_test_in_child("overflow child: null pointer",
                                             {"GEV_TEST_OVERFLOW_CHILD=1", "GEV_MONITOR=0"});
    INFO(r.err);
    // Killed by SIGSEGV, or (under AddressSanitizer, whose handler was there first) its report and exit 1.
    REQUIRE((WIFSIGNALED(r.status) || (WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0)));
    REQUIRE(r.err.find("stack overflow") == std::string::npos);
}

TEST_CASE("overflow child: null pointer", "[.][overflow-child]") {
    if (!in_child()) return;
    gev::run([] {
        auto g = gev::spawn([] {
            volatile int* volatile p = nullptr;
            *p = 1;
        });
        g.join();
    });
    FAIL("no crash");
}
