// monkey/hooks_flags.cpp — the calls through which a caller sees or changes an fd's
// blocking mode and timeouts: fcntl (and fcntl64, which _FILE_OFFSET_BITS=64 code
// calls), ioctl(FIONBIO), setsockopt(SO_RCVTIMEO/SO_SNDTIMEO). On a managed fd the
// kernel's O_NONBLOCK stays set while the caller reads and writes its own flag; the
// kernel still validates every request, so errno is always the real one.
// Both names must be defined here; with 64-bit file offsets <fcntl.h> renames fcntl.
#undef _FILE_OFFSET_BITS

#include "monkey/fd_table.hpp"
#include "monkey/original.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdarg>

namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

// The SO_*TIMEO names of both the old and the 64-bit-time ABI (Linux 5.1+).
constexpr int kRcvTimeoNew = 66;
constexpr int kSndTimeoNew = 67;

// Whether gev set O_NONBLOCK on this fd (managed, or managed and since made
// non-blocking by its caller): the kernel's flag is then not the caller's to see.
bool gev_owns_flag(int fd, bool* user_nonblock) noexcept {
    md::FdDesc* d = md::fd_desc(fd);
    if (d == nullptr) return false;
    std::uint32_t b = d->bits.load(std::memory_order_acquire);
    if (md::kind_of(b) != md::FdKind::pollable || !(b & md::kGevNonblock)) return false;
    *user_nonblock = (b & md::kUserNonblock) != 0;
    return true;
}

int fcntl_common(int fd, int cmd, void* arg) {
    switch (cmd) {
        case F_GETFL: {
            int r = orig::fcntl(fd, cmd, arg);
            bool user_nb = false;
            if (r >= 0 && gev_owns_flag(fd, &user_nb)) r = user_nb ? r | O_NONBLOCK : r & ~O_NONBLOCK;
            return r;
        }
        case F_SETFL: {
            long want = reinterpret_cast<long>(arg);
            bool user_nb = false;
            if (gev_owns_flag(fd, &user_nb)) {
                int r = orig::fcntl(fd, cmd, reinterpret_cast<void*>(want | O_NONBLOCK));
                if (r == 0) md::fd_set_user_nonblock(fd, (want & O_NONBLOCK) != 0);
                return r;
            }
            int r = orig::fcntl(fd, cmd, arg);
            if (r == 0) md::fd_set_user_nonblock(fd, (want & O_NONBLOCK) != 0);
            return r;
        }
        case F_DUPFD:
        case F_DUPFD_CLOEXEC: {
            int r = orig::fcntl(fd, cmd, arg);
            if (r >= 0) md::fd_copied(fd, r);
            return r;
        }
        default:
            return orig::fcntl(fd, cmd, arg);
    }
}

std::int64_t timeval_ns(const timeval& tv) noexcept {
    if (tv.tv_sec == 0 && tv.tv_usec == 0) return -1;   // the kernel's "no timeout"
    if (tv.tv_sec < 0) return 0;                        // the kernel's "expire at once"
    return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
}

}  // namespace

extern "C" {

int fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    void* arg = va_arg(ap, void*);   // one word, whatever the command's type (as glibc reads it)
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...) __THROW {
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (request != FIONBIO) return orig::ioctl(fd, request, arg);
    bool user_nb = false;
    if (gev_owns_flag(fd, &user_nb)) {
        int one = 1;
        int r = orig::ioctl(fd, request, &one);   // keep the kernel's flag set
        if (r == 0) md::fd_set_user_nonblock(fd, *static_cast<const int*>(arg) != 0);
        return r;
    }
    int r = orig::ioctl(fd, request, arg);
    if (r == 0) md::fd_set_user_nonblock(fd, *static_cast<const int*>(arg) != 0);
    return r;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) __THROW {
    int r = orig::setsockopt(fd, level, name, value, len);
    if (r != 0 || level != SOL_SOCKET) return r;
    bool rcv = name == SO_RCVTIMEO || name == kRcvTimeoNew;
    bool snd = name == SO_SNDTIMEO || name == kSndTimeoNew;
    if ((rcv || snd) && len >= static_cast<socklen_t>(sizeof(timeval)))
        md::fd_set_timeout(fd, snd, timeval_ns(*static_cast<const timeval*>(value)));
    return r;
}

}  // extern "C"
