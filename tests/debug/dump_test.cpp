// tests/debug/dump_test.cpp — format_run_info / dump_fibers: one line per fiber with
// its state, wait reason, age and spawn site, on one hub and across hubs; and the
// SIGQUIT dump that leaves the program running; spawn sites as file:line with debug
// information, as symbol+offset without.
#include "debug/debug_build.hpp"
#include "debug/debug_support.hpp"
#include "runtime/symbolize.hpp"
#include "support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <string>

using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The dump line of the fiber named `name`.
std::string line_of(const std::string& text, const std::string& name) {
    auto at = text.find("<" + name + " id=");
    if (at == std::string::npos) return "";
    auto end = text.find('\n', at);
    return text.substr(at, end - at);
}

}  // namespace

TEST_CASE("format_run_info lists every fiber with its state, wait reason, age and spawn site", "[debug][dump]") {
    gev::testing::run([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        gev::net::Socket a = gev::net::Socket::adopt(sv[0]);
        gev::net::Socket b = gev::net::Socket::adopt(sv[1]);
        gev::Event event;
        auto sleeper = gev::spawn(gev::SpawnOptions{.name = "sleeper"}, [] { gev::sleep(10s); });
        auto joiner = gev::spawn(gev::SpawnOptions{.name = "joiner"}, [sleeper] { sleeper.join(); });
        auto reader = gev::spawn(gev::SpawnOptions{.name = "reader"}, [&a] {
            char c;
            a.recv(std::span(&c, 1));
        });
        auto waiter = gev::spawn(gev::SpawnOptions{.name = "waiter"}, [&event] { event.wait(); });
        gev::sleep(0ns);

        std::string info = gev::format_run_info();
        INFO(info);
        REQUIRE(has(info, "gev: fibers of 1 hub, asked from hub 0\n"));
        REQUIRE(has(info, "hub 0 (" + std::string(gev::poller_name()) + "): 5 fibers\n"));
        REQUIRE(has(line_of(info, "main"), "hub 0, running, up "));
        std::string s = line_of(info, "sleeper");
        REQUIRE(has(s, "parked: sleep "));
        REQUIRE(has(s, " s left"));
        REQUIRE(has(s, ", spawned at "));
        REQUIRE(has(line_of(info, "joiner"), "parked: join fiber " + std::to_string(sleeper.id())));
        REQUIRE(has(line_of(info, "reader"), "parked: recv fd " + std::to_string(a.fileno())));
        REQUIRE(has(line_of(info, "waiter"), "parked: Event 0x"));
        REQUIRE(has(line_of(info, "waiter"), ", up "));

        event.set();
        b.sendall(std::string_view("x"));
        sleeper.kill();
        gev::joinall({joiner, reader, waiter});
    });
}

TEST_CASE("format_run_info from hub 0 covers the fibers of every hub", "[debug][dump]") {
    std::string info;
    gev::RunOptions opts;
    opts.threads = 3;
    opts.monitor = false;
    gev::run([&info] {
        std::atomic<int> parked{0};
        std::vector<gev::Greenlet<>> workers;
        for (unsigned h = 1; h < 3; ++h)
            workers.push_back(gev::spawn_on(h, [&parked] {
                ++parked;
                gev::sleep(10s);
            }));
        while (parked.load() < 2) gev::sleep(1ms);
        info = gev::format_run_info();
        gev::killall(workers);
    }, opts);
    INFO(info);
    REQUIRE(has(info, "gev: fibers of 3 hubs, asked from hub 0\n"));
    REQUIRE(has(info, "hub 1 ("));
    REQUIRE(has(info, "hub 2 ("));
    REQUIRE(has(info, "> hub 1, parked: sleep "));
    REQUIRE(has(info, "> hub 2, parked: sleep "));
}

TEST_CASE("a hub that does not answer in time is named in the dump", "[debug][dump]") {
    std::string info;
    gev::RunOptions opts;
    opts.threads = 2;
    opts.monitor = false;
    gev::run([&info] {
        std::atomic<bool> started{false};
        auto busy = gev::spawn_on(1, [&started] {
            started = true;
            auto until = std::chrono::steady_clock::now() + 300ms;
            while (std::chrono::steady_clock::now() < until) {
            }
        });
        while (!started.load()) gev::sleep(1ms);
        info = gev::format_run_info(20ms);
        busy.join();
    }, opts);
    INFO(info);
    REQUIRE(has(info, "hub 1: no answer within 20 ms"));
    REQUIRE(has(info, "hub 0 ("));
}

TEST_CASE("dump_fibers writes the dump to a file descriptor", "[debug][dump]") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    gev::testing::run([p] {
        auto g = gev::spawn(gev::SpawnOptions{.name = "napper"}, [] { gev::sleep(10s); });
        gev::sleep(0ns);
        gev::dump_fibers(p[1]);
        g.kill();
    });
    ::close(p[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, n);
    ::close(p[0]);
    INFO(out);
    REQUIRE(has(line_of(out, "napper"), "parked: sleep"));
}

TEST_CASE("format_run_info outside gev::run throws a system_error", "[debug][dump]") {
    REQUIRE_THROWS_AS(gev::format_run_info(), std::system_error);
}

TEST_CASE("SIGQUIT writes every fiber to stderr and the program goes on", "[debug][dump][signal]") {
    gev::testing::CaptureStderr capture;
    bool went_on = false;
    gev::testing::run([&] {
        gev::SignalHandler dump = gev::enable_sigquit_dump();
        auto g = gev::spawn(gev::SpawnOptions{.name = "bystander"}, [] { gev::sleep(10s); });
        gev::sleep(0ns);
        std::raise(SIGQUIT);
        for (int i = 0; i < 400 && !has(capture.peek(), "<bystander id="); ++i) gev::sleep(5ms);
        g.kill();
        auto after = gev::spawn([] { return 42; });
        went_on = after.get() == 42;
    });
    std::string err = capture.text();
    INFO(err);
    REQUIRE(has(line_of(err, "bystander"), "parked: sleep"));
    REQUIRE(has(err, "<signal reader id="));
    REQUIRE(went_on);
}

TEST_CASE("with debug information a dump names the spawn site as file:line, else as symbol+offset",
          "[debug][dump][symbolize]") {
    std::string info, site;
    int line = 0;
    gev::testing::run([&] {
        auto g = gev::spawn(gev::SpawnOptions{.name = "sited"}, [] { gev::sleep(10s); }); line = __LINE__;
        gev::sleep(0ns);
        info = gev::format_run_info();
        site = line_of(info, "sited");
        g.kill();
    });
    INFO(info);
    auto at = site.find(", spawned at ");
    REQUIRE(at != std::string::npos);
    std::string where = site.substr(at + 13);
    if (GEV_TEST_DEBUG_INFO && gev::detail::symbolize_reads_debug_info()) {
        // gev::spawn, inlined here, is looked through to this file's line.
        REQUIRE(has(where, "tests/debug/dump_test.cpp:" + std::to_string(line) + " ("));
        REQUIRE(where.ends_with(")"));
    } else {
        REQUIRE(has(where, "+0x"));
        REQUIRE_FALSE(has(where, ".cpp:"));
    }
}

TEST_CASE("an address in a module without debug information falls back to symbol+offset (module+offset)",
          "[debug][symbolize]") {
    // The C library carries no DWARF of its own (Debian keeps it in separate files,
    // which symbolize never reads).
    const void* in_libc = reinterpret_cast<const char*>(&::getpid) + 4;
    std::string where = gev::detail::symbolize(in_libc);
    INFO(where);
    REQUIRE(has(where, "getpid+0x4 (libc.so"));
    REQUIRE(where.ends_with(")"));
    REQUIRE_FALSE(has(where, ".c:"));
}
