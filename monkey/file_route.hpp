// monkey/file_route.hpp — regular files under Patch::file: on a hub's fiber their
// read/write/pread/pwrite go through gev's cooperative file operations
// (file/file_ops.hpp: io_uring on that poller, the hub's thread pool on epoll), the
// vectored calls through the thread pool; each parks only the fiber. Whether an fd is
// a regular file is decided once per open file description (fd_table.hpp, kRegular).
// Results are the system call's: the count (partial as the kernel's), or -1 and its
// errno; errno is untouched on success.
#pragma once

#include "monkey/context.hpp"
#include "monkey/fd_table.hpp"

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

namespace gev::monkey::detail {

// Whether a call on an fd seen as `v` goes to the file operations now.
inline bool file_routed(const FdView& v) noexcept { return v.regular && cooperative(Patch::file) != nullptr; }

// The view of fd for a hook that only routes regular files (pread, pwrite, ...).
inline FdView file_view(int fd) noexcept {
    return cooperative(Patch::file) != nullptr ? fd_prepare(fd, true, false) : FdView{};
}

// off < 0: at the file position (read/write/readv/writev), else at off.
ssize_t file_io_read(int fd, void* buf, std::size_t n, off_t off);
ssize_t file_io_write(int fd, const void* buf, std::size_t n, off_t off);
ssize_t file_io_readv(int fd, const iovec* iov, int cnt, off_t off);
ssize_t file_io_writev(int fd, const iovec* iov, int cnt, off_t off);
// preadv2/pwritev2 (off -1: at the file position), with their RWF_* flags.
ssize_t file_io_readv2(int fd, const iovec* iov, int cnt, off_t off, int flags);
ssize_t file_io_writev2(int fd, const iovec* iov, int cnt, off_t off, int flags);

}  // namespace gev::monkey::detail
