// tests/debug/stats_test.cpp — gev::stats(): fibers counted by state and wait kind,
// the loop's counters moving, one entry per hub (several hubs: in the 'threads'
// suite, so TSan runs it), and the JSON form naming every field.
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("stats counts N sleeping fibers as parked in sleep and arms a timer for each", "[debug][stats]") {
    gev::testing::run([] {
        constexpr int n = 7;
        std::vector<gev::Greenlet<void>> sleepers;
        for (int i = 0; i < n; ++i) sleepers.push_back(gev::spawn([] { gev::sleep(10s); }));
        gev::HubStats before_run = gev::stats().at(0);
        CHECK(before_run.not_started == n);
        gev::sleep(0s);   // every sleeper runs up to its sleep
        std::vector<gev::HubStats> all = gev::stats();
        REQUIRE(all.size() == 1);
        const gev::HubStats& s = all[0];
        CHECK(s.answered);
        CHECK(s.hub == 0);
        CHECK(s.fibers == n + 1);   // the sleepers and main
        CHECK(s.running == 1);
        CHECK(s.parked_sleep == n);
        CHECK(s.parked == n);
        CHECK(s.not_started == 0);
        CHECK(s.timers >= static_cast<std::uint64_t>(n));
        CHECK(s.stacks_in_use >= static_cast<std::uint64_t>(n));
        CHECK(s.stack_bytes_in_use >= n * gev::default_stack_size());
        CHECK(s.stack_mapped_bytes >= s.stack_bytes_in_use);
        for (auto& g : sleepers) g.kill();
        gev::HubStats after = gev::stats().at(0);
        CHECK(after.fibers == 1);
        CHECK(after.parked_sleep == 0);
        CHECK(after.stacks_cached >= static_cast<std::uint64_t>(n));
    });
}

TEST_CASE("stats tells fibers parked on io, on an Event, in a join and idle apart", "[debug][stats]") {
    gev::testing::run([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        gev::net::Socket a = gev::net::Socket::adopt(sv[0]);
        gev::net::Socket b = gev::net::Socket::adopt(sv[1]);
        gev::Event event;
        auto reader = gev::spawn([&] {
            char c;
            a.recv(std::span<char>(&c, 1));
        });
        auto waiter = gev::spawn([&] { event.wait(); });
        auto joiner = gev::spawn([&] { waiter.join(); });
        gev::sleep(0s);
        gev::HubStats s = gev::stats().at(0);
        CHECK(s.parked_io == 1);
        CHECK(s.parked_sync == 1);
        CHECK(s.parked_join == 1);
        CHECK(s.parked_sleep == 0);
        CHECK(s.parked == 3);
        event.set();
        b.sendall("x");
        gev::joinall({reader, waiter, joiner});
        gev::HubStats after = gev::stats().at(0);
        CHECK(after.parked == 0);
        CHECK(after.fibers == 1);
    });
}

TEST_CASE("stats counts switches and polls, and both only grow", "[debug][stats]") {
    gev::testing::run([] {
        gev::HubStats first = gev::stats().at(0);
        auto g = gev::spawn([] {
            for (int i = 0; i < 10; ++i) gev::sleep(0s);
        });
        for (int i = 0; i < 10; ++i) gev::sleep(0s);
        gev::sleep(1ms);   // nothing ready: the hub blocks in the poller
        g.join();
        gev::HubStats second = gev::stats().at(0);
        CHECK(second.switches >= first.switches + 20);
        CHECK(second.polls > first.polls);
        CHECK(second.poll_ns > first.poll_ns);
    });
}

TEST_CASE("stats shows the thread pool's workers and queued jobs", "[debug][stats]") {
    gev::testing::run([] {
        CHECK(gev::stats().at(0).threadpool_threads == 0);
        std::atomic<bool> release{false};
        auto job = gev::spawn([&] { gev::run_in_thread([&] { while (!release.load()) ::usleep(1000); }); });
        gev::sleep(0s);
        gev::HubStats s = gev::stats().at(0);
        CHECK(s.threadpool_threads == 1);
        CHECK(s.parked_sync == 1);   // the caller waits on run_in_thread
        CHECK(s.threadpool_queue <= 1);
        release.store(true);
        job.join();
        CHECK(gev::stats().at(0).threadpool_queue == 0);
    });
}

TEST_CASE("stats gives one entry per hub, each filled in by its own hub", "[debug][stats][multi]") {
    gev::run([] {
        auto sleeper = gev::spawn_on(1, [] { gev::sleep(10s); });
        auto other = gev::spawn_on(1, [] { gev::sleep(10s); });
        // Wait until hub 1 has run both up to their sleep and then waited in its poller
        // (a hub that spins may first find our requests without polling); bounded.
        std::vector<gev::HubStats> all;
        for (int i = 0; i < 200; ++i) {
            all = gev::stats();
            if (all.size() == 2 && all[1].parked_sleep == 2 && all[1].polls >= 1) break;
            gev::sleep(1ms);
        }
        REQUIRE(all.size() == 2);
        CHECK(all[0].hub == 0);
        CHECK(all[1].hub == 1);
        CHECK(all[0].answered);
        CHECK(all[1].answered);
        CHECK(all[1].parked_sleep == 2);
        CHECK(all[1].fibers == 2);
        CHECK(all[1].running == 0);
        CHECK(all[0].running == 1);
        CHECK(all[1].switches >= 2);
        CHECK(all[1].polls >= 1);
        sleeper.kill();
        other.kill();
        return 0;
    }, gev::testing::hubs(2));
}

TEST_CASE("stats_json names every field with one object per hub", "[debug][stats]") {
    gev::testing::run([] {
        std::string json = gev::stats_json(gev::stats());
        CHECK(json.rfind("{\"hubs\":[{\"hub\":0,\"poller\":\"", 0) == 0);
        for (const char* f : {"answered", "fibers", "not_started", "ready", "running", "suspended", "parked",
                              "parked_io", "parked_sleep", "parked_sync", "parked_join", "parked_other", "switches",
                              "polls", "poll_ns", "sleeps", "wakeups", "inbox", "timers", "stacks_in_use", "stack_bytes_in_use",
                              "stacks_cached", "stacks_cached_warm", "stack_mapped_bytes", "stack_released_bytes",
                              "threadpool_queue", "threadpool_threads"})
            CHECK(has(json, std::string("\"") + f + "\":"));
        CHECK(json.substr(json.size() - 3) == "]}\n");
    });
}

TEST_CASE("stats outside gev::run throws EPERM naming gev::stats", "[debug][stats]") {
    try {
        gev::stats();
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::operation_not_permitted);
        CHECK(has(e.what(), "gev::stats"));
    }
}
