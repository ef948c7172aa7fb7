// monkey/original.cpp — the C library's functions behind the hooks, each found once with
// dlsym(RTLD_NEXT): the next definition after libgev_monkey in the lookup order (the C
// library's, or a sanitizer's). The slots are constant-initialised, so a hook called
// before any constructor (another library's initialiser, the dynamic loader's own
// calls) still finds its target. dlsym itself calls none of the hooked functions.
#include "monkey/original.hpp"

#include "monkey/debug_blocking.hpp"

#include <dlfcn.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <fcntl.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace gev::monkey::original {
namespace {

[[noreturn]] void missing(const char* name) noexcept {
    // Not through write(): that may be the hook that is missing its target.
    const char* head = "gev: gev_monkey cannot find the C library's ";
    ::syscall(SYS_write, 2, head, std::strlen(head));
    ::syscall(SYS_write, 2, name, std::strlen(name));
    ::syscall(SYS_write, 2, "\n", 1);
    std::abort();
}

template <class F>
F* next(std::atomic<void*>& slot, const char* name) noexcept {
    void* p = slot.load(std::memory_order_acquire);
    if (p == nullptr) [[unlikely]] {
        p = ::dlsym(RTLD_NEXT, name);
        if (p == nullptr) missing(name);
        slot.store(p, std::memory_order_release);
    }
    return reinterpret_cast<F*>(p);
}

// The slot of one function; constant-initialised (no guard, usable before constructors).
#define GEV_ORIGINAL(name) \
    static constinit std::atomic<void*> slot{nullptr}; \
    detail::CallName mark(#name); \
    return next<decltype(::name)>(slot, #name)

}  // namespace

int socket(int d, int t, int p) { GEV_ORIGINAL(socket)(d, t, p); }
int socketpair(int d, int t, int p, int sv[2]) { GEV_ORIGINAL(socketpair)(d, t, p, sv); }
int pipe(int fds[2]) { GEV_ORIGINAL(pipe)(fds); }
int pipe2(int fds[2], int flags) { GEV_ORIGINAL(pipe2)(fds, flags); }
int accept(int fd, sockaddr* a, socklen_t* l) { GEV_ORIGINAL(accept)(fd, a, l); }
int accept4(int fd, sockaddr* a, socklen_t* l, int f) { GEV_ORIGINAL(accept4)(fd, a, l, f); }
int connect(int fd, const sockaddr* a, socklen_t l) { GEV_ORIGINAL(connect)(fd, a, l); }
ssize_t read(int fd, void* b, size_t n) { GEV_ORIGINAL(read)(fd, b, n); }
ssize_t write(int fd, const void* b, size_t n) { GEV_ORIGINAL(write)(fd, b, n); }
ssize_t readv(int fd, const iovec* v, int c) { GEV_ORIGINAL(readv)(fd, v, c); }
ssize_t writev(int fd, const iovec* v, int c) { GEV_ORIGINAL(writev)(fd, v, c); }
ssize_t recv(int fd, void* b, size_t n, int f) { GEV_ORIGINAL(recv)(fd, b, n, f); }
ssize_t recvfrom(int fd, void* b, size_t n, int f, sockaddr* a, socklen_t* l) {
    GEV_ORIGINAL(recvfrom)(fd, b, n, f, a, l);
}
ssize_t recvmsg(int fd, msghdr* m, int f) { GEV_ORIGINAL(recvmsg)(fd, m, f); }
ssize_t send(int fd, const void* b, size_t n, int f) { GEV_ORIGINAL(send)(fd, b, n, f); }
ssize_t sendto(int fd, const void* b, size_t n, int f, const sockaddr* a, socklen_t l) {
    GEV_ORIGINAL(sendto)(fd, b, n, f, a, l);
}
ssize_t sendmsg(int fd, const msghdr* m, int f) { GEV_ORIGINAL(sendmsg)(fd, m, f); }
int poll(pollfd* fds, nfds_t n, int t) { GEV_ORIGINAL(poll)(fds, n, t); }
int ppoll(pollfd* fds, nfds_t n, const timespec* t, const sigset_t* m) { GEV_ORIGINAL(ppoll)(fds, n, t, m); }
int select(int n, fd_set* r, fd_set* w, fd_set* x, timeval* t) { GEV_ORIGINAL(select)(n, r, w, x, t); }
int pselect(int n, fd_set* r, fd_set* w, fd_set* x, const timespec* t, const sigset_t* m) {
    GEV_ORIGINAL(pselect)(n, r, w, x, t, m);
}
unsigned sleep(unsigned s) { GEV_ORIGINAL(sleep)(s); }
int usleep(useconds_t us) { GEV_ORIGINAL(usleep)(us); }
int nanosleep(const timespec* req, timespec* rem) { GEV_ORIGINAL(nanosleep)(req, rem); }
int clock_nanosleep(clockid_t c, int f, const timespec* req, timespec* rem) {
    GEV_ORIGINAL(clock_nanosleep)(c, f, req, rem);
}
int close(int fd) { GEV_ORIGINAL(close)(fd); }
int dup(int fd) { GEV_ORIGINAL(dup)(fd); }
int dup2(int fd, int to) { GEV_ORIGINAL(dup2)(fd, to); }
int dup3(int fd, int to, int f) { GEV_ORIGINAL(dup3)(fd, to, f); }
int fcntl(int fd, int cmd, void* arg) { GEV_ORIGINAL(fcntl)(fd, cmd, arg); }
int ioctl(int fd, unsigned long req, void* arg) { GEV_ORIGINAL(ioctl)(fd, req, arg); }
int setsockopt(int fd, int level, int name, const void* v, socklen_t l) {
    GEV_ORIGINAL(setsockopt)(fd, level, name, v, l);
}
int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
    GEV_ORIGINAL(getaddrinfo)(node, service, hints, res);
}
int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen, char* serv, socklen_t servlen,
                int flags) {
    GEV_ORIGINAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
}
hostent* gethostbyname(const char* name) { GEV_ORIGINAL(gethostbyname)(name); }
int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen, hostent** result, int* h_errnop) {
    GEV_ORIGINAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
}
ssize_t pread(int fd, void* b, size_t n, off_t o) { GEV_ORIGINAL(pread)(fd, b, n, o); }
ssize_t pwrite(int fd, const void* b, size_t n, off_t o) { GEV_ORIGINAL(pwrite)(fd, b, n, o); }
ssize_t preadv(int fd, const iovec* v, int c, off_t o) { GEV_ORIGINAL(preadv)(fd, v, c, o); }
ssize_t pwritev(int fd, const iovec* v, int c, off_t o) { GEV_ORIGINAL(pwritev)(fd, v, c, o); }
ssize_t preadv2(int fd, const iovec* v, int c, off_t o, int f) { GEV_ORIGINAL(preadv2)(fd, v, c, o, f); }
ssize_t pwritev2(int fd, const iovec* v, int c, off_t o, int f) { GEV_ORIGINAL(pwritev2)(fd, v, c, o, f); }
ssize_t sendfile(int out, int in, off_t* o, size_t n) { GEV_ORIGINAL(sendfile)(out, in, o, n); }
ssize_t splice(int in, loff_t* io, int out, loff_t* oo, size_t n, unsigned f) {
    GEV_ORIGINAL(splice)(in, io, out, oo, n, f);
}
int sendmmsg(int fd, mmsghdr* v, unsigned n, int f) { GEV_ORIGINAL(sendmmsg)(fd, v, n, f); }
int recvmmsg(int fd, mmsghdr* v, unsigned n, int f, timespec* t) { GEV_ORIGINAL(recvmmsg)(fd, v, n, f, t); }
pid_t waitpid(pid_t pid, int* s, int o) { GEV_ORIGINAL(waitpid)(pid, s, o); }
pid_t wait4(pid_t pid, int* s, int o, rusage* u) { GEV_ORIGINAL(wait4)(pid, s, o, u); }
int waitid(idtype_t t, id_t id, siginfo_t* i, int o) { GEV_ORIGINAL(waitid)(t, id, i, o); }
int system(const char* c) { GEV_ORIGINAL(system)(c); }
FILE* popen(const char* c, const char* m) { GEV_ORIGINAL(popen)(c, m); }
int pclose(FILE* f) { GEV_ORIGINAL(pclose)(f); }
int epoll_wait(int ep, epoll_event* e, int m, int t) { GEV_ORIGINAL(epoll_wait)(ep, e, m, t); }
int epoll_pwait(int ep, epoll_event* e, int m, int t, const sigset_t* s) { GEV_ORIGINAL(epoll_pwait)(ep, e, m, t, s); }
int epoll_pwait2(int ep, epoll_event* e, int m, const timespec* t, const sigset_t* s) {
    GEV_ORIGINAL(epoll_pwait2)(ep, e, m, t, s);
}

#undef GEV_ORIGINAL

}  // namespace gev::monkey::original
