// net/reader.hpp — a buffered reader over a Socket (or any stream with Socket's
// recv(std::span<char>) and fileno(), such as TlsSocket) for line and delimiter protocols
// (Python's makefile().readline()). It never reads more than `max` bytes into one
// result, so a peer that never sends the delimiter cannot make it grow without bound.
#pragma once

#include "net/socket.hpp"

#include <concepts>
#include <span>
#include <string>
#include <string_view>

namespace gev::net {

class Reader {
public:
    // Reads from `s`, which must outlive the reader.
    template <class Stream>
        requires requires(Stream& s, std::span<char> b) {
            { s.recv(b) } -> std::convertible_to<std::size_t>;
            { s.fileno() } -> std::convertible_to<int>;
        }
    explicit Reader(Stream& s, std::size_t chunk = 4096)
        : stream_(&s),
          recv_([](void* p, std::span<char> b) { return static_cast<Stream*>(p)->recv(b); }),
          fileno_([](const void* p) { return static_cast<const Stream*>(p)->fileno(); }),
          chunk_(chunk) {}

    // Up to and including the next '\n'; shorter at end of stream ("" when nothing is
    // left), or exactly `max` bytes when no newline came within them.
    std::string readline(std::size_t max = 65536) { return read_until("\n", max); }
    // Same with any delimiter (not empty).
    std::string read_until(std::string_view delim, std::size_t max = 65536);
    // Up to n bytes: what is buffered, else one recv ("" at end of stream).
    std::string read(std::size_t n);
    // Exactly n bytes; throws IncompleteRead if the stream ends first.
    std::string read_exactly(std::size_t n);
    // Bytes received but not yet returned.
    std::string_view buffered() const noexcept { return std::string_view(buf_).substr(pos_); }

private:
    bool fill();   // one recv; false at end of stream
    std::string take(std::size_t n);

    void* stream_;
    std::size_t (*recv_)(void*, std::span<char>);
    int (*fileno_)(const void*);
    std::size_t chunk_;
    std::string buf_;
    std::size_t pos_ = 0;
};

}  // namespace gev::net
