// soak/soak_server.cpp — the echo server of examples/echo_server.cpp (one fiber per
// connection, recv/sendall), plus what a soak run needs: a killer fiber that kills a
// random live handler every --kill-ms (GreenletExit at its park point), and on SIGUSR1
// one line on stdout `stats fibers=N fds=N rss_kib=N handlers=N killed=N` (fibers of
// every hub, from format_run_info; open fds from /proc/self/fd). SIGQUIT dumps the
// fibers; SIGTERM/SIGINT stop it. Driven by soak/run; not part of the test suite.
// Build and run: see soak/run --help.
#include "gev.hpp"

#include <dirent.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <random>

using namespace std::chrono_literals;

namespace {

// Handlers alive now, so the killer can pick one (handlers run on every hub).
std::mutex g_mu;
std::list<gev::Greenlet<>> g_handlers;
std::size_t g_killed = 0;

void echo(gev::net::Socket conn, gev::net::Address) {
    gev::detail::Fiber* self = gev::detail::current_fiber();
    self->ref();
    std::list<gev::Greenlet<>>::iterator me;
    {
        std::lock_guard lock(g_mu);
        me = g_handlers.insert(g_handlers.end(), gev::Greenlet<>(self));
    }
    struct Leave {
        std::list<gev::Greenlet<>>::iterator me;
        ~Leave() {
            std::lock_guard lock(g_mu);
            g_handlers.erase(me);
        }
    } leave{me};
    std::array<char, 4096> buf;
    try {
        while (std::size_t n = conn.recv(buf)) conn.sendall(std::string_view(buf.data(), n));
    } catch (const gev::net::SocketError&) {   // resets are part of the soak
    }
}

long count_fds() {
    long n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
        ::closedir(d);
        --n;   // the directory stream's own fd
    }
    return n;
}

long rss_kib() {
    long pages = 0, rss = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        std::fclose(f);
    }
    return rss * (::sysconf(_SC_PAGESIZE) / 1024);
}

void print_stats() {
    std::string info = gev::format_run_info();
    std::size_t fibers = 0;
    for (std::size_t at = 0; (at = info.find("\n  <", at)) != std::string::npos; ++at) ++fibers;
    std::size_t handlers, killed;
    {
        std::lock_guard lock(g_mu);
        handlers = g_handlers.size();
        killed = g_killed;
    }
    std::printf("stats fibers=%zu fds=%ld rss_kib=%ld handlers=%zu killed=%zu\n", fibers, count_fds(), rss_kib(),
                handlers, killed);
    std::fflush(stdout);
}

void killer(int every_ms) {
    std::mt19937 rng(42);
    for (;;) {
        gev::sleep(std::chrono::milliseconds(every_ms));
        gev::Greenlet<> victim;
        {
            std::lock_guard lock(g_mu);
            if (g_handlers.empty()) continue;
            auto it = g_handlers.begin();
            std::advance(it, rng() % g_handlers.size());
            victim = *it;
            ++g_killed;
        }
        victim.kill({.block = false});
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = 8101, kill_ms = 20;
    unsigned threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--kill-ms")) kill_ms = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    }
    gev::RunOptions opts;
    opts.threads = threads;
    return gev::run([&] {
        gev::net::StreamServer server(gev::net::Address("127.0.0.1", static_cast<std::uint16_t>(port)), echo,
                                      {.backlog = 4096, .threads = threads});
        server.start();
        auto dump = gev::enable_sigquit_dump();
        auto stats = gev::signal_handler(SIGUSR1, print_stats);
        gev::Event stop;
        auto term = gev::signal_handler(SIGTERM, [&stop] { stop.set(); });
        auto intr = gev::signal_handler(SIGINT, [&stop] { stop.set(); });
        auto k = gev::spawn(gev::SpawnOptions{.name = "killer"}, killer, kill_ms);
        std::printf("listening on %s\n", server.address().to_string().c_str());
        std::fflush(stdout);
        stop.wait();
        k.kill();
        server.stop();
        return 0;
    }, opts);
}
