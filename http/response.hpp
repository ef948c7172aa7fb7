// http/response.hpp — how a handler answers, Go's ResponseWriter shape: set the status
// and headers, then either send(body) once (sent with Content-Length) or write() pieces
// (chunked for HTTP/1.1 when no length was set, close-delimited for HTTP/1.0). Whatever
// the handler leaves unfinished the server finishes when it returns; any use after that
// throws Error. HEAD, 204 and 304 answers never carry a body.
#pragma once

#include "http/errors.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace gev::http {

namespace detail {
class Conn;
}

// The reason phrase of a status ("Not Found"); "" for an unknown code.
std::string_view reason_phrase(int status) noexcept;

class Response {
public:
    // Before anything is sent (else Error). `reason` defaults to the standard phrase.
    void set_status(int status, std::string_view reason = {});
    int status() const noexcept { return status_; }
    // Adds a header line (names as given; repeated names are sent repeated).
    // Content-Length sets the body length write()s must add up to; Connection: close
    // ends the connection after this response; Transfer-Encoding and Date are the
    // server's (a Date given here replaces the server's). Throws Error once sent, or
    // for CR/LF in a name or value.
    void add_header(std::string_view name, std::string_view value);
    // The whole response with Content-Length: body.size(); at most once, and not after
    // write(). A small answer is queued and goes out in one send when the handler
    // returns (with the answers to pipelined requests after it); a large body goes now.
    void send(std::string_view body);
    // Sends the headers (on the first call) and `data` now; parks until it is handed
    // to the kernel. Throws net::SocketError when the client is gone.
    void write(std::string_view data);
    // Whether the status line has gone out.
    bool headers_sent() const noexcept { return headers_sent_; }
    // Body bytes handed over so far.
    std::uint64_t body_bytes() const noexcept { return body_bytes_; }

private:
    friend class detail::Conn;
    void check_open(const char* op) const;

    detail::Conn* conn_ = nullptr;
    int status_ = 200;
    std::string_view reason_;
    std::optional<std::uint64_t> length_;   // a Content-Length the handler set
    bool close_ = false;                    // the handler asked for Connection: close
    bool has_date_ = false;
    bool headers_sent_ = false;
    bool chunked_ = false;
    bool finished_ = false;                 // the handler returned
    std::uint64_t body_bytes_ = 0;
};

}  // namespace gev::http
