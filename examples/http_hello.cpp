// examples/http_hello.cpp — the seed's epoll HTTP/1.0 "Hello, world!" server (S0-2) in
// fiber style: where the seed keeps a request and a response buffer per fd and switches
// each fd between EPOLLIN and EPOLLOUT, a fiber per connection just reads lines up to
// the blank one, prints the request as the seed does, sends the same 114 bytes and
// closes. The seed's busy loop on a client that leaves mid-request cannot happen here:
// end of stream ends the fiber.
// Run: build/examples/http_hello [--port 8080] [--seconds S]
//      then curl -s http://127.0.0.1:8080/   (prints Hello, world!)
#include "gev.hpp"

#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

using gev::net::Address;
using gev::net::Socket;

namespace {

constexpr char response[] =
    "HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n"
    "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
    "Hello, world!";
static_assert(sizeof response - 1 == 114, "the seed's response is 114 bytes (the literal adds a NUL)");

constexpr std::size_t max_request = 64 * 1024;   // a client that never ends its headers is dropped

bool complete(std::string_view request) {   // the seed's EOL1 (\n\n) or EOL2 (\n\r\n)
    return request.ends_with("\n\n") || request.ends_with("\n\r\n");
}

void handle(Socket conn, Address) {
    gev::net::Reader reader(conn);
    std::string request;
    try {
        while (!complete(request)) {
            std::string line = reader.readline(max_request);
            if (line.empty() || request.size() + line.size() > max_request) return;   // gone, or too long
            request += line;
        }
        std::printf("%s\n%.*s\n", std::string(40, '-').c_str(), static_cast<int>(request.size() - 2), request.data());
        std::fflush(stdout);
        conn.sendall(std::string_view(response, sizeof response - 1));
        conn.shutdown(SHUT_RDWR);
    } catch (const gev::net::SocketError& e) {   // e.g. a reset peer; the others are still served
        std::fprintf(stderr, "http_hello: %s\n", e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = 8080;
    double seconds = 0;   // 0: serve until killed
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    }
    return gev::run([&] {
        gev::net::StreamServer server(Address("0.0.0.0", static_cast<std::uint16_t>(port)), handle);
        try {
            server.start();
        } catch (const gev::net::SocketError& e) {   // the port is taken
            std::fprintf(stderr, "http_hello: %s\n", e.what());
            return 1;
        }
        std::fprintf(stderr, "http_hello: listening on %s (%s)\n", server.address().to_string().c_str(),
                     gev::poller_name());
        if (seconds > 0) {
            gev::sleep(std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(seconds)));
            server.stop();
        } else {
            server.serve_forever();
        }
        return 0;
    });
}
