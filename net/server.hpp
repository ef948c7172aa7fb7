// net/server.hpp — gevent's StreamServer: accept in one fiber, handle each connection
// in a fiber of its own. Accept errors never kill the server: EMFILE/ENFILE back off
// (10 ms doubling to 1 s) and recover once fds free up; ECONNABORTED and friends are
// skipped; a burst of accepts yields to the handlers every `accepts_per_turn`; an
// optional connection limit parks the acceptor (back-pressure) until a handler ends.
#pragma once

#include "net/socket.hpp"
#include "net/tls.hpp"
#include "runtime/clock.hpp"
#include "runtime/greenlet.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

namespace gev {
class Group;
}

namespace gev::net {

using StreamHandler = std::function<void(Socket, Address)>;
// A TLS server's handler gets the connection after a successful handshake.
using TlsHandler = std::function<void(TlsSocket, Address)>;

struct ServerOptions {
    int backlog = 1024;
    std::optional<std::size_t> max_connections{}; // back-pressure: handlers alive at once
    std::size_t accepts_per_turn = 64;            // then let the handlers run
    bool reuse_port = false;                      // SO_REUSEPORT on the listener
    // TCP_NODELAY on each accepted TCP connection (as Go does): a reply written in
    // several sends must not wait for the peer's delayed ACK.
    bool nodelay = true;
    // Serve on this many of gev::run's hubs (0: all). By default each of them gets its
    // own SO_REUSEPORT listener and accept loop; with `handoff`, this hub accepts and
    // hands the connections to the hubs in turn.
    unsigned threads = 1;
    bool handoff = false;
    // gevent's spawn=pool: handlers are spawned into this Group or Pool (which must
    // outlive the server), on the accepting hub; while a Pool is full the acceptor
    // stops accepting until one of its members ends.
    Group* pool = nullptr;
    // TLS (with a TlsHandler): each connection's fiber shakes hands first, within the
    // context's handshake_timeout(); a failed handshake closes that connection quietly
    // and counts in the context's handshake_failures(). The context outlives the server.
    TlsContext* tls = nullptr;
};

class StreamServer {
public:
    // Binds and listens at start(); port 0 picks a free port (see address()).
    StreamServer(Address at, StreamHandler handler, ServerOptions options = {});
    // Serves on a socket that is already listening.
    StreamServer(Socket listener, StreamHandler handler, ServerOptions options = {});
    // TLS servers: options.tls is required (SocketError EINVAL without it).
    StreamServer(Address at, TlsHandler handler, ServerOptions options);
    StreamServer(Socket listener, TlsHandler handler, ServerOptions options);
    StreamServer(const StreamServer&) = delete;
    StreamServer& operator=(const StreamServer&) = delete;
    // Stops accepting and kills what is still running (stop(0)).
    ~StreamServer();

    // Binds, listens and spawns the accept loop; returns at once. Throws SocketError.
    void start();
    // start() if needed, then parks until stop() or close().
    void serve_forever();
    // Stops accepting, waits up to `timeout` for the handlers, then kills the rest.
    void stop(MaybeDuration timeout = std::chrono::seconds(1));
    // Stops accepting now; running handlers go on.
    void close();

    bool started() const noexcept;
    bool closed() const noexcept;
    // The bound address (the real port when 0 was asked for).
    Address address() const;
    // Handlers running now.
    std::size_t connections() const noexcept;

    struct State;

private:
    void start_children();
    std::shared_ptr<State> st_;
};

}  // namespace gev::net
