// monkey/hooks_fd.cpp — the calls that make, connect, copy and close fds: socket,
// socketpair, pipe, pipe2, accept, accept4, connect, close, dup, dup2, dup3. The
// makers record what the caller asked for (always, patched or not: it costs no system
// call); accept and connect wait like the IO calls; close wakes a fiber of this hub
// that waits on the fd (it returns EBADF) before the number can be reused.
#include "monkey/emulate.hpp"
#include "monkey/original.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

constexpr int kTypeMask = 0xf;   // SOCK_STREAM, SOCK_DGRAM, ... without SOCK_NONBLOCK/CLOEXEC

// Wakes this hub's fibers that wait on fd (the poller's forget), unless the caller is
// the hub switching away (inside the poller itself). Off any hub (a plain thread), the
// hub that held fd is still told, so its number's generation moves on.
void forget_here(int fd) noexcept {
    md::Hub* hub = gev::detail::t_hub;
    gev::detail::Fiber* f = gev::detail::t_current;
    if (hub == nullptr) gev::detail::forget_fd(fd);
    else if (f == nullptr || f->state == gev::detail::FiberState::running) hub->poller().forget(fd);
}

// The fd number now names a new file: whatever was known about it is gone.
void replaced(int fd) noexcept {
    md::fd_closed(fd);
    forget_here(fd);
}

int accept_common(int fd, sockaddr* addr, socklen_t* len, int flags) {
    md::Hub* hub = md::cooperative(Patch::socket);
    md::FdView v = md::fd_prepare(fd, hub != nullptr);
    int r;
    if (!v.emulate) r = orig::accept4(fd, addr, len, flags);
    else r = static_cast<int>(md::emulate(hub, fd, v, false, 0, false,
                                           [&](std::size_t) { return orig::accept4(fd, addr, len, flags); }));
    if (r >= 0) {
        md::FdDesc* l = md::fd_desc(fd);
        bool stream = l == nullptr || (l->bits.load(std::memory_order_relaxed) & md::kStream) != 0 ||
                      md::kind_of(l->bits.load(std::memory_order_relaxed)) != md::FdKind::pollable;
        md::fd_created(r, md::FdKind::pollable, (flags & SOCK_NONBLOCK) != 0, stream);
    }
    return r;
}

// A blocking connect() on AF_UNIX whose listener's backlog is full fails with EAGAIN
// on a non-blocking socket and cannot be waited for: retry every millisecond. As after
// wait_fd, a number that came to name another file meanwhile ends it with EBADF.
int connect_backlog(md::Hub* hub, int fd, const md::FdView& v, const md::FdWait& w, const sockaddr* addr,
                    socklen_t len) {
    for (;;) {
        if (w.deadline >= 0 && gev::detail::clock_ns() >= w.deadline) {
            errno = EAGAIN;
            return -1;
        }
        if (hub != nullptr) {
            md::park_until(*hub, hub->deadline_after(std::chrono::milliseconds(1)));
        } else {
            timespec ms{0, 1'000'000};
            orig::nanosleep(&ms, nullptr);
        }
        if (md::wait_moved(v, w)) {
            errno = EBADF;
            return -1;
        }
        int r = orig::connect(fd, addr, len);
        if (r == 0 || errno != EAGAIN) return r;
    }
}

}  // namespace

extern "C" {

int socket(int domain, int type, int protocol) __THROW {
    int fd = orig::socket(domain, type, protocol);
    if (fd >= 0)
        md::fd_created(fd, md::FdKind::pollable, (type & SOCK_NONBLOCK) != 0, (type & kTypeMask) == SOCK_STREAM);
    return fd;
}

int socketpair(int domain, int type, int protocol, int sv[2]) __THROW {
    int r = orig::socketpair(domain, type, protocol, sv);
    if (r == 0)
        for (int i = 0; i < 2; ++i)
            md::fd_created(sv[i], md::FdKind::pollable, (type & SOCK_NONBLOCK) != 0,
                           (type & kTypeMask) == SOCK_STREAM);
    return r;
}

int pipe2(int fds[2], int flags) __THROW {
    int r = orig::pipe2(fds, flags);
    if (r == 0)
        for (int i = 0; i < 2; ++i)
            md::fd_created(fds[i], md::FdKind::pollable, (flags & O_NONBLOCK) != 0, !(flags & O_DIRECT));
    return r;
}

int pipe(int fds[2]) __THROW {
    int r = orig::pipe(fds);
    if (r == 0)
        for (int i = 0; i < 2; ++i) md::fd_created(fds[i], md::FdKind::pollable, false, true);
    return r;
}

int accept(int fd, sockaddr* addr, socklen_t* len) { return accept_common(fd, addr, len, 0); }

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) { return accept_common(fd, addr, len, flags); }

int connect(int fd, const sockaddr* addr, socklen_t len) {
    md::Hub* hub = md::cooperative(Patch::socket);
    md::FdView v = md::fd_prepare(fd, hub != nullptr);
    if (!v.emulate) return orig::connect(fd, addr, len);
    int saved = errno;
    if (orig::connect(fd, addr, len) == 0) return 0;
    if (errno != EINPROGRESS && !(errno == EAGAIN && addr != nullptr && addr->sa_family == AF_UNIX)) return -1;
    md::FdWait waits;
    if (!md::wait_begin(hub, fd, v, true, waits)) return -1;
    if (errno == EAGAIN) {
        if (connect_backlog(hub, fd, v, waits, addr, len) != 0) return -1;
        errno = saved;
        return 0;
    }
    int w = md::wait_fd(hub, fd, POLLOUT, v, waits);
    if (w != 0) {   // the kernel's blocking connect says EINPROGRESS when SO_SNDTIMEO ends it
        errno = w == ETIMEDOUT ? EINPROGRESS : w;
        return -1;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return -1;
    if (err != 0) {
        errno = err;
        return -1;
    }
    errno = saved;
    return 0;
}

int close(int fd) {
    replaced(fd);
    return orig::close(fd);
}

int dup(int fd) __THROW {
    int r = orig::dup(fd);
    if (r >= 0) md::fd_copied(fd, r);
    return r;
}

int dup2(int fd, int to) __THROW {
    int r = orig::dup2(fd, to);
    if (r >= 0 && fd != to) {
        replaced(to);
        md::fd_copied(fd, to);
    }
    return r;
}

int dup3(int fd, int to, int flags) __THROW {
    int r = orig::dup3(fd, to, flags);
    if (r >= 0) {
        replaced(to);
        md::fd_copied(fd, to);
    }
    return r;
}

}  // extern "C"
