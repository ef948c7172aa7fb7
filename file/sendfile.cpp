// file/sendfile.cpp — gev::sendfile: sendfile(2) from a File to a non-blocking socket,
// parking on the socket's writability whenever it is full (the "try, wait, retry" shape).
// The page-cache copy happens in the calling thread, as nginx's and gunicorn's do.
#include "file/file.hpp"

#include "net/errors.hpp"

#include <sys/sendfile.h>

#include <cerrno>

namespace gev {

std::size_t sendfile(net::Socket& sock, File& file, off_t offset, std::size_t count) {
    if (file.closed()) throw FileError(EBADF, "sendfile " + file.name());
    if (sock.fileno() < 0) throw net::SocketError(EBADF, "sendfile");
    file.flush();   // what was written through the File is part of the file
    std::size_t sent = 0;
    while (sent < count) {
        off_t at = offset + static_cast<off_t>(sent);
        ssize_t r = ::sendfile(sock.fileno(), file.fileno(), &at, count - sent);
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
