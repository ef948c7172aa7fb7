// examples/prefork_server.cpp — a prefork echo server (gunicorn's model on gev::fork,
// gevent.fork): the parent binds 127.0.0.1:P and forks N workers that all accept on
// that one inherited listener and serve echo_server's protocol (every byte comes back).
// The parent restarts a worker that dies; on SIGTERM or SIGINT it tells every worker to
// drain (stop accepting, let its connections finish within --grace seconds), waits for
// them, and exits 0. --connections C caps each worker's open connections (gunicorn's
// worker_connections); --log-connections prints which worker took each connection.
// Run: build/examples/prefork_server --port 8001 --workers 3
//      then build/examples/echo_client (or nc 127.0.0.1 8001); kill -9 a worker; Ctrl-C.
#include "gev.hpp"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using gev::net::Address;
using gev::net::Socket;
using namespace std::chrono_literals;

namespace {

struct Options {
    int port = 8001;
    unsigned workers = 3;
    std::size_t connections = 1000;
    double grace = 5;
    bool log_connections = false;
};

Options g_options;

void echo(Socket conn, Address peer) {
    if (g_options.log_connections)
        std::fprintf(stderr, "prefork_server: worker %d serves %s\n", ::getpid(), peer.to_string().c_str());
    std::array<char, 4096> buf;
    try {
        while (std::size_t n = conn.recv(buf))   // 0: the client closed
            conn.sendall(std::string_view(buf.data(), n));
    } catch (const gev::net::SocketError&) {
        // a reset peer; the worker's other connections go on
    }
}

// A worker: serves on the inherited listener until SIGTERM, then drains.
int worker(int listen_fd, pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);   // drain too if the parent goes away
    if (::getppid() != parent) return 0;  // it went away before that took effect
    gev::Event stop;
    // The parent's handlers are not inherited (README "Fork"); a terminal's Ctrl-C
    // reaches the whole group, and the parent decides when workers stop.
    auto on_term = gev::signal_handler(SIGTERM, [&] { stop.set(); });
    auto on_int = gev::signal_handler(SIGINT, [] {});
    gev::net::StreamServer server(Socket::adopt(listen_fd), echo, {.max_connections = g_options.connections});
    server.start();
    std::fprintf(stderr, "prefork_server: worker %d started\n", ::getpid());
    stop.wait();
    server.stop(std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(g_options.grace)));
    std::fprintf(stderr, "prefork_server: worker %d stopped\n", ::getpid());
    return 0;
}

// Parks until the process has ended (on a pidfd) and returns its wait status.
int wait_exit(pid_t pid) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        gev::net::wait_read(pidfd);
        ::close(pidfd);
    }
    int status = 0;
    if (pidfd < 0) {   // before Linux 5.3: a worker thread waits instead
        gev::run_in_thread([&] { ::waitpid(pid, &status, 0); });
        return status;
    }
    ::waitpid(pid, &status, 0);
    return status;
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "exit status " + std::to_string(WEXITSTATUS(status));
}

struct Supervisor {
    int listen_fd;
    bool stopping = false;
    std::vector<pid_t> pids;   // per slot; 0 while none runs

    // Forks the worker of `slot`; only the parent returns.
    pid_t start(unsigned slot) {
        pid_t parent = ::getpid();
        pid_t pid = gev::fork();
        if (pid == 0) {
            int code = worker(listen_fd, parent);
            std::fflush(nullptr);
            ::_exit(code);
        }
        pids[slot] = pid;
        return pid;
    }

    // Keeps slot's worker running until stopping; a worker that dies is replaced.
    void watch(unsigned slot) {
        while (!stopping) {
            pid_t pid = start(slot);
            int status = wait_exit(pid);
            pids[slot] = 0;
            if (stopping) return;
            std::fprintf(stderr, "prefork_server: worker %d died (%s); starting another\n", pid,
                         describe(status).c_str());
            gev::sleep(100ms);   // a worker that dies at once must not make a fork loop
        }
    }

    void signal_all(int sig) const {
        for (pid_t pid : pids)
            if (pid > 0) ::kill(pid, sig);
    }
};

bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--port") && i + 1 < argc) g_options.port = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) g_options.workers = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--connections") && i + 1 < argc) g_options.connections = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--grace") && i + 1 < argc) g_options.grace = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--log-connections")) g_options.log_connections = true;
        else return false;
    }
    return g_options.workers > 0 && g_options.connections > 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (!parse(argc, argv)) {
        std::fprintf(stderr, "usage: prefork_server [--port P] [--workers N] [--connections C] [--grace S] "
                             "[--log-connections]\n");
        return 2;
    }
    return gev::run([] {
        Socket listener(AF_INET, SOCK_STREAM);
        listener.set_reuse_address();
        listener.bind(Address("127.0.0.1", static_cast<std::uint16_t>(g_options.port)));
        listener.listen(500);
        Supervisor sup{listener.fileno(), false, std::vector<pid_t>(g_options.workers, 0)};
        gev::Event stop;
        auto on_stop = [&] {
            sup.stopping = true;
            stop.set();
        };
        auto on_term = gev::signal_handler(SIGTERM, on_stop);
        auto on_int = gev::signal_handler(SIGINT, on_stop);
        std::fprintf(stderr, "prefork_server: listening on %s (%s, %u workers)\n",
                     listener.local_address().to_string().c_str(), gev::poller_name(), g_options.workers);
        std::vector<gev::Greenlet<>> watchers;
        for (unsigned slot = 0; slot < g_options.workers; ++slot)
            watchers.push_back(gev::spawn([&sup, slot] { sup.watch(slot); }));
        stop.wait();
        std::fprintf(stderr, "prefork_server: stopping %u workers\n", g_options.workers);
        sup.signal_all(SIGTERM);
        auto limit = std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(g_options.grace + 2));
        if (gev::joinall(watchers, limit).size() < watchers.size()) {
            std::fprintf(stderr, "prefork_server: workers still running after the grace period: killing them\n");
            sup.signal_all(SIGKILL);
            gev::joinall(watchers);
        }
        std::fprintf(stderr, "prefork_server: stopped\n");
    });
}
