// examples/echo_client.cpp — the seed's interactive echo client (S1-7): prompt `>>:`,
// send each stdin line, print `Received b'<reply>'` (Python's repr of the bytes).
// Reading stdin parks only this fiber: wait_read(0) until a line is typed or piped in,
// then one read(), which cannot block once fd 0 is readable. Unlike the seed it ends
// cleanly at end of input, and an empty line sends nothing (the seed then hung in recv).
// Run: build/examples/echo_server &  build/examples/echo_client [--host H] [--port 8001]
//      or: printf 'hi\nhello world\n' | build/examples/echo_client
#include "gev.hpp"
#include "pyrepr.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

// Lines from fd 0 (a tty, a pipe or a file), like Python's input(): without the '\n';
// the last line may lack one; empty at end of input.
class StdinLines {
public:
    std::optional<std::string> next() {
        for (;;) {
            if (std::size_t nl = pending_.find('\n'); nl != pending_.npos) {
                std::string line = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                return line;
            }
            if (eof_) {
                if (pending_.empty()) return std::nullopt;
                return std::exchange(pending_, {});
            }
            fill();
        }
    }

private:
    void fill() {
        gev::net::wait_read(0);   // parks this fiber only; the hub keeps running
        char buf[512];
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n < 0) throw gev::net::SocketError(errno, "read stdin");
        if (n == 0) eof_ = true;
        pending_.append(buf, static_cast<std::size_t>(n > 0 ? n : 0));
    }

    std::string pending_;
    bool eof_ = false;
};

// The seed's loop. The reply is read back in full (as many bytes as were sent), since
// TCP may deliver it in pieces where the seed's single recv(1024) would print half.
int chat(gev::net::Socket& s) {
    StdinLines input;
    for (;;) {
        std::fputs(">>:", stdout);
        std::fflush(stdout);
        std::optional<std::string> msg = input.next();
        if (!msg) break;
        if (msg->empty()) continue;   // nothing sent, so nothing to wait for
        s.sendall(*msg);
        try {
            std::printf("Received %s\n", pyrepr::bytes(s.recv_exactly(msg->size())).c_str());
        } catch (const gev::net::IncompleteRead& e) {
            std::printf("Received %s\n", pyrepr::bytes(e.partial()).c_str());
            std::fprintf(stderr, "echo_client: the server closed the connection\n");
            return 1;
        }
    }
    std::putchar('\n');   // end the prompt line at end of input
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 8001;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--host")) host = argv[i + 1];
        else if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
    }
    return gev::run([&] {
        try {
            gev::net::Socket s = gev::net::create_connection(host, static_cast<std::uint16_t>(port));
            return chat(s);
        } catch (const gev::net::SocketError& e) {   // refused, reset, unknown host
            std::fflush(stdout);
            std::fprintf(stderr, "echo_client: %s\n", e.what());
            return 1;
        }
    });
}
