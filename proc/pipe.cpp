// proc/pipe.cpp — reads go through the poller as IoKind::read (io_uring may hand them
// to the kernel). Writes are always made here, on the hub's thread, with SIGPIPE
// blocked for the one call: a pipe has no MSG_NOSIGNAL, and a write the kernel ran
// elsewhere could raise SIGPIPE where no mask covers it. On EAGAIN they wait for
// POLLOUT through the poller and retry (gevent's try, wait, retry).
#include "proc/pipe.hpp"

#include "runtime/hub.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace gev::subprocess {
namespace {

using detail::IoKind;
using detail::IoOp;

// A pipe's waits have no deadline: one that ends early was closed by another fiber.
int result_of(detail::IoResult r) noexcept { return r.ready() ? r.res : -ECANCELED; }

[[noreturn, gnu::cold]] void throw_pipe_error(int r, const char* op, int fd) {
    std::string what = std::string(op) + " fd " + std::to_string(fd);
    if (r == -ECANCELED) throw std::system_error(EBADF, std::generic_category(), what + ": closed by another fiber");
    throw std::system_error(-r, std::generic_category(), what);
}

// write(2) that reports a gone reader as -EPIPE without a SIGPIPE: the signal is
// blocked in this thread for the call, and one this call caused is taken back.
int write_quietly(int fd, const void* p, std::size_t n) noexcept {
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    ssize_t r = ::write(fd, p, n);
    int err = errno;
    if (r < 0 && err == EPIPE && !was_pending) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return r < 0 ? -err : static_cast<int>(r);
}

}  // namespace

Pipe Pipe::adopt(int fd) {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        throw std::system_error(errno, std::generic_category(), "adopt pipe fd " + std::to_string(fd));
    return Pipe(fd);
}

Pipe& Pipe::operator=(Pipe&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

std::size_t Pipe::read(std::span<std::byte> buf) {
    detail::Hub& hub = detail::Hub::require("gev::subprocess::Pipe::read");
    IoOp op;
    op.kind = IoKind::read;
    op.fd = fd_;
    op.buf = buf.data();
    op.len = buf.size();
    int r = fd_ < 0 ? -EBADF : result_of(hub.poller().io(op, -1));
    if (r < 0) throw_pipe_error(r, "read", fd_);
    return static_cast<std::size_t>(r);
}

std::string Pipe::read(std::size_t max) {
    std::string s(max, '\0');
    s.resize(read(std::as_writable_bytes(std::span(s))));
    return s;
}

std::string Pipe::read_all() {
    std::string all;
    std::string chunk(64 * 1024, '\0');
    while (std::size_t n = read(std::as_writable_bytes(std::span(chunk)))) all.append(chunk, 0, n);
    return all;
}

std::size_t Pipe::write(std::span<const std::byte> buf) {
    detail::Hub& hub = detail::Hub::require("gev::subprocess::Pipe::write");
    for (;;) {
        int r = fd_ < 0 ? -EBADF : write_quietly(fd_, buf.data(), buf.size());
        if (r >= 0) return static_cast<std::size_t>(r);
        if (r != -EAGAIN && r != -EINTR) throw_pipe_error(r, "write", fd_);
        if (r == -EINTR) continue;
        IoOp op;
        op.kind = IoKind::poll;
        op.fd = fd_;
        op.flags = POLLOUT;
        r = result_of(hub.poller().io(op, -1));
        if (r < 0) throw_pipe_error(r, "write", fd_);
    }
}

void Pipe::write_all(std::string_view s) {
    while (!s.empty()) s.remove_prefix(write(s));
}

void Pipe::close() noexcept {
    if (fd_ < 0) return;
    detail::forget_fd(fd_);
    ::close(fd_);
    fd_ = -1;
}

}  // namespace gev::subprocess
