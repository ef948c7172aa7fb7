// monkey/original.hpp — the C library's own functions behind every hook, for code that
// must block the thread on purpose (gevent's monkey.get_original). Each resolves its
// target once with dlsym(RTLD_NEXT) on first use, so it works before any constructor
// has run; if the target cannot be found the process aborts with its name.
// Any thread. A call made through these on a hub's fiber is what GEV_DEBUG_BLOCKING
// reports when it blocks (see monkey.hpp).
#pragma once

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>

namespace gev::monkey::original {

int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int sv[2]);
int pipe(int fds[2]);
int pipe2(int fds[2], int flags);
int accept(int fd, sockaddr* addr, socklen_t* len);
int accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
int connect(int fd, const sockaddr* addr, socklen_t len);
ssize_t read(int fd, void* buf, size_t n);
ssize_t write(int fd, const void* buf, size_t n);
ssize_t readv(int fd, const iovec* iov, int cnt);
ssize_t writev(int fd, const iovec* iov, int cnt);
ssize_t recv(int fd, void* buf, size_t n, int flags);
ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* len);
ssize_t recvmsg(int fd, msghdr* msg, int flags);
ssize_t send(int fd, const void* buf, size_t n, int flags);
ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t len);
ssize_t sendmsg(int fd, const msghdr* msg, int flags);
int poll(pollfd* fds, nfds_t n, int timeout_ms);
int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask);
int select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* timeout);
int pselect(int nfds, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout, const sigset_t* mask);
unsigned sleep(unsigned seconds);
int usleep(useconds_t usec);
int nanosleep(const timespec* req, timespec* rem);
int clock_nanosleep(clockid_t clock, int flags, const timespec* req, timespec* rem);
int close(int fd);
int dup(int fd);
int dup2(int fd, int to);
int dup3(int fd, int to, int flags);
// fcntl's third argument, whatever its type, passed as one machine word (as glibc does).
int fcntl(int fd, int cmd, void* arg);
int ioctl(int fd, unsigned long request, void* arg);
int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res);
int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen, char* serv,
                socklen_t servlen, int flags);
hostent* gethostbyname(const char* name);
ssize_t pread(int fd, void* buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off);
ssize_t preadv(int fd, const iovec* iov, int cnt, off_t off);
ssize_t pwritev(int fd, const iovec* iov, int cnt, off_t off);
ssize_t preadv2(int fd, const iovec* iov, int cnt, off_t off, int flags);
ssize_t pwritev2(int fd, const iovec* iov, int cnt, off_t off, int flags);
ssize_t sendfile(int out, int in, off_t* off, size_t n);
ssize_t splice(int in, loff_t* in_off, int out, loff_t* out_off, size_t n, unsigned flags);
int sendmmsg(int fd, mmsghdr* v, unsigned n, int flags);
int recvmmsg(int fd, mmsghdr* v, unsigned n, int flags, timespec* timeout);
pid_t waitpid(pid_t pid, int* status, int options);
pid_t wait4(pid_t pid, int* status, int options, rusage* usage);
int waitid(idtype_t type, id_t id, siginfo_t* info, int options);
int system(const char* command);
FILE* popen(const char* command, const char* mode);
int pclose(FILE* f);
int epoll_wait(int ep, epoll_event* ev, int max, int timeout_ms);
int epoll_pwait(int ep, epoll_event* ev, int max, int timeout_ms, const sigset_t* mask);
int epoll_pwait2(int ep, epoll_event* ev, int max, const timespec* timeout, const sigset_t* mask);
int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen, hostent** result, int* h_errnop);

}  // namespace gev::monkey::original
