// file/sendfile.cpp — gev::sendfile: sendfile(2) from a File to a non-blocking socket,
// parking on the socket's writability whenever it is full (the "try, wait, retry" shape).
// The page-cache copy happens in the calling thread, as nginx's and gunicorn's do.
#include "file/file.hpp"

#include "net/errors.hpp"

#include <signal.h>
#include <sys/sendfile.h>

#include <cerrno>
#include <ctime>

namespace gev {

namespace {

// sendfile(2) has no MSG_NOSIGNAL: a peer that went away would raise SIGPIPE. The call
// runs with SIGPIPE blocked on this thread, and a SIGPIPE it queued is taken back, so
// the caller sees EPIPE as send() reports it (one SIGPIPE already pending is left be).
ssize_t sendfile_nosignal(int sock, int fd, off_t* at, std::size_t n) {
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t r = ::sendfile(sock, fd, at, n);
    int err = errno;
    // Even a call that sent some bytes may have queued one (its next chunk hit EPIPE).
    if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return r;
}

}  // namespace

std::size_t sendfile(net::Socket& sock, File& file, off_t offset, std::size_t count) {
    if (file.closed()) throw FileError(EBADF, "sendfile " + file.name());
    if (sock.fileno() < 0) throw net::SocketError(EBADF, "sendfile");
    file.flush();   // what was written through the File is part of the file
    std::size_t sent = 0;
    while (sent < count) {
        off_t at = offset + static_cast<off_t>(sent);
        ssize_t r = sendfile_nosignal(sock.fileno(), file.fileno(), &at, count - sent);
        if (r > 0) {
            sent += static_cast<std::size_t>(r);
            continue;
        }
        if (r == 0) break;   // the file ended
        if (errno == EAGAIN) {
            net::wait_write(sock.fileno(), sock.timeout());
            continue;
        }
        if (errno == EINTR) continue;
        int err = errno;
        if (err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ENOTSOCK)
            throw net::SocketError(err, "sendfile");
        throw FileError(err, "sendfile " + file.name());
    }
    return sent;
}

}  // namespace gev
