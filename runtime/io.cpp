// runtime/io.cpp — non-blocking attempts for each IoKind, and the fd table.
#include "runtime/io.hpp"

#include "runtime/errors.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace gev::detail {

short io_events(const IoOp& op) noexcept {
    if (op.kind == IoKind::poll) return static_cast<short>(op.flags);
    return op.dir() == 0 ? POLLIN : POLLOUT;
}

namespace {
int ret(long r) noexcept { return r >= 0 ? static_cast<int>(r) : -errno; }

int try_connect(IoOp& op) noexcept {
    if (!op.connect_started) {
        op.connect_started = true;
        if (::connect(op.fd, op.addr, op.addr_in_len) == 0) return 0;
        return errno == EINPROGRESS ? -EAGAIN : -errno;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
    if (err == 0) {
        // Writable and no error may still mean "not yet": ask the socket for its peer.
        sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        if (::getpeername(op.fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0)
            return errno == ENOTCONN ? -EAGAIN : -errno;
        return 0;
    }
    return -err;
}

// The file kinds' system calls, which may block: the thread pool runs them.
int file_call(IoOp& op) noexcept {
    auto off = static_cast<off_t>(op.offset);
    bool at_pos = op.offset == kCurrentPosition;
    switch (op.kind) {
        case IoKind::pread: return ret(at_pos ? ::read(op.fd, op.buf, op.len) : ::pread(op.fd, op.buf, op.len, off));
        case IoKind::pwrite:
            return ret(at_pos ? ::write(op.fd, op.buf, op.len) : ::pwrite(op.fd, op.buf, op.len, off));
        case IoKind::fsync: return ret(op.flags == 1 ? ::fdatasync(op.fd) : ::fsync(op.fd));
        case IoKind::openat: return ret(::openat(op.fd, op.path, op.flags, op.mode));
        case IoKind::statx:
            return ret(::statx(op.fd, op.path, op.flags, static_cast<unsigned>(op.len),
                               static_cast<struct statx*>(op.buf)));
        default: return -EINVAL;
    }
}
}  // namespace

int io_try(IoOp& op) noexcept {
    switch (op.kind) {
        case IoKind::recv: return ret(::recv(op.fd, op.buf, op.len, op.flags | MSG_DONTWAIT));
        case IoKind::send: return ret(::send(op.fd, op.buf, op.len, op.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
        case IoKind::recvmsg: return ret(::recvmsg(op.fd, op.msg, op.flags | MSG_DONTWAIT));
        case IoKind::sendmsg: return ret(::sendmsg(op.fd, op.msg, op.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
        case IoKind::accept: return ret(::accept4(op.fd, op.addr, op.addrlen, op.flags));
        case IoKind::connect: return try_connect(op);
        case IoKind::read: return ret(::read(op.fd, op.buf, op.len));
        case IoKind::write: return ret(::write(op.fd, op.buf, op.len));
        case IoKind::poll: {
            pollfd p{op.fd, static_cast<short>(op.flags), 0};
            int n = ::poll(&p, 1, 0);
            if (n < 0) return -errno;
            return n == 0 ? -EAGAIN : p.revents;
        }
        case IoKind::pread: case IoKind::pwrite: case IoKind::fsync: case IoKind::openat: case IoKind::statx:
            return file_call(op);
    }
    return -EINVAL;
}

FdState& FdTable::make(int fd) {
    // A wait on a closed handle's fd (-1) is a bug in gev's own IO layer, never the user's.
    if (fd < 0) die("a wait on fd " + std::to_string(fd) + " (a closed or detached handle)");
    if (static_cast<std::size_t>(fd) >= v_.size()) v_.resize(static_cast<std::size_t>(fd) + 1 + fd / 2);
    if (!v_[fd]) v_[fd] = std::make_unique<FdState>();
    return *v_[fd];
}

void side_taken(const IoOp& op, int d) {
    throw ConcurrentObjectUseError("gev: two fibers wait to " + std::string(d == 0 ? "read" : "write") +
                                   " fd " + std::to_string(op.fd));
}

}  // namespace gev::detail
