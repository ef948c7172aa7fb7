// examples/tls_echo_server.cpp — the echo server over TLS: StreamServer with
// options.tls hands each connection to the handler after its handshake (done in the
// connection's own fiber, bounded by a handshake timeout); a failed handshake ends
// only that connection. It offers ALPN "gev-echo". SIGINT/SIGTERM stop it gracefully.
// Run: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
//        -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost
//      (one command line),
//      build/examples/tls_echo_server --port 8443 --cert cert.pem --key key.pem [--seconds S] [--quiet]
//      then build/examples/tls_client localhost 8443 --ca cert.pem, or
//      openssl s_client -connect localhost:8443 -CAfile cert.pem
#include "gev.hpp"

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

using gev::net::Address;
using gev::net::TlsSocket;

static bool quiet = false;

void handle(TlsSocket conn, Address peer) {
    if (!quiet) std::printf("%s: %s, %s\n", peer.to_string().c_str(), conn.version().c_str(), conn.cipher().c_str());
    std::array<char, 16384> buf;
    try {
        while (std::size_t n = conn.recv(buf)) conn.sendall(std::string_view(buf.data(), n));
        conn.shutdown();   // answer the client's close_notify with ours
    } catch (const gev::net::SocketError& e) {
        if (!quiet) std::printf("%s\n", e.what());   // a reset peer; the others are still served
    }
}

int main(int argc, char** argv) {
    int port = 8443;
    double seconds = 0;   // 0: serve until a signal
    std::string cert, key;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--port") && i + 1 < argc) port = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--cert") && i + 1 < argc) cert = argv[++i];
        else if (!std::strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else if (!std::strcmp(argv[i], "--quiet")) quiet = true;
        else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    }
    if (cert.empty() || key.empty()) {
        std::fprintf(stderr, "usage: tls_echo_server [--port P] --cert C --key K [--seconds S] [--quiet]\n");
        return 2;
    }
    gev::net::TlsContext ctx(gev::net::TlsRole::server);
    try {
        ctx.load_cert_chain(cert, key);
    } catch (const gev::net::TlsError& e) {
        std::fprintf(stderr, "tls_echo_server: %s\n", e.what());
        return 1;
    }
    ctx.set_alpn({"gev-echo"});
    return gev::run([&] {
        gev::net::StreamServer server(Address("0.0.0.0", static_cast<std::uint16_t>(port)), handle, {.tls = &ctx});
        auto stop = [&] { server.stop(); };
        auto on_int = gev::signal_handler(SIGINT, stop);
        auto on_term = gev::signal_handler(SIGTERM, stop);
        server.start();
        std::fprintf(stderr, "tls_echo_server: listening on %s (%s)\n", server.address().to_string().c_str(),
                     gev::poller_name());
        if (seconds > 0)
            gev::spawn_later(std::chrono::duration_cast<gev::Duration>(std::chrono::duration<double>(seconds)), stop);
        server.serve_forever();
        std::printf("handshake failures: %llu\n", static_cast<unsigned long long>(ctx.handshake_failures()));
    });
}
