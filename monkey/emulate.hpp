// monkey/emulate.hpp — a blocking call emulated on a managed (really non-blocking) fd:
// "try, wait, retry", the shape of every IO call in gev. A stream write (or a read
// with MSG_WAITALL) keeps going until all of it is through, as the kernel's blocking
// call does, and returns the partial count if an error or the timeout comes after
// some bytes moved. SO_RCVTIMEO/SO_SNDTIMEO end the wait with EAGAIN. A number the
// hooks' table finds naming another file after a wait ends the call with EBADF
// (wait_fd's rule). errno is left untouched on success, and is the real call's on failure.
#pragma once

#include "monkey/fd_table.hpp"
#include "monkey/wait.hpp"

#include <poll.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>

namespace gev::monkey::detail {

// attempt(done) makes one real, non-blocking call for the part after the first
// `done` bytes and returns its result (errno set on -1). `whole`: continue until
// `total` bytes have moved or the stream ends.
template <class Attempt>
ssize_t emulate(Hub* hub, int fd, const FdView& v, bool out, std::size_t total, bool whole, Attempt attempt) {
    int saved = errno;
    std::size_t done = 0;
    FdWait waits;
    for (;;) {
        ssize_t r = attempt(done);
        if (r > 0) {
            done += static_cast<std::size_t>(r);
            if (!whole || done >= total) break;
            continue;
        }
        if (r == 0) break;   // end of stream, an empty datagram, or nothing asked for
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            if (done > 0) break;
            return -1;
        }
        int w = wait_fd(hub, fd, out ? POLLOUT : POLLIN, v, waits);
        // A number reused behind the hooks' back before the call waited: the new file is
        // not ours to emulate, and the last try's errno is its answer.
        if (w == ESTALE) return done > 0 ? static_cast<ssize_t>(done) : -1;
        if (w != 0) {
            if (done > 0) break;
            errno = w == ETIMEDOUT ? EAGAIN : w;
            return -1;
        }
    }
    errno = saved;
    return static_cast<ssize_t>(done);
}

}  // namespace gev::monkey::detail
