// examples/echo_server.cpp — the seed's gevent echo server (S1-6) in fiber style: one
// fiber per connection, recv/sendall park only that fiber. The seed's EOF bug is fixed:
// recv returning 0 ends the connection and closes it.
// --threads N serves on N hubs (one thread each). SIGINT/SIGTERM stop it gracefully;
// SIGQUIT (`kill -QUIT <pid>`, or Ctrl-\ in its terminal) prints every fiber of every hub to stderr, with
// what it waits for and where it was spawned, and the server goes on.
// Run: build/examples/echo_server [--port 8001] [--quiet] [--seconds S] [--threads N] [--handoff]
//      then build/examples/echo_client or build/examples/stress_client.
#include "gev.hpp"

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

using gev::net::Address;
using gev::net::Socket;

static bool quiet = false;

void handle_request(Socket conn, Address) {
    std::array<char, 1024> buf;
    try {
        while (std::size_t n = conn.recv(buf)) {   // 0: the client closed
            if (!quiet) std::printf("recv: %.*s\n", static_cast<int>(n), buf.data());
            conn.sendall(std::string_view(buf.data(), n));
        }
    } catch (const gev::net::SocketError& e) {
        if (!quiet) std::printf("%s\n", e.what());   // e.g. a reset peer; the others are still served
    }
}

int main(int argc, char** argv) {
    int port = 8001;
    double seconds = 0;   // 0: serve until a signal
    unsigned threads = 1;
    bool handoff = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--port") && i + 1 < argc) port = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--handoff")) handoff = true;
        else if (!std::strcmp(argv[i], "--quiet")) quiet = true;
        else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    }
    return gev::run([&] {
        gev::net::StreamServer server(Address("0.0.0.0", static_cast<std::uint16_t>(port)), handle_request,
                                      {.backlog = 500, .threads = threads, .handoff = handoff});
        auto stop = [&] { server.stop(); };
        auto on_int = gev::signal_handler(SIGINT, stop);
        auto on_term = gev::signal_handler(SIGTERM, stop);
        auto on_quit = gev::enable_sigquit_dump();
        server.start();
        std::fprintf(stderr, "echo_server: listening on %s (%s, %u hub%s)\n", server.address().to_string().c_str(),
                     gev::poller_name(), threads, threads == 1 ? "" : "s");
        if (seconds > 0)
            gev::spawn_later(std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(seconds)), stop);
        server.serve_forever();
    }, {.threads = threads});
}
