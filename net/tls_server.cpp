// net/tls_server.cpp — StreamServer's TLS constructors: the TlsHandler is wrapped in a
// plain StreamHandler that shakes hands in the connection's own fiber, bounded by the
// context's handshake timeout; a failed handshake ends only that connection.
#include "net/server.hpp"
#include "runtime/timeout.hpp"

namespace gev::net {
namespace {

StreamHandler shake_first(TlsHandler handler, TlsContext* ctx) {
    if (ctx == nullptr) throw SocketError(EINVAL, "StreamServer: a TlsHandler needs options.tls");
    return [handler = std::move(handler), ctx](Socket sock, Address peer) {
        TlsSocket conn;
        try {
            conn = TlsSocket(std::move(sock), *ctx);
            Timeout limit(ctx->handshake_timeout());
            try {
                conn.handshake();
            } catch (const Timeout& fired) {
                if (!fired.is(limit)) throw;
                ctx->count_handshake_failure();
                return;
            }
        } catch (const SocketError&) {   // TlsError, a reset, a socket timeout: this peer only
            ctx->count_handshake_failure();
            return;
        }
        handler(std::move(conn), peer);
    };
}

ServerOptions plain(ServerOptions o) {
    o.tls = nullptr;
    return o;
}

}  // namespace

StreamServer::StreamServer(Address at, TlsHandler handler, ServerOptions options)
    : StreamServer(at, shake_first(std::move(handler), options.tls), plain(options)) {}

StreamServer::StreamServer(Socket listener, TlsHandler handler, ServerOptions options)
    : StreamServer(std::move(listener), shake_first(std::move(handler), options.tls), plain(options)) {}

}  // namespace gev::net
