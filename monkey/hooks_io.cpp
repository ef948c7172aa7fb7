// monkey/hooks_io.cpp — the data-moving calls: read, write, readv, writev, recv,
// recvfrom, recvmsg, send, sendto, sendmsg (and the _FORTIFY_SOURCE entry points that
// lead to them). Each one: the real call unless the fd is managed (fd_table.hpp);
// a managed fd loops "try, wait, retry" (emulate.hpp), parking only the fiber on a
// hub, blocking the thread elsewhere. MSG_DONTWAIT always means the real call. A
// regular file's read/write/readv/writev go to file_route.hpp when that is patched.
#include "monkey/emulate.hpp"
#include "monkey/file_route.hpp"
#include "monkey/iov.hpp"
#include "monkey/original.hpp"
#include "monkey/probe.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

extern "C" [[noreturn]] void __chk_fail(void);

namespace {

// The fd as a hooked call on it sees it: hub (nullptr: block the thread) and view.
struct Target {
    md::Hub* hub;
    md::FdView v;
};
Target target(int fd) noexcept {
    md::Hub* hub = md::cooperative(Patch::socket);
    return Target{hub, md::fd_prepare(fd, hub != nullptr)};
}
// For read/write/readv/writev, which also route regular files (file_route.hpp): a fd
// is classified on a fiber when either part is patched, managed only for sockets.
Target file_target(int fd) noexcept {
    md::Hub* hub = md::cooperative(Patch::socket);
    bool classify = hub != nullptr || md::cooperative(Patch::file) != nullptr;
    return Target{hub, md::fd_prepare(fd, classify, hub != nullptr)};
}

// A message-oriented call (recvmsg/sendmsg) resumed after a partial transfer: the
// iovecs move on, and ancillary data goes with the first part only.
template <class Call>
ssize_t msg_loop(const Target& t, int fd, msghdr* msg, bool out, bool whole, Call call) {
    if (!whole) return md::emulate(t.hub, fd, t.v, out, 0, false, [&](std::size_t) { return call(msg); });
    md::IovCursor iov(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    msghdr part = *msg;
    ssize_t r = md::emulate(t.hub, fd, t.v, out, md::iov_total(msg->msg_iov, static_cast<int>(msg->msg_iovlen)), true,
                            [&](std::size_t done) {
                                iov.seek(done);
                                part.msg_iov = iov.data();
                                part.msg_iovlen = static_cast<std::size_t>(iov.count());
                                if (done > 0) {
                                    part.msg_control = nullptr;
                                    part.msg_controllen = 0;
                                }
                                ssize_t n = call(&part);
                                if (n >= 0 && done == 0) {   // what the first part reported
                                    msg->msg_controllen = part.msg_controllen;
                                    msg->msg_namelen = part.msg_namelen;
                                }
                                msg->msg_flags = part.msg_flags;
                                return n;
                            });
    return r;
}

}  // namespace

extern "C" {

ssize_t read(int fd, void* buf, size_t n) {
    if (fd == md::kProbeFd) [[unlikely]] {
        md::probe_hit(1);
        errno = EBADF;
        return -1;
    }
    Target t = file_target(fd);
    if (!t.v.emulate) return md::file_routed(t.v) ? md::file_io_read(fd, buf, n, -1) : orig::read(fd, buf, n);
    return md::emulate(t.hub, fd, t.v, false, n, false, [&](std::size_t) { return orig::read(fd, buf, n); });
}

ssize_t write(int fd, const void* buf, size_t n) {
    Target t = file_target(fd);
    if (!t.v.emulate) return md::file_routed(t.v) ? md::file_io_write(fd, buf, n, -1) : orig::write(fd, buf, n);
    auto* p = static_cast<const char*>(buf);
    return md::emulate(t.hub, fd, t.v, true, n, t.v.stream,
                       [&](std::size_t done) { return orig::write(fd, p + done, n - done); });
}

ssize_t readv(int fd, const iovec* iov, int cnt) {
    Target t = file_target(fd);
    if (!t.v.emulate) return md::file_routed(t.v) ? md::file_io_readv(fd, iov, cnt, -1) : orig::readv(fd, iov, cnt);
    return md::emulate(t.hub, fd, t.v, false, 0, false, [&](std::size_t) { return orig::readv(fd, iov, cnt); });
}

ssize_t writev(int fd, const iovec* iov, int cnt) {
    Target t = file_target(fd);
    if (!t.v.emulate) return md::file_routed(t.v) ? md::file_io_writev(fd, iov, cnt, -1) : orig::writev(fd, iov, cnt);
    if (!t.v.stream || cnt <= 0)
        return md::emulate(t.hub, fd, t.v, true, 0, false, [&](std::size_t) { return orig::writev(fd, iov, cnt); });
    md::IovCursor cur(iov, cnt);
    return md::emulate(t.hub, fd, t.v, true, md::iov_total(iov, cnt), true, [&](std::size_t done) {
        cur.seek(done);
        return orig::writev(fd, cur.data(), cur.count());
    });
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
    if (flags & MSG_DONTWAIT) return orig::recv(fd, buf, n, flags);
    Target t = target(fd);
    if (!t.v.emulate) return orig::recv(fd, buf, n, flags);
    auto* p = static_cast<char*>(buf);
    bool all = (flags & MSG_WAITALL) && t.v.stream;
    return md::emulate(t.hub, fd, t.v, false, n, all,
                       [&](std::size_t done) { return orig::recv(fd, p + done, n - done, flags); });
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* len) {
    if (flags & MSG_DONTWAIT) return orig::recvfrom(fd, buf, n, flags, from, len);
    Target t = target(fd);
    if (!t.v.emulate) return orig::recvfrom(fd, buf, n, flags, from, len);
    auto* p = static_cast<char*>(buf);
    bool all = (flags & MSG_WAITALL) && t.v.stream;
    return md::emulate(t.hub, fd, t.v, false, n, all,
                       [&](std::size_t done) { return orig::recvfrom(fd, p + done, n - done, flags, from, len); });
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
    if (flags & MSG_DONTWAIT) return orig::recvmsg(fd, msg, flags);
    Target t = target(fd);
    if (!t.v.emulate) return orig::recvmsg(fd, msg, flags);
    bool all = (flags & MSG_WAITALL) && t.v.stream;
    return msg_loop(t, fd, msg, false, all, [&](msghdr* m) { return orig::recvmsg(fd, m, flags); });
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
    if (flags & MSG_DONTWAIT) return orig::send(fd, buf, n, flags);
    Target t = target(fd);
    if (!t.v.emulate) return orig::send(fd, buf, n, flags);
    auto* p = static_cast<const char*>(buf);
    return md::emulate(t.hub, fd, t.v, true, n, t.v.stream,
                       [&](std::size_t done) { return orig::send(fd, p + done, n - done, flags); });
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t len) {
    if (flags & MSG_DONTWAIT) return orig::sendto(fd, buf, n, flags, to, len);
    Target t = target(fd);
    if (!t.v.emulate) return orig::sendto(fd, buf, n, flags, to, len);
    auto* p = static_cast<const char*>(buf);
    return md::emulate(t.hub, fd, t.v, true, n, t.v.stream,
                       [&](std::size_t done) { return orig::sendto(fd, p + done, n - done, flags, to, len); });
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
    if (flags & MSG_DONTWAIT) return orig::sendmsg(fd, msg, flags);
    Target t = target(fd);
    if (!t.v.emulate) return orig::sendmsg(fd, msg, flags);
    msghdr copy = *msg;   // msg_loop writes results back; sendmsg's caller keeps its own
    return msg_loop(t, fd, &copy, true, t.v.stream, [&](msghdr* m) { return orig::sendmsg(fd, m, flags); });
}

// _FORTIFY_SOURCE builds call these when the buffer's size is known at compile time.
ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
    if (n > buflen) __chk_fail();
    return read(fd, buf, n);
}

ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags) {
    if (n > buflen) __chk_fail();
    return recv(fd, buf, n, flags);
}

ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t buflen, int flags, sockaddr* from, socklen_t* len) {
    if (n > buflen) __chk_fail();
    return recvfrom(fd, buf, n, flags, from, len);
}

}  // extern "C"
