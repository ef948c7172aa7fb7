// examples/select_client.cpp — the seed's select client (S1-10, Alex Li): two sockets,
// three messages; each message is sent on both sockets, then both replies are read.
// Against select_server every reply comes back upper-cased, which shows that it came
// from the server. Prints what the seed prints; the seed's `print(sys.stderr, ...)`
// meant stderr, so the closing line goes there.
// Run: build/examples/select_server &  build/examples/select_client [--host localhost] [--port 10000]
#include "gev.hpp"
#include "pyrepr.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

using gev::net::Address;
using gev::net::Socket;

namespace {

constexpr std::array<std::string_view, 3> messages = {"This is the message. ", "It will be sent ", "in parts."};

// The seed, line for line. Throws SocketError (refused, reset, unknown host).
void talk(const std::string& host, int port) {
    Address server_address = gev::net::resolve(host, static_cast<std::uint16_t>(port), AF_INET).at(0);
    std::array<Socket, 2> socks = {Socket(AF_INET), Socket(AF_INET)};

    std::printf("connecting to %s port %d\n", host.c_str(), port);
    for (Socket& s : socks) s.connect(server_address);

    for (std::string_view message : messages) {
        for (Socket& s : socks) {   // send the message on both sockets
            std::printf("%s: sending \"%s\"\n", pyrepr::tuple(s.local_address()).c_str(), pyrepr::bytes(message).c_str());
            s.send(message);
        }
        for (Socket& s : socks) {   // then read both replies
            std::string data = s.recv(1024);
            std::printf("%s: received \"%s\"\n", pyrepr::tuple(s.local_address()).c_str(), pyrepr::bytes(data).c_str());
            if (data.empty()) std::fprintf(stderr, "closing socket %s\n", pyrepr::tuple(s.local_address()).c_str());
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "localhost";
    int port = 10000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--host")) host = argv[i + 1];
        else if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
    }
    return gev::run([&] {
        try {
            talk(host, port);
            return 0;
        } catch (const gev::net::SocketError& e) {
            std::fflush(stdout);
            std::fprintf(stderr, "select_client: %s\n", e.what());
            return 1;
        }
    });
}
