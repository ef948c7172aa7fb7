// examples/echo_server.cpp — the seed's gevent echo server (S1-6) in fiber style: one
// fiber per connection, recv/sendall park only that fiber. The seed's EOF bug is fixed:
// recv returning 0 ends the connection and closes it.
// Run: build/examples/echo_server [--port 8001] [--quiet] [--seconds S]
//      then build/examples/echo_client or build/examples/stress_client.
#include "gev.hpp"

#include <array>
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
        std::printf("%s\n", e.what());   // e.g. a reset peer; the server keeps serving the others
    }
}

int main(int argc, char** argv) {
    int port = 8001;
    double seconds = 0;   // 0: serve until killed
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--port") && i + 1 < argc) port = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--quiet")) quiet = true;
        else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    }
    return gev::run([&] {
        gev::net::StreamServer server(Address("0.0.0.0", static_cast<std::uint16_t>(port)), handle_request,
                                      {.backlog = 500});
        server.start();
        std::fprintf(stderr, "echo_server: listening on %s (%s)\n", server.address().to_string().c_str(),
                     gev::poller_name());
        if (seconds > 0) {
            gev::sleep(std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(seconds)));
            server.stop();
        } else {
            server.serve_forever();
        }
    });
}
