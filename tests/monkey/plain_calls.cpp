// tests/monkey/plain_calls.cpp — one ordinary C library call per function, compiled
// without any gev header: the "unmodified caller" of the monkey tests (plain_calls.hpp).
#include "plain_calls.hpp"

#include <stdlib.h>
#include <sys/sendfile.h>
#include <fcntl.h>
#include <unistd.h>

extern "C" {
ssize_t plain_sendfile(int out, int in, off_t* off, size_t n) { return sendfile(out, in, off, n); }
ssize_t plain_splice(int in, loff_t* in_off, int out, loff_t* out_off, size_t n, unsigned flags) {
    return splice(in, in_off, out, out_off, n, flags);
}
int plain_sendmmsg(int fd, mmsghdr* v, unsigned n, int flags) { return sendmmsg(fd, v, n, flags); }
int plain_recvmmsg(int fd, mmsghdr* v, unsigned n, int flags, timespec* timeout) {
    return recvmmsg(fd, v, n, flags, timeout);
}
pid_t plain_waitpid(pid_t pid, int* status, int options) { return waitpid(pid, status, options); }
pid_t plain_wait(int* status) { return wait(status); }
pid_t plain_wait4(pid_t pid, int* status, int options, rusage* usage) { return wait4(pid, status, options, usage); }
int plain_waitid(idtype_t type, id_t id, siginfo_t* info, int options) { return waitid(type, id, info, options); }
int plain_system(const char* command) { return system(command); }
FILE* plain_popen(const char* command, const char* mode) { return popen(command, mode); }
int plain_pclose(FILE* f) { return pclose(f); }
char* plain_fgets(char* buf, int n, FILE* f) { return fgets(buf, n, f); }
int plain_fputs(const char* s, FILE* f) { return fputs(s, f); }
int plain_epoll_wait(int ep, epoll_event* ev, int max, int timeout) { return epoll_wait(ep, ev, max, timeout); }
int plain_epoll_pwait(int ep, epoll_event* ev, int max, int timeout, const sigset_t* mask) {
    return epoll_pwait(ep, ev, max, timeout, mask);
}
int plain_epoll_pwait2(int ep, epoll_event* ev, int max, const timespec* timeout, const sigset_t* mask) {
    return epoll_pwait2(ep, ev, max, timeout, mask);
}
ssize_t plain_read(int fd, void* buf, size_t n) { return read(fd, buf, n); }
ssize_t plain_write(int fd, const void* buf, size_t n) { return write(fd, buf, n); }
ssize_t plain_pread(int fd, void* buf, size_t n, off_t off) { return pread(fd, buf, n, off); }
ssize_t plain_pwrite(int fd, const void* buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }
ssize_t plain_readv(int fd, const iovec* iov, int cnt) { return readv(fd, iov, cnt); }
ssize_t plain_pwritev(int fd, const iovec* iov, int cnt, off_t off) { return pwritev(fd, iov, cnt, off); }
ssize_t plain_preadv2(int fd, const iovec* iov, int cnt, off_t off, int flags) {
    return preadv2(fd, iov, cnt, off, flags);
}
ssize_t plain_pwritev2(int fd, const iovec* iov, int cnt, off_t off, int flags) {
    return pwritev2(fd, iov, cnt, off, flags);
}
}
