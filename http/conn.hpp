// http/conn.hpp — internal: one HTTP connection, owned by its fiber (Server::State's
// serve loop runs Conn::serve). llhttp parses the bytes of one read buffer in place:
// it pauses after each header block and each message, so pipelined requests are taken
// one at a time; header fields are kept as offsets until the block is complete (the
// buffer may grow), then handed out as views. An idle connection holds no buffers.
// Over HTTPS the same loop reads and writes through a TlsSocket (conn_tls.cpp).
#pragma once

#include "http/server.hpp"
#include "sync/event.hpp"

#include <llhttp.h>

#include <atomic>
#include <cstring>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gev::http {

struct Server::State {
    Options options;
    Handler handler;
    struct Counters {
        std::atomic<std::uint64_t> requests{0}, bytes_in{0}, bytes_out{0}, connections{0}, open{0},
            bad_requests{0}, too_large{0}, timeouts{0}, handler_errors{0}, resets{0};
    } counters;
    std::atomic<bool> stopping{false};
    gev::Event stopped;                 // stop() has finished: serve_forever may return
    std::mutex mu;                      // guards the list (connections run on several hubs)
    detail::Conn* conns = nullptr;      // open connections, for stop(): an intrusive list
};

namespace detail {

// A growable byte buffer; 4 KiB blocks are recycled through a per-thread free list.
struct Buf {
    char* p = nullptr;
    std::size_t len = 0, cap = 0;
    Buf() = default;
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() { release(); }
    void ensure(std::size_t n);   // cap >= n, keeping the contents
    void release() noexcept;
    void append(std::string_view s) {
        if (s.empty()) return;   // memcpy from a null view is undefined, even for 0 bytes
        ensure(len + s.size());
        std::memcpy(p + len, s.data(), s.size());
        len += s.size();
    }
    std::string_view view() const noexcept { return {p, len}; }
};

// Offsets into the read buffer (it may move while a header block arrives).
struct Span {
    std::uint32_t off = 0, len = 0;
};

class Conn {
public:
    enum Idle : int { busy, idle, closing };

    Conn(Server::State& st, net::Socket sock, net::Address peer);
    // HTTPS: the socket after its handshake; the same loop over TLS records.
    Conn(Server::State& st, net::TlsSocket sock, net::Address peer);
    ~Conn();
    void serve();

    // Request's body stream.
    // Body bytes into dst, or (discard) read away whatever has arrived; 0 at the end.
    std::size_t read_body(std::span<char> dst, bool discard = false);
    bool body_done() const noexcept { return message_done_; }
    // Response's output.
    void add_header(Response& r, std::string_view name, std::string_view value);
    void send_body(Response& r, std::string_view body, bool whole);
    void set_reason(Response& r, std::string_view reason);

    // stop(): closes this connection if it is idle; any thread.
    void close_if_idle() noexcept;
    Conn* next_in_server() const noexcept { return next_; }

    // llhttp callbacks.
    static int on_url(llhttp_t* p, const char* at, std::size_t n);
    static int on_field(llhttp_t* p, const char* at, std::size_t n);
    static int on_field_complete(llhttp_t* p);
    static int on_value(llhttp_t* p, const char* at, std::size_t n);
    static int on_value_complete(llhttp_t* p);
    static int on_headers_complete(llhttp_t* p);
    static int on_body(llhttp_t* p, const char* at, std::size_t n);
    static int on_message_complete(llhttp_t* p);

private:
    enum class Next { keep, close };
    void init();
    // conn_read.cpp
    bool read_head();                       // false: the connection ends (quietly or after a reject)
    bool wait_request();                    // idle wait; false: closed, timed out or stopping
    int fill(std::int64_t deadline);        // recv more into in_; bytes, 0 at EOF, -errno
    int recv_into(char* p, std::size_t n, std::int64_t deadline);   // plaintext (TLS or not)
    int recv_raw(char* p, std::size_t n, std::int64_t deadline);    // the TCP stream
    int fd() noexcept { return tls_on_ ? tls_.fileno() : sock_.fileno(); }
    int execute(std::size_t n);             // llhttp over in_[pos_, pos_+n); HPE_* result
    int head_checks();                      // status to reject with, or 0
    void build_request();
    std::uint32_t off(const char* at) const noexcept { return static_cast<std::uint32_t>(at - in_.p); }
    Next drain_body();
    void reject(int status);                // counts it, answers it; the connection then ends
    void send_error(int status);            // a short plain-text answer with Connection: close
    void linger_close();
    // conn_write.cpp
    void write_head(Response& r, std::optional<std::uint64_t> length);
    Next finish_response(Response& r);
    void flush();
    void send_all(std::string_view a, std::string_view b = {});
    void send_continue();
    // conn_tls.cpp
    int tls_recv(char* p, std::size_t n, std::int64_t deadline);
    void tls_send(std::string_view a, std::string_view b);
    bool tls_close_notify();
    // server.cpp
    Next handle_one();
    void run_handler(Response& res);
    void go_idle() noexcept;

    Server::State& st_;
    Conn* prev_ = nullptr;          // the server's list, under st_.mu
    Conn* next_ = nullptr;
    net::Socket sock_;              // plain HTTP; empty over TLS
    net::TlsSocket tls_;            // HTTPS (tls_on_)
    bool tls_on_ = false;
    net::Address peer_;
    llhttp_t parser_;
    Buf in_, out_;
    std::size_t pos_ = 0;           // in_ parsed up to here; in_.len: filled up to here
    std::size_t head_start_ = 0;    // where the current header block begins
    std::size_t body_base_ = 0;     // body bytes may reuse in_ from here on
    std::atomic<int> idle_{busy};
    // The request being read.
    Span url_, field_, value_;
    std::vector<std::pair<Span, Span>> fields_;
    std::string trailer_store_;
    std::vector<std::pair<Span, Span>> trailer_fields_;   // offsets into trailer_store_
    bool head_done_ = false, message_done_ = false, url_done_ = false, in_trailers_ = false;
    bool expect_continue_ = false, continue_sent_ = false, keep_alive_ = true, upgrade_ = false;
    int reject_ = 0;
    std::uint64_t body_read_ = 0;
    char* body_dst_ = nullptr;
    std::size_t body_got_ = 0, body_cap_ = 0;
    bool discarding_ = false;
    std::string reason_store_;
    Buf res_headers_;               // the handler's header lines, ready to send
    Request req_;
    std::int64_t request_deadline_ = -1;
    bool broken_ = false;           // framing lost (a bad body, a short response): close after
    std::uint64_t flushes_ = 0;     // output handed to the kernel so far (in sends)
    bool peer_closed_ = false;      // the client ended the stream
    const char* exec_start_ = nullptr;   // where the current llhttp_execute began
    std::size_t field_end_ = 0;     // offset just past the last header-name piece
    std::int64_t body_deadline_ = -1;
};

// "Sun, 06 Nov 1994 08:49:37 GMT", formatted at most once a second per thread.
std::string_view http_date() noexcept;

}  // namespace detail
}  // namespace gev::http
