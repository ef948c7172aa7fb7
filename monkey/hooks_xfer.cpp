// monkey/hooks_xfer.cpp — the bulk transfers: sendfile, splice, sendmmsg, recvmmsg. As
// in hooks_io.cpp, a call on fds gev does not manage is the real call; otherwise "try,
// wait, retry", parking only the fiber on a hub. sendfile and splice have two ends:
// after EAGAIN the one that would block is waited for, and if that one is the caller's
// own non-blocking fd the caller gets EAGAIN, as from the kernel. SPLICE_F_NONBLOCK and
// MSG_DONTWAIT always mean the real call. Built without _FILE_OFFSET_BITS so that
// sendfile and sendfile64 are two symbols here, both defined.
#undef _FILE_OFFSET_BITS
#include "monkey/emulate.hpp"
#include "monkey/iov.hpp"
#include "monkey/original.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <chrono>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;

// One end of a two-fd transfer: the source waits for POLLIN, the destination POLLOUT.
struct End {
    int fd;
    short events;
    md::FdView v;
    md::FdWait wait{};   // its deadline and file, from its first wait
};

// Which end would block now (the first that poll(2) does not call ready); -1: both are.
int blocked_end(const End (&ends)[2]) noexcept {
    pollfd p[2] = {{ends[0].fd, ends[0].events, 0}, {ends[1].fd, ends[1].events, 0}};
    if (orig::poll(p, 2, 0) < 0) return -1;
    for (int i = 0; i < 2; ++i)
        if ((p[i].revents & (ends[i].events | POLLERR | POLLHUP | POLLNVAL)) == 0) return i;
    return -1;
}

// A short pause when the kernel said EAGAIN yet both ends poll ready (a pipe with too
// little room for a whole page): retry soon rather than spin.
void pause_briefly(md::Hub* hub) {
    if (hub != nullptr) {
        md::park_until(*hub, hub->deadline_after(std::chrono::milliseconds(1)));
        return;
    }
    timespec ms{0, 1'000'000};
    orig::nanosleep(&ms, nullptr);
}

// After EAGAIN: 0 when the blocked end may be ready (try again), else the errno that
// ends the call (EAGAIN: the caller's own non-blocking end, or a timeout; EBADF: its
// number names another file, found before the first wait or after any).
int wait_blocked(md::Hub* hub, End (&ends)[2]) {
    int i = blocked_end(ends);
    if (i < 0) {
        pause_briefly(hub);
        return 0;
    }
    End& e = ends[i];
    if (!e.v.emulate) return EAGAIN;
    int w = md::wait_fd(hub, e.fd, e.events, e.v, e.wait);
    return w == ETIMEDOUT ? EAGAIN : w == ESTALE ? EBADF : w;
}

// "Try, wait, retry" over two ends; `whole`: go on until `total` bytes have moved.
template <class Attempt>
ssize_t transfer(md::Hub* hub, End (&ends)[2], std::size_t total, bool whole, Attempt attempt) {
    int saved = errno;
    std::size_t done = 0;
    for (;;) {
        ssize_t r = attempt(done);
        if (r > 0) {
            done += static_cast<std::size_t>(r);
            if (!whole || done >= total) break;
            continue;
        }
        if (r == 0) break;
        if (errno != EAGAIN) {
            if (done > 0) break;
            return -1;
        }
        if (int w = wait_blocked(hub, ends); w != 0) {
            if (done > 0) break;
            errno = w;
            return -1;
        }
    }
    errno = saved;
    return static_cast<ssize_t>(done);
}

ssize_t sendfile_common(int out, int in, off_t* off, size_t n) {
    md::Hub* hub = md::cooperative(Patch::socket);
    End ends[2] = {{in, POLLIN, md::fd_prepare(in, hub != nullptr)}, {out, POLLOUT, md::fd_prepare(out, hub != nullptr)}};
    if (!ends[0].v.emulate && !ends[1].v.emulate) return orig::sendfile(out, in, off, n);
    // A blocking sendfile to a stream moves everything (or stops at the file's end).
    return transfer(hub, ends, n, ends[1].v.emulate && ends[1].v.stream,
                    [&](std::size_t done) { return orig::sendfile(out, in, off, n - done); });
}

bool valid(const timespec* t) noexcept {
    return t == nullptr || (t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < kNsPerSec);
}

std::int64_t end_of(const timespec* t) noexcept {
    if (t == nullptr) return -1;
    std::int64_t now = gev::detail::clock_ns();
    if (t->tv_sec >= (INT64_MAX - now) / kNsPerSec - 1) return INT64_MAX;
    return now + static_cast<std::int64_t>(t->tv_sec) * kNsPerSec + t->tv_nsec;
}

// The rest of a stream message that sendmmsg sent only in part, as a blocking
// sendmsg would have sent it: its bytes after the first `sent`, without ancillary data.
ssize_t finish_message(md::Hub* hub, int fd, const md::FdView& v, const msghdr& m, std::size_t sent, int flags) {
    md::IovCursor cur(m.msg_iov, static_cast<int>(m.msg_iovlen));
    std::size_t total = md::iov_total(m.msg_iov, static_cast<int>(m.msg_iovlen));
    msghdr part{};
    return md::emulate(hub, fd, v, true, total - sent, true, [&](std::size_t done) {
        cur.seek(sent + done);
        part.msg_iov = cur.data();
        part.msg_iovlen = static_cast<std::size_t>(cur.count());
        return orig::sendmsg(fd, &part, flags);
    });
}

}  // namespace

extern "C" {

ssize_t sendfile(int out, int in, off_t* off, size_t n) __THROW { return sendfile_common(out, in, off, n); }

ssize_t sendfile64(int out, int in, off64_t* off, size_t n) __THROW {
    static_assert(sizeof(off64_t) == sizeof(off_t));
    return sendfile_common(out, in, reinterpret_cast<off_t*>(off), n);
}

ssize_t splice(int in, loff_t* in_off, int out, loff_t* out_off, size_t n, unsigned flags) {
    if (flags & SPLICE_F_NONBLOCK) return orig::splice(in, in_off, out, out_off, n, flags);
    md::Hub* hub = md::cooperative(Patch::socket);
    End ends[2] = {{in, POLLIN, md::fd_prepare(in, hub != nullptr)}, {out, POLLOUT, md::fd_prepare(out, hub != nullptr)}};
    if (!ends[0].v.emulate && !ends[1].v.emulate) return orig::splice(in, in_off, out, out_off, n, flags);
    // A blocking splice returns as soon as some bytes moved, as read does.
    return transfer(hub, ends, n, false,
                    [&](std::size_t) { return orig::splice(in, in_off, out, out_off, n, flags); });
}

int sendmmsg(int fd, mmsghdr* vec, unsigned n, int flags) {
    if (flags & MSG_DONTWAIT) return orig::sendmmsg(fd, vec, n, flags);
    md::Hub* hub = md::cooperative(Patch::socket);
    md::FdView v = md::fd_prepare(fd, hub != nullptr);
    if (!v.emulate) return orig::sendmmsg(fd, vec, n, flags);
    int saved = errno;
    unsigned sent = 0;
    md::FdWait waits;
    while (sent < n) {
        int r = orig::sendmmsg(fd, vec + sent, n - sent, flags);
        if (r > 0) {
            sent += static_cast<unsigned>(r);
            mmsghdr& last = vec[sent - 1];
            std::size_t total = md::iov_total(last.msg_hdr.msg_iov, static_cast<int>(last.msg_hdr.msg_iovlen));
            if (!v.stream || last.msg_len >= total) continue;
            ssize_t more = finish_message(hub, fd, v, last.msg_hdr, last.msg_len, flags);
            if (more > 0) last.msg_len += static_cast<unsigned>(more);
            if (last.msg_len < total) break;   // the blocking call stops there too
            continue;
        }
        if (r == 0) return static_cast<int>(sent);
        if (errno != EAGAIN) break;
        if (int w = md::wait_fd(hub, fd, POLLOUT, v, waits); w != 0) {
            if (w != ESTALE) errno = w == ETIMEDOUT ? EAGAIN : w;   // ESTALE: the last try's EAGAIN
            break;
        }
    }
    if (sent == 0 && n > 0) return -1;
    errno = saved;
    return static_cast<int>(sent);
}

int recvmmsg(int fd, mmsghdr* vec, unsigned n, int flags, timespec* timeout) {
    if ((flags & MSG_DONTWAIT) || !valid(timeout)) return orig::recvmmsg(fd, vec, n, flags, timeout);
    md::Hub* hub = md::cooperative(Patch::socket);
    md::FdView v = md::fd_prepare(fd, hub != nullptr);
    if (!v.emulate || n == 0) return orig::recvmmsg(fd, vec, n, flags, timeout);
    int saved = errno;
    // As in the kernel, the timeout is looked at only after each message received: it
    // never ends the wait for the next one (recvmmsg(2), BUGS).
    std::int64_t end = end_of(timeout);
    md::FdWait waits;
    unsigned got = 0;
    while (got < n) {
        int f = got > 0 && (flags & MSG_WAITFORONE) ? flags | MSG_DONTWAIT : flags;
        int r = orig::recvmmsg(fd, vec + got, n - got, f, nullptr);
        if (r > 0) {
            got += static_cast<unsigned>(r);
            if ((flags & MSG_WAITFORONE) || (end >= 0 && gev::detail::clock_ns() >= end)) break;
            continue;
        }
        if (r == 0) return static_cast<int>(got);
        if (errno != EAGAIN || (got > 0 && (flags & MSG_WAITFORONE))) break;
        if (int w = md::wait_fd(hub, fd, POLLIN, v, waits); w != 0) {
            if (w != ESTALE) errno = w == ETIMEDOUT ? EAGAIN : w;   // ESTALE: the last try's EAGAIN
            break;
        }
    }
    if (got == 0) return -1;
    if (timeout != nullptr) {   // the time left, as the kernel writes it back
        std::int64_t left = std::max<std::int64_t>(0, end - gev::detail::clock_ns());
        timeout->tv_sec = static_cast<time_t>(left / kNsPerSec);
        timeout->tv_nsec = static_cast<long>(left % kNsPerSec);
    }
    errno = saved;
    return static_cast<int>(got);
}

}  // extern "C"
