// tests/monkey/plain_calls.hpp — the unmodified callers: thin functions in
// plain_calls.cpp, a file that includes only C library headers (no gev header), each
// making one ordinary C library call, as a third-party library would. Under
// libgev_monkey those calls bind to gev's definitions through the normal symbol lookup.
#pragma once

#include <stdio.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

extern "C" {
ssize_t plain_sendfile(int out, int in, off_t* off, size_t n);
ssize_t plain_splice(int in, loff_t* in_off, int out, loff_t* out_off, size_t n, unsigned flags);
int plain_sendmmsg(int fd, mmsghdr* v, unsigned n, int flags);
int plain_recvmmsg(int fd, mmsghdr* v, unsigned n, int flags, timespec* timeout);
pid_t plain_waitpid(pid_t pid, int* status, int options);
pid_t plain_wait(int* status);
pid_t plain_wait4(pid_t pid, int* status, int options, rusage* usage);
int plain_waitid(idtype_t type, id_t id, siginfo_t* info, int options);
int plain_system(const char* command);
FILE* plain_popen(const char* command, const char* mode);
int plain_pclose(FILE* f);
char* plain_fgets(char* buf, int n, FILE* f);
int plain_fputs(const char* s, FILE* f);
int plain_epoll_wait(int ep, epoll_event* ev, int max, int timeout);
int plain_epoll_pwait(int ep, epoll_event* ev, int max, int timeout, const sigset_t* mask);
int plain_epoll_pwait2(int ep, epoll_event* ev, int max, const timespec* timeout, const sigset_t* mask);
ssize_t plain_read(int fd, void* buf, size_t n);
ssize_t plain_write(int fd, const void* buf, size_t n);
ssize_t plain_pread(int fd, void* buf, size_t n, off_t off);
ssize_t plain_pwrite(int fd, const void* buf, size_t n, off_t off);
ssize_t plain_readv(int fd, const iovec* iov, int cnt);
ssize_t plain_pwritev(int fd, const iovec* iov, int cnt, off_t off);
ssize_t plain_preadv2(int fd, const iovec* iov, int cnt, off_t off, int flags);
ssize_t plain_pwritev2(int fd, const iovec* iov, int cnt, off_t off, int flags);
}
