// proc/pipe.hpp — gev::subprocess::Pipe: the parent's end of a child's stdin, stdout or
// stderr. The fd is non-blocking and close-on-exec; read and write park only the calling
// fiber (the poller waits for the pipe, both backends). Writing to a pipe whose reader
// has gone throws EPIPE and never raises SIGPIPE. A pipe belongs to the hub of the
// thread that first waits on it, like a socket.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace gev::subprocess {

class Pipe {
public:
    Pipe() noexcept = default;
    // Takes ownership of fd and makes it non-blocking. Throws std::system_error.
    static Pipe adopt(int fd);
    Pipe(Pipe&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Pipe& operator=(Pipe&& o) noexcept;
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() { close(); }

    int fileno() const noexcept { return fd_; }
    // False for a stream that is not a pipe (inherited, /dev/null, an fd) or was closed.
    explicit operator bool() const noexcept { return fd_ >= 0; }

    // Parks until some bytes arrive; returns how many, 0 at end of stream.
    // Throws std::system_error ("read fd 7: ...").
    std::size_t read(std::span<std::byte> buf);
    // Up to max bytes ("" at end of stream).
    std::string read(std::size_t max);
    // Everything until end of stream (Python's read() with no size).
    std::string read_all();
    // Parks until at least one byte fits; returns how many were written. Throws
    // std::system_error (EPIPE: the child closed its end or exited).
    std::size_t write(std::span<const std::byte> buf);
    std::size_t write(std::string_view s) { return write(std::as_bytes(std::span(s))); }
    // All of s, parking as often as needed.
    void write_all(std::string_view s);
    // Closes now (the child sees end of stream on its stdin); a fiber waiting on this
    // pipe wakes with EBADF. Idempotent.
    void close() noexcept;

private:
    explicit Pipe(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace gev::subprocess
