// net/errors.hpp — what gev::net throws: std::system_error subclasses whose what()
// names the operation, e.g. "connect 127.0.0.1:1: Connection refused".
#pragma once

#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace gev::net {

// An OS failure of a socket operation (errno in code()).
class SocketError : public std::system_error {
public:
    SocketError(int err, const std::string& op) : std::system_error(err, std::generic_category(), op) {}
    SocketError(std::error_code ec, const std::string& op) : std::system_error(ec, op) {}
};

// A call waited longer than the socket's timeout (Python's socket.timeout; ETIMEDOUT).
class SocketTimeout : public SocketError {
public:
    explicit SocketTimeout(const std::string& op) : SocketError(ETIMEDOUT, op) {}
};

// Name resolution failed (Python's socket.gaierror); code() is in gai_category().
class ResolveError : public SocketError {
public:
    ResolveError(int eai, const std::string& op);
};

// recv_exactly / read_exactly met the end of the stream first; partial() is what came.
class IncompleteRead : public SocketError {
public:
    IncompleteRead(std::string partial, std::size_t wanted, const std::string& op);
    const std::string& partial() const noexcept { return partial_; }

private:
    std::string partial_;
};

namespace stream_detail {
// recv_exactly for a stream whose recv(span<char>) returns 0 at the end (Socket,
// TlsSocket): n bytes, or IncompleteRead carrying what came; what() names the call.
template <class Stream, class What>
std::string recv_exactly(Stream& stream, std::size_t n, What&& what) {
    std::string s(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        std::size_t k = stream.recv(std::span<char>(s).subspan(got));
        if (k == 0) {
            s.resize(got);
            throw IncompleteRead(std::move(s), n, what());
        }
        got += k;
    }
    return s;
}
}  // namespace stream_detail

// getaddrinfo's EAI_* codes.
const std::error_category& gai_category() noexcept;

}  // namespace gev::net
