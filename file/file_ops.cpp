// file/file_ops.cpp — where a file operation runs: an RWF_NOWAIT attempt for reads, then
// the poller (io_uring) and, when the poller answers -EOPNOTSUPP (epoll, an old kernel),
// the hub's thread pool. Runs on the calling fiber's hub thread.
#include "file/file_ops.hpp"

#include "runtime/fiber.hpp"
#include "runtime/hub.hpp"
#include "runtime/io.hpp"
#include "runtime/shield.hpp"
#include "runtime/threadpool.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace gev::detail {

namespace {

// One transfer is at most what read(2) itself moves at once (and fits the SQE's length).
constexpr std::size_t kMaxTransfer = 0x7ffff000;

int plain(IoOp& op) noexcept { return io_try(op); }   // the blocking call, right here

// $GEV_FILE_NOWAIT=0 turns the synchronous first attempt off (for measuring).
std::atomic<bool> g_nowait_first{[] {
    const char* v = std::getenv("GEV_FILE_NOWAIT");
    return v == nullptr || std::strcmp(v, "0") != 0;
}()};

bool nowait_first() noexcept { return g_nowait_first.load(std::memory_order_relaxed); }

// Hands op to the poller, or to the thread pool when the poller cannot take it. A kill
// or Timeout that arrived while an earlier op completed anyway is raised here, before
// anything new starts: a loop of file ops that each finish before their cancellation
// would otherwise never see it.
int submit(Hub& hub, IoOp& op) {
    int r;
    do {   // -EINTR: the cancellation of a kill interrupted an io-wq worker; nothing moved
        Hub::raise_pending(current_fiber());
        IoResult w = hub.poller().io(op, -1);   // no deadline: only a close ends it early
        r = w.ready() ? w.res : -ECANCELED;
    } while (r == -EINTR);
    if (r != -EOPNOTSUPP) return r;
    // The worker's call cannot be taken back: its result (an fd, bytes that moved the
    // position) must reach the caller, so a kill arriving meanwhile waits, shielded,
    // for the next wait, as one that lands while io_uring completes an op does.
    r = 0;
    Shield hold_kills;
    run_job([&op, &r] { r = plain(op); });
    return r;
}

int perform(IoOp& op) {
    if (!file_ops_available()) return plain(op);
    return submit(*Hub::current(), op);
}

// A read: what the page cache holds right now comes without a park; the rest (or all,
// when nothing is cached: EAGAIN) from the kernel asynchronously.
ssize_t read_at(int fd, void* buf, std::size_t n, std::uint64_t off) {
    n = std::min(n, kMaxTransfer);
    IoOp op;
    op.kind = IoKind::pread;
    op.fd = fd;
    op.buf = buf;
    op.len = n;
    op.offset = off;
    if (!file_ops_available()) return plain(op);
    ssize_t got = 0;
    if (nowait_first() && n > 0) {
        iovec iov{buf, n};
        got = ::preadv2(fd, &iov, 1, static_cast<off_t>(off), RWF_NOWAIT);
        if (got == static_cast<ssize_t>(n) || got == 0) return got;   // all of it, or EOF
        if (got < 0 && errno != EAGAIN && errno != EOPNOTSUPP) return -errno;
        if (got < 0) got = 0;
        // A kill about to be raised would lose what moved the position: return it first.
        if (got > 0 && Hub::can_raise(current_fiber())) return got;
        op.buf = static_cast<char*>(buf) + got;
        op.len = n - static_cast<std::size_t>(got);
        if (off != kCurrentPosition) op.offset = off + static_cast<std::uint64_t>(got);
    }
    int r = submit(*Hub::current(), op);
    if (r < 0) return got > 0 ? got : r;   // a partial transfer is read(2)'s answer too
    return got + r;
}

ssize_t write_at(int fd, const void* buf, std::size_t n, std::uint64_t off) {
    IoOp op;
    op.kind = IoKind::pwrite;
    op.fd = fd;
    op.buf = const_cast<void*>(buf);
    op.len = std::min(n, kMaxTransfer);
    op.offset = off;
    return perform(op);
}

}  // namespace

void set_file_nowait_first(bool on) noexcept { g_nowait_first.store(on, std::memory_order_relaxed); }

bool file_ops_available() noexcept {
    if (t_hub == nullptr) return false;
    Fiber* f = t_current;
    return f != nullptr && f->kind != FiberKind::root && f->state == FiberState::running;
}

ssize_t file_read(int fd, void* buf, std::size_t n) { return read_at(fd, buf, n, kCurrentPosition); }
ssize_t file_write(int fd, const void* buf, std::size_t n) { return write_at(fd, buf, n, kCurrentPosition); }

ssize_t file_pread(int fd, void* buf, std::size_t n, off_t off) {
    if (off < 0) return -EINVAL;
    return read_at(fd, buf, n, static_cast<std::uint64_t>(off));
}

ssize_t file_pwrite(int fd, const void* buf, std::size_t n, off_t off) {
    if (off < 0) return -EINVAL;
    return write_at(fd, buf, n, static_cast<std::uint64_t>(off));
}

int file_fsync(int fd, bool datasync) {
    IoOp op;
    op.kind = IoKind::fsync;
    op.fd = fd;
    op.flags = datasync ? 1 : 0;
    return perform(op);
}

int file_openat(int dirfd, const char* path, int flags, mode_t mode) {
    IoOp op;
    op.kind = IoKind::openat;
    op.fd = dirfd;
    op.path = path;
    op.flags = flags | O_CLOEXEC;
    op.mode = mode;
    return perform(op);
}

int file_statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* out) {
    IoOp op;
    op.kind = IoKind::statx;
    op.fd = dirfd;
    op.path = path;
    op.flags = flags;
    op.len = mask;
    op.buf = out;
    return perform(op);
}

}  // namespace gev::detail
