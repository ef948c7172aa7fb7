// examples/tls_client.cpp — a TLS client: connects, verifies the server's certificate
// and host name (against --ca, else the system's trust store), prints the version,
// cipher and ALPN protocol, then sends each stdin line and prints the line that comes
// back. One Reader reads lines from stdin and another from the TLS connection.
// Run: build/examples/tls_echo_server --cert cert.pem --key key.pem &
//      printf 'hi\n' | build/examples/tls_client localhost 8443 --ca cert.pem
#include "gev.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

namespace {

// fd 0 as a stream for gev::net::Reader: parks this fiber until input is there.
struct Stdin {
    std::size_t recv(std::span<char> buf) {
        try {
            gev::net::wait_read(0);
        } catch (const gev::net::SocketError&) {   // a regular file cannot be polled: it is always ready
        }
        ssize_t n = ::read(0, buf.data(), buf.size());
        if (n < 0) throw gev::net::SocketError(errno, "read stdin");
        return static_cast<std::size_t>(n);
    }
    int fileno() const { return 0; }
};

std::string chomp(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: tls_client HOST PORT [--ca FILE]\n");
        return 2;
    }
    std::string host = argv[1], ca;
    auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    for (int i = 3; i < argc; ++i)
        if (!std::strcmp(argv[i], "--ca") && i + 1 < argc) ca = argv[++i];
    return gev::run([&] {
        try {
            gev::net::TlsContext ctx(gev::net::TlsRole::client);
            if (!ca.empty()) ctx.load_verify_locations(ca);
            ctx.set_alpn({"gev-echo", "http/1.1"});
            gev::net::TlsSocket conn = gev::net::tls_connect(host, port, ctx, std::chrono::seconds(10));
            std::string alpn = conn.alpn_selected();
            std::printf("connected to %s:%u\nversion %s\ncipher %s\nalpn %s\nsubject %s\n", host.c_str(), port,
                        conn.version().c_str(), conn.cipher().c_str(), alpn.empty() ? "(none)" : alpn.c_str(),
                        conn.peer_subject().c_str());
            std::fflush(stdout);
            Stdin in;
            gev::net::Reader lines(in), replies(conn);
            for (std::string line = lines.readline(); !line.empty(); line = lines.readline()) {
                if (line.back() != '\n') line += '\n';
                conn.sendall(line);
                std::string reply = replies.readline();
                if (reply.empty()) break;   // the server ended the stream
                std::printf("received: %s\n", chomp(reply).c_str());
                std::fflush(stdout);
            }
            conn.shutdown();
            return 0;
        } catch (const gev::net::SocketError& e) {
            std::fprintf(stderr, "tls_client: %s\n", e.what());
            return 1;
        }
    });
}
