// net/socket.hpp — gev::net::Socket: a move-only socket whose blocking-looking calls
// park only the calling fiber (the fd itself is always non-blocking). TCP over IPv4
// and IPv6, UDP, Unix stream and datagram. Errors throw SocketError naming the
// operation; end of stream is not an error (recv returns 0). A per-socket timeout
// turns a long wait into SocketTimeout (ETIMEDOUT); gev::Timeout scopes work too.
// A socket belongs to the hub of the thread that uses it.
#pragma once

#include "net/address.hpp"
#include "net/errors.hpp"
#include "runtime/clock.hpp"

#include <sys/socket.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace gev::net {

class Socket {
public:
    Socket() noexcept = default;
    // socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC added. Throws SocketError.
    explicit Socket(int family, int type = SOCK_STREAM, int protocol = 0);
    // Takes ownership of fd (made non-blocking).
    static Socket adopt(int fd);
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), timeout_(o.timeout_) {}
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { close(); }

    int fileno() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    // Parks until connected; throws SocketError ("connect 127.0.0.1:1: Connection refused").
    void connect(const Address& to);
    void bind(const Address& at);
    void listen(int backlog = 128);
    // Parks until a connection arrives; the new socket is non-blocking and close-on-exec.
    std::pair<Socket, Address> accept();

    // Parks until some bytes arrive; returns how many, 0 at end of stream.
    std::size_t recv(std::span<std::byte> buf, int flags = 0);
    std::size_t recv(std::span<char> buf, int flags = 0) { return recv(std::as_writable_bytes(buf), flags); }
    std::size_t recv_into(std::span<std::byte> buf, int flags = 0) { return recv(buf, flags); }
    // Up to max bytes as a string ("" at end of stream).
    std::string recv(std::size_t max);
    // Exactly n bytes; throws IncompleteRead if the stream ends first.
    std::string recv_exactly(std::size_t n);
    // Sends some of buf (parks until at least one byte fits); returns how many.
    std::size_t send(std::span<const std::byte> buf, int flags = 0);
    std::size_t send(std::string_view s, int flags = 0) { return send(std::as_bytes(std::span(s)), flags); }
    // Sends all of buf, parking as often as needed; the socket's timeout bounds the
    // whole call (SocketTimeout once it has passed; how much was sent is unknown).
    void sendall(std::span<const std::byte> buf, int flags = 0);
    void sendall(std::string_view s, int flags = 0) { sendall(std::as_bytes(std::span(s)), flags); }
    // Datagrams.
    std::pair<std::size_t, Address> recvfrom(std::span<std::byte> buf, int flags = 0);
    std::size_t sendto(std::span<const std::byte> buf, const Address& to, int flags = 0);
    std::size_t sendto(std::string_view s, const Address& to, int flags = 0) {
        return sendto(std::as_bytes(std::span(s)), to, flags);
    }

    // SHUT_RD, SHUT_WR or SHUT_RDWR.
    void shutdown(int how);
    // Closes now; a fiber waiting on this socket wakes with SocketError (EBADF,
    // "closed by another fiber"). Idempotent.
    void close() noexcept;
    // Gives the fd up without closing it.
    int detach() noexcept;

    // Each later call that waits longer than `t` throws SocketTimeout (sendall: the whole
    // call; recv_exactly: each recv in it); forever: no limit.
    void set_timeout(MaybeDuration t) noexcept { timeout_ = t; }
    MaybeDuration timeout() const noexcept { return timeout_; }

    template <class T>
    void setsockopt(int level, int name, const T& value) {
        set_option(level, name, &value, sizeof value);
    }
    template <class T>
    T getsockopt(int level, int name) const {
        T value{};
        get_option(level, name, &value, sizeof value);
        return value;
    }
    void set_reuse_address(bool on = true) { setsockopt<int>(SOL_SOCKET, SO_REUSEADDR, on); }
    void set_reuse_port(bool on = true) { setsockopt<int>(SOL_SOCKET, SO_REUSEPORT, on); }
    void set_nodelay(bool on = true);

    Address local_address() const;
    Address peer_address() const;

private:
    // StreamServer's accept (net/server.cpp), found by argument-dependent lookup: like
    // accept(), but on io_uring it may take connections that a multishot accept queued
    // on the listener while no fiber waited (runtime/poller_uring_accept.hpp). Only for
    // an accept loop that takes every connection: a queued one is served by no one else.
    friend std::pair<Socket, Address> accept_queued(Socket& listener);
    std::pair<Socket, Address> accept(bool queued);
    explicit Socket(int fd, bool) noexcept : fd_(fd) {}
    void set_option(int level, int name, const void* v, socklen_t len);
    void get_option(int level, int name, void* v, socklen_t len) const;
    std::string what(const char* op) const;

    int fd_ = -1;
    MaybeDuration timeout_;
};

// Connects to the first address of host that accepts, like Python's
// socket.create_connection; `timeout` bounds each attempt and becomes the socket's timeout.
Socket create_connection(std::string_view host, std::uint16_t port, MaybeDuration timeout = forever);
Socket create_connection(const Address& to, MaybeDuration timeout = forever);

// gevent.socket.wait_read / wait_write for a raw fd: parks until it is readable
// (writable); throws SocketTimeout past the timeout.
void wait_read(int fd, MaybeDuration timeout = forever);
void wait_write(int fd, MaybeDuration timeout = forever);

}  // namespace gev::net
