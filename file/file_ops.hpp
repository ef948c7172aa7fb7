// file/file_ops.hpp — the primitive regular-file operations under gev::File and the
// monkey hooks: each parks only the calling fiber. On the io_uring poller they are
// io_uring operations; on epoll (or a kernel without the opcode) the hub's thread pool
// makes the blocking call (file_ops.cpp is the one place that picks). Reads first try
// a synchronous RWF_NOWAIT call, which a page-cache hit completes with no park
// (perf/results/2026-12-05-files-2cpu.md). Any fiber on any hub; outside a hub's fiber
// each is the plain blocking call.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>

namespace gev::detail {

// True when the caller is a running fiber of a hub, so the calls below park it.
bool file_ops_available() noexcept;

// Whether reads first try a synchronous preadv2(RWF_NOWAIT) (default: on; off with
// $GEV_FILE_NOWAIT=0). For perf/file_bench; any thread, takes effect at the next read.
void set_file_nowait_first(bool on) noexcept;

// read(2)/write(2) at the fd's file position, which they advance exactly as the system
// calls do. Return the count or -errno; never throw, except that a pending kill or
// Timeout is raised once the kernel holds nothing of the operation (a transfer that
// completed meanwhile is returned and the kill stays pending for the next wait).
ssize_t file_read(int fd, void* buf, std::size_t n);
ssize_t file_write(int fd, const void* buf, std::size_t n);
// pread(2)/pwrite(2): at `off`, leaving the file position alone.
ssize_t file_pread(int fd, void* buf, std::size_t n, off_t off);
ssize_t file_pwrite(int fd, const void* buf, std::size_t n, off_t off);
// fsync(2), or fdatasync(2) with `datasync`: 0 or -errno.
int file_fsync(int fd, bool datasync);
// openat(2) (O_CLOEXEC is added): the new fd or -errno.
int file_openat(int dirfd, const char* path, int flags, mode_t mode);
// statx(2): 0 or -errno.
int file_statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* out);

}  // namespace gev::detail
