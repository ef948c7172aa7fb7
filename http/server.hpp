// http/server.hpp — gev::http::Server, Go's net/http Server shape on gevent's
// StreamServer: one fiber per connection runs a plain loop (read a request, call the
// handler, finish the response, decide keep-alive), with the limits and timeouts as
// fields of Options. Every net::ServerOptions choice (several hubs, a Pool, a
// connection limit) works unchanged. Counters are atomics, readable from any thread.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"
#include "net/server.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace gev::http {

using Handler = std::function<void(Request&, Response&)>;

// What the access-log hook is told after each answered request.
struct AccessRecord {
    const Request& request;
    int status;
    std::uint64_t body_bytes;   // response body bytes sent
};

struct Options {
    std::size_t max_header_bytes = 16 * 1024;   // request line + headers: 431 (414 in the target)
    std::size_t max_headers = 100;              // header lines: 431
    std::uint64_t max_body_bytes = 8 << 20;     // a request body: 413
    std::uint64_t max_drain_bytes = 256 << 10;  // unread body read away for keep-alive, else close
    // From a request's first byte to the end of its headers (slowloris): 408 and close.
    MaybeDuration header_timeout = std::chrono::seconds(10);
    // A keep-alive connection waiting for its next request: closed quietly. Also the
    // longest a body read or a send may stall (then the connection is closed).
    MaybeDuration idle_timeout = std::chrono::seconds(60);
    // The handler with its body reads and response writes: 503 if nothing was sent
    // yet, else the connection is closed.
    MaybeDuration request_timeout = forever;
    // hubs, pool, connection limit, backlog; net.tls = &ctx serves HTTPS (handshake in
    // each connection's fiber within ctx's handshake timeout; give ctx ALPN "http/1.1").
    net::ServerOptions net{};
    std::function<void(const AccessRecord&)> access_log{};   // runs on the connection's fiber
};

// A snapshot of a server's counters.
struct Stats {
    std::uint64_t requests = 0;          // handler calls
    std::uint64_t bytes_in = 0;          // bytes received
    std::uint64_t bytes_out = 0;         // bytes sent
    std::uint64_t connections = 0;       // accepted in all
    std::uint64_t open_connections = 0;  // open now
    std::uint64_t bad_requests = 0;      // 400, 501, 505 and other malformed input
    std::uint64_t too_large = 0;         // 413, 414, 431
    std::uint64_t timeouts = 0;          // 408, request timeouts, idle closes
    std::uint64_t handler_errors = 0;    // a handler threw (500 or a cut response)
    std::uint64_t resets = 0;            // the peer went away mid-request or mid-response
};

class Server {
public:
    // Binds at start(); port 0 picks a free port (see address()).
    Server(net::Address at, Handler handler, Options options = {});
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();

    // Binds, listens and starts accepting; returns at once. Throws net::SocketError.
    void start();
    // start() if needed, then parks until stop() or close().
    void serve_forever();
    // Stops accepting, closes idle keep-alive connections at once, lets requests in
    // flight finish (their connections then close) within `timeout`, then kills the rest.
    void stop(MaybeDuration timeout = std::chrono::seconds(1));
    // Stops accepting; connections go on.
    void close();

    net::Address address() const;
    Stats stats() const noexcept;
    const Options& options() const noexcept;

    struct State;

private:
    std::shared_ptr<State> st_;
    std::unique_ptr<net::StreamServer> net_;
};

// Serves one connected socket until it closes, as each of a Server's connection fibers
// does (for a custom accept loop, or a socket from elsewhere). Parks; rethrows what the
// handler threw after answering 500.
void serve_connection(net::Socket sock, net::Address peer, Handler handler, Options options = {});

}  // namespace gev::http
