// tests/runtime/spawn_test.cpp — gev::spawn and gev::spawn_later: spawning never
// switches, first runs follow spawn order, handles carry the result type, arguments
// are decay-copied, ids and names, stack sizes, and delayed starts.
#include "support.hpp"

#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;

namespace {

// Uses about `depth` * 4 KiB of stack; the result depends on every frame.
[[gnu::noinline]] int deep(int depth) {
    char buf[4096];
    std::memset(buf, depth & 0x7f, sizeof buf);
    asm volatile("" : : "r"(buf) : "memory");
    if (depth == 0) return buf[100];
    return deep(depth - 1) + buf[depth % sizeof buf];
}

// Restores the process-wide default stack size when a test ends.
struct DefaultStackGuard {
    std::size_t saved = gev::default_stack_size();
    ~DefaultStackGuard() { gev::set_default_stack_size(saved); }
};

}  // namespace

TEST_CASE("spawn does not switch to the new fiber", "[runtime][spawn]") {
    std::vector<std::string> order;
    gev::testing::run([&] {
        auto g = gev::spawn([&] { order.push_back("fiber"); });
        order.push_back("after spawn");
        g.join();
    });
    REQUIRE(order == std::vector<std::string>{"after spawn", "fiber"});
}

TEST_CASE("fibers first run in the order they were spawned", "[runtime][spawn]") {
    std::vector<int> order;
    gev::testing::run([&] {
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 6; ++i) gs.push_back(gev::spawn([&order, i] { order.push_back(i); }));
        gev::joinall(gs);
    });
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("spawn returns a Greenlet typed by the function's result", "[runtime][spawn]") {
    gev::testing::run([] {
        auto i = gev::spawn([] { return 7; });
        auto s = gev::spawn([] { return std::string("seven"); });
        auto v = gev::spawn([] {});
        static_assert(std::is_same_v<decltype(i), gev::Greenlet<int>>);
        static_assert(std::is_same_v<decltype(s), gev::Greenlet<std::string>>);
        static_assert(std::is_same_v<decltype(v), gev::Greenlet<void>>);
        REQUIRE(i.get() == 7);
        REQUIRE(s.get() == "seven");
        v.get();
        REQUIRE(v.successful());
    });
}

TEST_CASE("spawn passes its arguments to the function by decay-copy", "[runtime][spawn]") {
    gev::testing::run([] {
        std::string text = "before";
        int n = 1;
        auto g = gev::spawn([](std::string s, int k) { return s + std::to_string(k); }, text, n);
        text = "after";   // the fiber has not run yet: it must have its own copy
        n = 2;
        REQUIRE(g.get() == "before1");

        auto owned = std::make_unique<int>(41);
        auto m = gev::spawn([](std::unique_ptr<int> p) { return *p + 1; }, std::move(owned));
        REQUIRE(m.get() == 42);
    });
}

TEST_CASE("value is empty until the fiber has ended with a result", "[runtime][spawn]") {
    gev::testing::run([] {
        auto g = gev::spawn([] {
            gev::sleep(1ms);
            return 5;
        });
        REQUIRE_FALSE(g.value().has_value());
        gev::sleep(0ns);   // it has started and parks in its sleep
        REQUIRE(g.started());
        REQUIRE_FALSE(g.value().has_value());
        g.join();
        REQUIRE(g.value() == std::optional<int>(5));
    });
}

TEST_CASE("started is true from spawn until the fiber ends, as gevent's bool(greenlet)", "[runtime][spawn]") {
    gev::testing::Failures failures;
    gev::testing::run([] {
        gev::Event go;
        auto g = gev::spawn([&] { go.wait(); });
        REQUIRE(g.started());   // scheduled, not yet run
        gev::sleep(0ns);
        REQUIRE(g.started());   // parked
        go.set();
        g.join();
        REQUIRE_FALSE(g.started());   // dead

        auto never = gev::spawn([] {});
        never.kill();
        REQUIRE_FALSE(never.started());   // killed before it ran
        auto failed = gev::spawn([] { throw std::runtime_error("x"); });
        failed.join();
        REQUIRE_FALSE(failed.started());
        auto later = gev::spawn_later(1h, [] {});
        REQUIRE(later.started());
        later.kill();
        REQUIRE_FALSE(later.started());
    }, &failures);
    REQUIRE(failures.messages.size() == 1);
}

TEST_CASE("every fiber gets a distinct id", "[runtime][spawn]") {
    gev::testing::run([] {
        std::set<std::uint64_t> ids;
        std::vector<gev::Greenlet<>> gs;
        for (int i = 0; i < 50; ++i) gs.push_back(gev::spawn([] {}));
        for (auto& g : gs) ids.insert(g.id());
        gev::joinall(gs);
        for (auto& g : gs) ids.insert(g.id());   // ids do not change when a fiber ends
        REQUIRE(ids.size() == 50);
        REQUIRE(ids.count(0) == 0);
    });
}

TEST_CASE("a fiber is named Greenlet-<id> unless given a name", "[runtime][spawn]") {
    gev::testing::run([] {
        auto g = gev::spawn([] {});
        REQUIRE(g.name() == "Greenlet-" + std::to_string(g.id()));
        g.set_name("worker");
        REQUIRE(g.name() == "worker");
        auto named = gev::spawn(gev::SpawnOptions{.name = "reader"}, [] {});
        REQUIRE(named.name() == "reader");
        gev::joinall({g, named});
        REQUIRE(g.name() == "worker");
    });
}

TEST_CASE("SpawnOptions stack_size gives a fiber a bigger stack", "[runtime][spawn][stack]") {
    std::size_t seen = 0;
    int result = 0;
    gev::testing::run([&] {
        auto g = gev::spawn(gev::SpawnOptions{.stack_size = 1 << 20}, [&] {
            seen = gev::detail::current_fiber()->stack.size;
            result = deep(150);   // ~600 KiB of locals: more than the default stack holds
        });
        g.join();
        REQUIRE(g.successful());
    });
    REQUIRE(seen >= std::size_t{1} << 20);
    REQUIRE(result != 0);
}

TEST_CASE("set_default_stack_size applies to fibers spawned afterwards", "[runtime][spawn][stack]") {
    DefaultStackGuard restore;
    std::size_t before = 0, after = 0;
    gev::testing::run([&] {
        auto a = gev::spawn([&] { before = gev::detail::current_fiber()->stack.size; });
        a.join();
        gev::set_default_stack_size(restore.saved + (256u << 10));
        auto b = gev::spawn([&] { after = gev::detail::current_fiber()->stack.size; });
        b.join();
    });
    REQUIRE(before == restore.saved);
    REQUIRE(after == restore.saved + (256u << 10));
    REQUIRE(gev::default_stack_size() == restore.saved + (256u << 10));
}

TEST_CASE("spawn_later does not start the fiber before the delay", "[runtime][spawn][later]") {
    std::vector<std::string> order;
    gev::Clock::duration waited{};
    gev::testing::run([&] {
        auto t0 = gev::Clock::now();
        auto late = gev::spawn_later(15ms, [&] {
            waited = gev::Clock::now() - t0;
            order.push_back("late");
            return 3;
        });
        auto early = gev::spawn([&] {
            gev::sleep(2ms);
            order.push_back("early");
        });
        early.join();
        REQUIRE(order == std::vector<std::string>{"early"});
        REQUIRE(late.started());   // scheduled: gevent's bool(greenlet)
        REQUIRE_FALSE(late.ready());
        REQUIRE(late.get() == 3);
        REQUIRE_FALSE(late.started());
    });
    REQUIRE(order == std::vector<std::string>{"early", "late"});
    REQUIRE(waited >= 15ms);
}

TEST_CASE("a spawn_later fiber killed before its delay never runs and its links fire", "[runtime][spawn][later]") {
    bool ran = false;
    std::vector<std::uint64_t> linked;
    gev::testing::run([&] {
        auto g = gev::spawn_later(5ms, [&] { ran = true; });
        g.link([&](gev::Greenlet<> h) { linked.push_back(h.id()); });
        g.kill();
        REQUIRE(g.dead());
        REQUIRE(g.successful());
        gev::sleep(15ms);   // past the delay: the cancelled start must not happen
        REQUIRE(linked == std::vector<std::uint64_t>{g.id()});
    });
    REQUIRE_FALSE(ran);
}

TEST_CASE("a fiber keeps running after every handle to it is dropped", "[runtime][spawn]") {
    bool finished = false;
    gev::testing::run([&] {
        gev::spawn([&] {
            gev::sleep(2ms);
            finished = true;
        });
        gev::sleep(10ms);
        REQUIRE(finished);
    });
}
