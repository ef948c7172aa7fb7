// net/socket.cpp — every call has gevent's shape: try the system call, and on EAGAIN
// park in the poller (runtime/poller.hpp), then retry; the io_uring backend may
// instead hand the operation to the kernel.
#include "net/socket.hpp"

#include "runtime/hub.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace gev::net {
namespace {

using detail::IoKind;
using detail::IoOp;

// Throws what a failed operation (r = -errno) means: "recv fd 7: timed out".
[[noreturn, gnu::cold, gnu::noinline]] void throw_io_error(int r, std::string_view what, int fd, const Address* peer) {
    std::string op_name(what);
    op_name += peer != nullptr ? " " : " fd ";
    op_name += peer != nullptr ? peer->to_string() : std::to_string(fd);
    if (r == -ETIMEDOUT) throw SocketTimeout(op_name + ": timed out");
    if (r == -ECANCELED) throw SocketError(EBADF, op_name + ": the socket was closed by another fiber");
    throw SocketError(-r, op_name);
}

// Runs op through the hub's poller until `deadline` (ns on the hub's clock, <0: none);
// throws on failure.
int perform_until(detail::Hub& hub, IoOp& op, std::int64_t deadline, const std::string_view what,
                  const Address* peer = nullptr) {
    detail::IoResult r = hub.poller().io(op, deadline);
    if (!r.ready()) throw_io_error(r.outcome == detail::WaitOutcome::timed_out ? -ETIMEDOUT : -ECANCELED, what, op.fd, peer);
    if (r.res < 0) throw_io_error(r.res, what, op.fd, peer);
    return r.res;
}

// The same with the socket's timeout, counted from now.
int perform(IoOp& op, MaybeDuration timeout, const std::string_view what, const Address* peer = nullptr) {
    detail::Hub& hub = detail::Hub::require("gev::net::Socket");
    return perform_until(hub, op, timeout ? hub.deadline_after(*timeout) : -1, what, peer);
}

IoOp send_op(int fd, std::span<const std::byte> buf, int flags) noexcept {
    IoOp op;
    op.kind = IoKind::send;
    op.fd = fd;
    op.buf = const_cast<std::byte*>(buf.data());
    op.len = buf.size();
    op.flags = flags;
    return op;
}

}  // namespace

Socket::Socket(int family, int type, int protocol) {
    fd_ = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd_ < 0) throw SocketError(errno, "socket");
}

Socket Socket::adopt(int fd) {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw SocketError(errno, "adopt fd " + std::to_string(fd));
    return Socket(fd, true);
}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        timeout_ = o.timeout_;
    }
    return *this;
}

std::string Socket::what(const char* op) const { return std::string(op) + " fd " + std::to_string(fd_); }

void Socket::connect(const Address& to) {
    IoOp op;
    op.kind = IoKind::connect;
    op.fd = fd_;
    op.addr = const_cast<sockaddr*>(to.data());
    op.addr_in_len = to.size();
    perform(op, timeout_, "connect", &to);
}

void Socket::bind(const Address& at) {
    if (::bind(fd_, at.data(), at.size()) != 0) throw SocketError(errno, "bind " + at.to_string());
}

void Socket::listen(int backlog) {
    if (::listen(fd_, backlog) != 0) throw SocketError(errno, what("listen"));
}

std::pair<Socket, Address> Socket::accept() { return accept(false); }

std::pair<Socket, Address> accept_queued(Socket& listener) { return listener.accept(true); }

std::pair<Socket, Address> Socket::accept(bool queued) {
    Address peer;
    *peer.size_ptr() = Address::capacity();
    IoOp op;
    op.kind = IoKind::accept;
    op.fd = fd_;
    op.addr = peer.data();
    op.addrlen = peer.size_ptr();
    op.flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    op.multishot = queued;
    int fd = perform(op, timeout_, "accept");
    return {Socket(fd, true), peer};
}

std::size_t Socket::recv(std::span<std::byte> buf, int flags) {
    IoOp op;
    op.kind = IoKind::recv;
    op.fd = fd_;
    op.buf = buf.data();
    op.len = buf.size();
    op.flags = flags;
    return static_cast<std::size_t>(perform(op, timeout_, "recv"));
}

std::string Socket::recv(std::size_t max) {
    std::string s(max, '\0');
    s.resize(recv(std::span<char>(s)));
    return s;
}

std::string Socket::recv_exactly(std::size_t n) {
    return stream_detail::recv_exactly(*this, n, [&] { return what("recv_exactly"); });
}

std::size_t Socket::send(std::span<const std::byte> buf, int flags) {
    IoOp op = send_op(fd_, buf, flags);
    return static_cast<std::size_t>(perform(op, timeout_, "send"));
}

void Socket::sendall(std::span<const std::byte> buf, int flags) {
    if (buf.empty()) return;
    detail::Hub& hub = detail::Hub::require("gev::net::Socket");
    // The timeout bounds the whole call, as CPython's and gevent's sendall do: a peer
    // that keeps taking a little at a time must not hold the sender for ever. Like
    // gevent, the deadline is also checked between sends that did not have to wait.
    std::int64_t deadline = timeout_ ? hub.deadline_after(*timeout_) : -1;
    for (bool first = true; !buf.empty(); first = false) {
        if (!first && deadline >= 0 && detail::clock_ns() >= deadline)
            throw SocketTimeout(what("sendall") + ": timed out");
        IoOp op = send_op(fd_, buf, flags);
        buf = buf.subspan(static_cast<std::size_t>(perform_until(hub, op, deadline, "sendall")));
    }
}

std::pair<std::size_t, Address> Socket::recvfrom(std::span<std::byte> buf, int flags) {
    Address from;
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = from.data();
    msg.msg_namelen = Address::capacity();
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    IoOp op;
    op.kind = IoKind::recvmsg;
    op.fd = fd_;
    op.msg = &msg;
    op.flags = flags;
    auto n = static_cast<std::size_t>(perform(op, timeout_, "recvfrom"));
    *from.size_ptr() = msg.msg_namelen;
    return {n, from};
}

std::size_t Socket::sendto(std::span<const std::byte> buf, const Address& to, int flags) {
    iovec iov{const_cast<std::byte*>(buf.data()), buf.size()};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr*>(to.data());
    msg.msg_namelen = to.size();
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    IoOp op;
    op.kind = IoKind::sendmsg;
    op.fd = fd_;
    op.msg = &msg;
    op.flags = flags;
    return static_cast<std::size_t>(perform(op, timeout_, "sendto", &to));
}

void Socket::shutdown(int how) {
    if (::shutdown(fd_, how) != 0) throw SocketError(errno, what("shutdown"));
}

void Socket::close() noexcept {
    if (fd_ < 0) return;
    detail::forget_fd(fd_);
    ::close(fd_);
    fd_ = -1;
}

int Socket::detach() noexcept {
    if (fd_ >= 0) detail::forget_fd(fd_);
    return std::exchange(fd_, -1);
}

void Socket::set_nodelay(bool on) { setsockopt<int>(IPPROTO_TCP, TCP_NODELAY, on); }

void Socket::set_option(int level, int name, const void* v, socklen_t len) {
    if (::setsockopt(fd_, level, name, v, len) != 0) throw SocketError(errno, what("setsockopt"));
}

void Socket::get_option(int level, int name, void* v, socklen_t len) const {
    if (::getsockopt(fd_, level, name, v, &len) != 0) throw SocketError(errno, what("getsockopt"));
}

Address Socket::local_address() const {
    Address a;
    *a.size_ptr() = Address::capacity();
    if (::getsockname(fd_, a.data(), a.size_ptr()) != 0) throw SocketError(errno, what("getsockname"));
    return a;
}

Address Socket::peer_address() const {
    Address a;
    *a.size_ptr() = Address::capacity();
    if (::getpeername(fd_, a.data(), a.size_ptr()) != 0) throw SocketError(errno, what("getpeername"));
    return a;
}

Socket create_connection(const Address& to, MaybeDuration timeout) {
    Socket s(to.family(), SOCK_STREAM);
    s.set_timeout(timeout);
    s.connect(to);
    return s;
}

Socket create_connection(std::string_view host, std::uint16_t port, MaybeDuration timeout) {
    std::vector<Address> candidates = resolve(host, port);
    std::exception_ptr last;
    for (const Address& a : candidates) {
        try {
            return create_connection(a, timeout);
        } catch (const SocketError&) {
            last = std::current_exception();
        }
    }
    std::rethrow_exception(last);
}

namespace {
void wait_fd(int fd, short events, MaybeDuration timeout, const char* what) {
    IoOp op;
    op.kind = IoKind::poll;
    op.fd = fd;
    op.flags = events;
    op.use = detail::FdUse::watch;
    perform(op, timeout, what);
}
}  // namespace

void wait_read(int fd, MaybeDuration timeout) { wait_fd(fd, POLLIN, timeout, "wait_read"); }
void wait_write(int fd, MaybeDuration timeout) { wait_fd(fd, POLLOUT, timeout, "wait_write"); }

}  // namespace gev::net
