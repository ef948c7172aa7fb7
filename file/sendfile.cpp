// file/sendfile.cpp — gev::sendfile: sendfile(2) from a File to a non-blocking socket,
// parking on the socket's writability whenever it is full (the "try, wait, retry" shape).
// The hub's thread makes the call when the range is in the page cache (a memory copy,
// as nginx's and gunicorn's do); when part of it is on the disk (cachestat(2), Linux
// 6.5+), the hub's thread pool does, so the disk wait parks only the calling fiber.
#include "file/file.hpp"

#include "file/file_ops.hpp"
#include "net/errors.hpp"
#include "runtime/shield.hpp"
#include "runtime/threadpool.hpp"

#include <signal.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>

namespace gev {

namespace {

// One call's share: what a cold chunk costs the worker, and how much a cached one
// copies on the hub's thread before the other fibers get a turn.
constexpr std::size_t kChunk = 1 << 20;

// sendfile(2) has no MSG_NOSIGNAL: a peer that went away would raise SIGPIPE. The call
// runs with SIGPIPE blocked on this thread, and a SIGPIPE it queued is taken back, so
// the caller sees EPIPE as send() reports it (one SIGPIPE already pending is left be).
ssize_t sendfile_nosignal(int sock, int fd, off_t* at, std::size_t n) {
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t r = ::sendfile(sock, fd, at, n);
    int err = errno;
    // Even a call that sent some bytes may have queued one (its next chunk hit EPIPE).
    if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return r;
}

// cachestat(2)'s ABI (linux/mman.h, newer than some distributions' headers).
struct CachestatRange {
    std::uint64_t off, len;
};
struct Cachestat {
    std::uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};
constexpr long kSysCachestat = 451;   // the same number on every architecture

// Whether every page of [off, off+len) is in the page cache; true when the kernel
// cannot say (before 6.5), which keeps the call on the hub's thread.
bool in_cache(int fd, off_t off, std::size_t len) noexcept {
    CachestatRange range{static_cast<std::uint64_t>(off), len};
    Cachestat cs{};
    if (::syscall(kSysCachestat, fd, &range, &cs, 0) != 0) return true;
    long page = ::sysconf(_SC_PAGESIZE);
    std::uint64_t first = static_cast<std::uint64_t>(off) / page;
    std::uint64_t last = (static_cast<std::uint64_t>(off) + len + page - 1) / page;
    return cs.nr_cache >= last - first;
}

// One sendfile(2) of up to n bytes at *at: here, or on the thread pool for a cold range.
ssize_t send_chunk(int sock, int fd, off_t* at, std::size_t n) {
    if (!detail::file_ops_available() || in_cache(fd, *at, n)) return sendfile_nosignal(sock, fd, at, n);
    ssize_t r = 0;
    int err = 0;
    Shield hold_kills;   // bytes the worker sent must be counted: a kill waits for the next wait
    detail::run_job([&] {
        r = sendfile_nosignal(sock, fd, at, n);
        err = errno;
    });
    errno = err;
    return r;
}

}  // namespace

std::size_t sendfile(net::Socket& sock, File& file, off_t offset, std::size_t count) {
    if (file.closed()) throw FileError(EBADF, "sendfile " + file.name());
    if (sock.fileno() < 0) throw net::SocketError(EBADF, "sendfile");
    file.flush();   // what was written through the File is part of the file
    std::size_t sent = 0;
    while (sent < count) {
        off_t at = offset + static_cast<off_t>(sent);
        ssize_t r = send_chunk(sock.fileno(), file.fileno(), &at, std::min(count - sent, kChunk));
        if (r > 0) {
            sent += static_cast<std::size_t>(r);
            continue;
        }
        if (r == 0) break;   // the file ended
        if (errno == EAGAIN) {
            net::wait_write(sock.fileno(), sock.timeout());
            continue;
        }
        if (errno == EINTR) continue;
        int err = errno;
        if (err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ENOTSOCK)
            throw net::SocketError(err, "sendfile");
        throw FileError(err, "sendfile " + file.name());
    }
    return sent;
}

}  // namespace gev
