// monkey/hooks_file.cpp — pread, pwrite, preadv, pwritev (and their 64 names and the
// _FORTIFY_SOURCE pread entry points), and the routing of regular-file IO that
// read/write/readv/writev share (file_route.hpp). A regular file on a hub's fiber with
// Patch::file: read/write/pread/pwrite through gev's file operations (io_uring, or the
// thread pool on epoll), the vectored calls on the hub's thread pool; anything else,
// and every call off a fiber, is the C library's. A pread on a socket or pipe (ESPIPE)
// is the real call too. Built without _FILE_OFFSET_BITS so that pread and pread64 are
// two symbols here, both defined.
#undef _FILE_OFFSET_BITS
#include "file/file_ops.hpp"
#include "monkey/file_route.hpp"
#include "monkey/original.hpp"
#include "runtime/shield.hpp"
#include "runtime/threadpool.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

extern "C" [[noreturn]] void __chk_fail(void);

namespace gev::monkey::detail {
namespace {

// A file op's count or -errno as the system call answers: -1 and errno, or the count
// with the caller's errno (other fibers ran, and set it, while this one was parked).
ssize_t as_call(ssize_t r, int saved) noexcept {
    errno = r < 0 ? static_cast<int>(-r) : saved;
    return r < 0 ? -1 : r;
}

// A vectored call on the hub's thread pool. Its result must reach the caller (it moved
// the file position), so a kill arriving meanwhile stays pending for the next wait.
template <class Call>
ssize_t on_pool(Call call) {
    int saved = errno;
    int err = 0;
    ssize_t r;
    {
        gev::Shield hold;
        r = gev::run_in_thread([&] {
            ssize_t v = call();
            err = errno;
            return v;
        });
    }
    return as_call(r < 0 ? -err : r, saved);
}

}  // namespace

ssize_t file_io_read(int fd, void* buf, std::size_t n, off_t off) {
    int saved = errno;
    return as_call(off < 0 ? gev::detail::file_read(fd, buf, n) : gev::detail::file_pread(fd, buf, n, off), saved);
}

ssize_t file_io_write(int fd, const void* buf, std::size_t n, off_t off) {
    int saved = errno;
    return as_call(off < 0 ? gev::detail::file_write(fd, buf, n) : gev::detail::file_pwrite(fd, buf, n, off), saved);
}

ssize_t file_io_readv(int fd, const iovec* iov, int cnt, off_t off) {
    return on_pool([=] { return off < 0 ? orig::readv(fd, iov, cnt) : orig::preadv(fd, iov, cnt, off); });
}

ssize_t file_io_writev(int fd, const iovec* iov, int cnt, off_t off) {
    return on_pool([=] { return off < 0 ? orig::writev(fd, iov, cnt) : orig::pwritev(fd, iov, cnt, off); });
}

ssize_t file_io_readv2(int fd, const iovec* iov, int cnt, off_t off, int flags) {
    return on_pool([=] { return orig::preadv2(fd, iov, cnt, off, flags); });
}

ssize_t file_io_writev2(int fd, const iovec* iov, int cnt, off_t off, int flags) {
    return on_pool([=] { return orig::pwritev2(fd, iov, cnt, off, flags); });
}

}  // namespace gev::monkey::detail

namespace {

// The positioned calls route only a valid offset: a negative one is the kernel's EINVAL.
bool routed(int fd, off_t off) noexcept { return off >= 0 && md::file_routed(md::file_view(fd)); }

}  // namespace

extern "C" {

ssize_t pread(int fd, void* buf, size_t n, off_t off) {
    return routed(fd, off) ? md::file_io_read(fd, buf, n, off) : orig::pread(fd, buf, n, off);
}
ssize_t pread64(int fd, void* buf, size_t n, off64_t off) { return pread(fd, buf, n, off); }

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
    return routed(fd, off) ? md::file_io_write(fd, buf, n, off) : orig::pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) { return pwrite(fd, buf, n, off); }

ssize_t preadv(int fd, const iovec* iov, int cnt, off_t off) {
    return routed(fd, off) ? md::file_io_readv(fd, iov, cnt, off) : orig::preadv(fd, iov, cnt, off);
}
ssize_t preadv64(int fd, const iovec* iov, int cnt, off64_t off) { return preadv(fd, iov, cnt, off); }

ssize_t pwritev(int fd, const iovec* iov, int cnt, off_t off) {
    return routed(fd, off) ? md::file_io_writev(fd, iov, cnt, off) : orig::pwritev(fd, iov, cnt, off);
}
ssize_t pwritev64(int fd, const iovec* iov, int cnt, off64_t off) { return pwritev(fd, iov, cnt, off); }

ssize_t __pread_chk(int fd, void* buf, size_t n, off_t off, size_t buflen) {
    if (n > buflen) __chk_fail();
    return pread(fd, buf, n, off);
}
ssize_t __pread64_chk(int fd, void* buf, size_t n, off64_t off, size_t buflen) {
    if (n > buflen) __chk_fail();
    return pread(fd, buf, n, off);
}

}  // extern "C"
