// monkey/hooks_iov2.cpp — preadv2 and pwritev2 (and their 64 names), as readv/writev
// and preadv/pwritev are hooked: at the file position (offset -1) on a managed socket
// or pipe, the blocking call is emulated (emulate.hpp: park the fiber on a hub, block
// the thread elsewhere); a regular file on a hub's fiber with Patch::file goes to the
// hub's thread pool, offset and flags as given. RWF_NOWAIT is the caller's own
// non-blocking request, and any other call is the C library's. Built without
// _FILE_OFFSET_BITS so that preadv2 and preadv64v2 are two symbols here.
#undef _FILE_OFFSET_BITS
#include "monkey/emulate.hpp"
#include "monkey/file_route.hpp"
#include "monkey/iov.hpp"
#include "monkey/original.hpp"

#include <sys/uio.h>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

// The fd as readv/writev's hooks see it: classified on a fiber when either part is
// patched, managed only for sockets; the hub is null off a fiber (the thread blocks).
struct Target {
    md::Hub* hub;
    md::FdView v;
};
Target file_target(int fd) noexcept {
    md::Hub* hub = md::cooperative(Patch::socket);
    bool classify = hub != nullptr || md::cooperative(Patch::file) != nullptr;
    return Target{hub, md::fd_prepare(fd, classify, hub != nullptr)};
}

}  // namespace

extern "C" {

ssize_t preadv2(int fd, const iovec* iov, int cnt, off_t off, int flags) {
    if (flags & RWF_NOWAIT) return orig::preadv2(fd, iov, cnt, off, flags);
    Target t = file_target(fd);
    if (t.v.emulate && off == -1)
        return md::emulate(t.hub, fd, t.v, false, 0, false,
                           [&](std::size_t) { return orig::preadv2(fd, iov, cnt, -1, flags); });
    if (off >= -1 && !t.v.emulate && md::file_routed(t.v)) return md::file_io_readv2(fd, iov, cnt, off, flags);
    return orig::preadv2(fd, iov, cnt, off, flags);
}
ssize_t preadv64v2(int fd, const iovec* iov, int cnt, off64_t off, int flags) {
    return preadv2(fd, iov, cnt, off, flags);
}

ssize_t pwritev2(int fd, const iovec* iov, int cnt, off_t off, int flags) {
    if (flags & RWF_NOWAIT) return orig::pwritev2(fd, iov, cnt, off, flags);
    Target t = file_target(fd);
    if (t.v.emulate && off == -1) {
        if (!t.v.stream || cnt <= 0)
            return md::emulate(t.hub, fd, t.v, true, 0, false,
                               [&](std::size_t) { return orig::pwritev2(fd, iov, cnt, -1, flags); });
        md::IovCursor cur(iov, cnt);   // a stream's blocking write moves all of it
        return md::emulate(t.hub, fd, t.v, true, md::iov_total(iov, cnt), true, [&](std::size_t done) {
            cur.seek(done);
            return orig::pwritev2(fd, cur.data(), cur.count(), -1, flags);
        });
    }
    if (off >= -1 && !t.v.emulate && md::file_routed(t.v)) return md::file_io_writev2(fd, iov, cnt, off, flags);
    return orig::pwritev2(fd, iov, cnt, off, flags);
}
ssize_t pwritev64v2(int fd, const iovec* iov, int cnt, off64_t off, int flags) {
    return pwritev2(fd, iov, cnt, off, flags);
}

}  // extern "C"
