// http/conn_read.cpp — the reading half of a connection: the idle wait (no buffer held),
// the header block through llhttp with the header limits and the slowloris deadline,
// the checks llhttp leaves to its caller (Host, Transfer-Encoding, version, Expect,
// whitespace before a colon, obs-fold), and the body stream.
#include "http/conn.hpp"

#include "runtime/hub.hpp"
#include "runtime/io.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace gev::http::detail {

namespace {

constexpr std::size_t block = 4096;

// Recycled 4 KiB blocks of this thread (bounded), freed when the thread ends.
struct BlockPool {
    std::vector<char*> free;
    ~BlockPool() {
        for (char* p : free) delete[] p;
    }
};
thread_local BlockPool blocks;

const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
        llhttp_settings_t t;
        llhttp_settings_init(&t);
        t.on_url = &Conn::on_url;
        t.on_header_field = &Conn::on_field;
        t.on_header_field_complete = &Conn::on_field_complete;
        t.on_header_value = &Conn::on_value;
        t.on_header_value_complete = &Conn::on_value_complete;
        t.on_headers_complete = &Conn::on_headers_complete;
        t.on_body = &Conn::on_body;
        t.on_message_complete = &Conn::on_message_complete;
        return t;
    }();
    return s;
}

int status_for(llhttp_errno_t e) noexcept {
    switch (e) {
        case HPE_INVALID_VERSION: return 505;
        case HPE_INVALID_TRANSFER_ENCODING: return 501;
        default: return 400;
    }
}

}  // namespace

void Buf::ensure(std::size_t n) {
    if (n <= cap) return;
    std::size_t c = cap != 0 ? cap : block;
    while (c < n) c *= 2;
    char* q;
    if (c == block && !blocks.free.empty()) {
        q = blocks.free.back();
        blocks.free.pop_back();
    } else {
        q = new char[c];
    }
    if (len != 0) std::memcpy(q, p, len);
    std::size_t keep = len;
    release();
    p = q;
    cap = c;
    len = keep;
}

void Buf::release() noexcept {
    if (p != nullptr) {
        if (cap == block && blocks.free.size() < 256) blocks.free.push_back(p);
        else delete[] p;
    }
    p = nullptr;
    cap = len = 0;
}

Conn::Conn(Server::State& st, net::Socket sock, net::Address peer)
    : st_(st), sock_(std::move(sock)), peer_(peer) {
    init();
}

Conn::Conn(Server::State& st, net::TlsSocket sock, net::Address peer)
    : st_(st), tls_(std::move(sock)), tls_on_(true), peer_(peer) {
    // A send stalls at most idle_timeout per wait, as sendmsg's deadline does in plain HTTP.
    tls_.set_timeout(st_.options.idle_timeout);
    init();
}

void Conn::init() {
    llhttp_init(&parser_, HTTP_REQUEST, &settings());
    parser_.data = this;
    req_.conn_ = this;
    req_.remote_ = &peer_;
    st_.counters.connections.fetch_add(1, std::memory_order_relaxed);
    st_.counters.open.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(st_.mu);
    next_ = st_.conns;
    if (next_ != nullptr) next_->prev_ = this;
    st_.conns = this;
}

Conn::~Conn() {
    {
        std::lock_guard lock(st_.mu);
        (prev_ != nullptr ? prev_->next_ : st_.conns) = next_;
        if (next_ != nullptr) next_->prev_ = prev_;
    }
    st_.counters.open.fetch_sub(1, std::memory_order_relaxed);
}

void Conn::close_if_idle() noexcept {
    int expected = idle;
    if (idle_.compare_exchange_strong(expected, closing)) ::shutdown(fd(), SHUT_RDWR);
}

int Conn::recv_into(char* p, std::size_t n, std::int64_t deadline) {
    if (tls_on_) return tls_recv(p, n, deadline);
    return recv_raw(p, n, deadline);
}

int Conn::recv_raw(char* p, std::size_t n, std::int64_t deadline) {
    gev::detail::IoOp op;
    op.kind = gev::detail::IoKind::recv;
    op.fd = fd();   // TLS: only the lingering close reads the raw stream
    op.buf = p;
    op.len = n;
    gev::detail::IoResult w = gev::detail::Hub::require("gev::http").poller().io(op, deadline);
    // This file's reads speak -errno: a deadline is -ETIMEDOUT, a close -ECANCELED.
    int r = w.ready() ? w.res : w.outcome == gev::detail::WaitOutcome::timed_out ? -ETIMEDOUT : -ECANCELED;
    if (r > 0) st_.counters.bytes_in.fetch_add(static_cast<std::uint64_t>(r), std::memory_order_relaxed);
    return r;
}

// Between requests: pipelined bytes go on at once; else the connection waits with no
// buffer of its own (the first bytes land on this fiber's stack, then are copied).
bool Conn::wait_request() {
    if (pos_ < in_.len) {   // answers to pipelined requests go out together, 64 KiB at most
        if (out_.len >= 64 * 1024) flush();
        return true;
    }
    flush();
    in_.release();
    out_.release();
    res_headers_.release();
    pos_ = 0;
    if (fields_.capacity() > 32) std::vector<std::pair<Span, Span>>().swap(fields_);
    idle_.store(idle);
    if (st_.stopping.load()) return false;
    gev::detail::Hub& hub = gev::detail::Hub::require("gev::http");
    const MaybeDuration& t = st_.options.idle_timeout;
    char first[1024];
    int r = recv_into(first, sizeof first, t ? hub.deadline_after(*t) : -1);
    int expected = idle;
    if (!idle_.compare_exchange_strong(expected, busy)) return false;   // stop() closed it
    if (r <= 0) {
        if (r == -ETIMEDOUT) st_.counters.timeouts.fetch_add(1, std::memory_order_relaxed);
        if (r == 0) peer_closed_ = true;
        return false;
    }
    in_.ensure(block);
    std::memcpy(in_.p, first, static_cast<std::size_t>(r));
    in_.len = static_cast<std::size_t>(r);
    return true;
}

int Conn::fill(std::int64_t deadline) {
    if (in_.len == in_.cap) in_.ensure(in_.len + 1);
    int r = recv_into(in_.p + in_.len, in_.cap - in_.len, deadline);
    if (r > 0) in_.len += static_cast<std::size_t>(r);
    return r;
}

int Conn::execute(std::size_t n) {
    const char* start = in_.p + pos_;
    exec_start_ = start;
    auto e = llhttp_execute(&parser_, start, n);
    if (e == HPE_OK) {
        pos_ += n;
    } else if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        pos_ = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - in_.p);
        if (e == HPE_PAUSED_UPGRADE) upgrade_ = message_done_ = true;
        else llhttp_resume(&parser_);
    }
    return e;
}

// Reads one header block; false when the connection is to end (after an answer for
// a malformed or oversized request, or quietly when the client left or was too slow).
bool Conn::read_head() {
    if (pos_ > 0) {   // pipelined bytes move to the front: the block starts at 0
        std::memmove(in_.p, in_.p + pos_, in_.len - pos_);
        in_.len -= pos_;
        pos_ = 0;
    }
    url_ = field_ = value_ = {};
    fields_.clear();
    trailer_store_.clear();
    trailer_fields_.clear();
    head_done_ = message_done_ = url_done_ = in_trailers_ = false;
    expect_continue_ = continue_sent_ = upgrade_ = broken_ = false;
    reject_ = 0;
    body_read_ = 0;
    body_deadline_ = -1;
    const Options& o = st_.options;
    std::int64_t deadline = -1;
    for (;;) {
        if (pos_ == in_.len) {
            if (deadline < 0 && o.header_timeout)
                deadline = gev::detail::Hub::require("gev::http").deadline_after(*o.header_timeout);
            int r = fill(deadline);
            if (r == -ETIMEDOUT) {
                st_.counters.timeouts.fetch_add(1, std::memory_order_relaxed);
                send_error(408);
                return false;
            }
            if (r <= 0) {
                if (r == 0) peer_closed_ = true;
                st_.counters.resets.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
        }
        int e = execute(in_.len - pos_);
        if (e == HPE_PAUSED && head_done_) break;
        if (e != HPE_OK) return reject(reject_ != 0 ? reject_ : status_for(static_cast<llhttp_errno_t>(e))), false;
        if (pos_ > o.max_header_bytes) return reject(url_done_ ? 431 : 414), false;
    }
    if (pos_ > o.max_header_bytes) return reject(url_.off + url_.len > o.max_header_bytes ? 414 : 431), false;
    body_base_ = pos_;
    in_.ensure(std::max(in_.len, pos_ + 1024));   // room for the body; the views below stay put
    build_request();
    if (int status = head_checks()) return reject(status), false;
    keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
    return true;
}

void Conn::build_request() {
    auto view = [this](Span s) { return std::string_view(in_.p + s.off, s.len); };
    req_.method_ = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    req_.target_ = view(url_);
    std::size_t q = req_.target_.find('?');
    req_.path_ = req_.target_.substr(0, q);
    req_.query_ = q == std::string_view::npos ? std::string_view() : req_.target_.substr(q + 1);
    req_.minor_ = parser_.http_minor;
    req_.headers_.clear();
    req_.trailers_.clear();
    for (auto& [f, v] : fields_) req_.headers_.add(view(f), view(v));
    req_.chunked_ = (parser_.flags & F_CHUNKED) != 0;
    req_.content_length_.reset();
    if (parser_.flags & F_CONTENT_LENGTH) req_.content_length_ = parser_.content_length;
}

// What llhttp leaves to its caller (it checks these after this point, or not at all).
int Conn::head_checks() {
    const Headers& h = req_.headers_;
    if (parser_.http_major != 1 || parser_.http_minor > 1) return 505;
    std::size_t hosts = h.count("Host");
    if (parser_.http_minor == 1 ? hosts != 1 : hosts > 1) return 400;
    std::vector<std::string_view> te = h.get_all("Transfer-Encoding");
    if (!te.empty()) {
        if (h.contains("Content-Length")) return 400;   // the smuggling shape
        if (te.size() != 1 || !iequals(te[0], "chunked")) return 501;
        req_.chunked_ = true;   // llhttp raises F_CHUNKED only after this point
    }
    if (parser_.method == HTTP_CONNECT) return 501;
    if (req_.content_length_ && *req_.content_length_ > st_.options.max_body_bytes) return 413;
    if (auto expect = h.get("Expect")) {
        if (!iequals(*expect, "100-continue")) return 417;
        expect_continue_ = parser_.http_minor == 1;
    }
    return 0;
}

std::size_t Conn::read_body(std::span<char> dst, bool discard) {
    if (message_done_ || (dst.empty() && !discard)) return 0;
    if (broken_) throw Error(EBADMSG, "read body: the request body could not be read on");
    if (expect_continue_ && !continue_sent_) send_continue();
    bool bytes_needed = req_.chunked_ || req_.content_length_.value_or(0) > 0;
    for (;; bytes_needed = true) {
        if (pos_ == in_.len && bytes_needed) {
            if (pos_ == in_.cap) pos_ = in_.len = body_base_;   // all consumed: reuse the space
            // A body that stalls longer than idle_timeout ends the request (drains use
            // their own, shorter deadline).
            std::int64_t deadline = body_deadline_;
            if (deadline < 0 && st_.options.idle_timeout)
                deadline = gev::detail::Hub::require("gev::http").deadline_after(*st_.options.idle_timeout);
            int r = fill(deadline);
            if (r <= 0) {
                broken_ = true;
                if (r == -ETIMEDOUT) throw net::SocketTimeout("read body: timed out");
                if (r == 0) throw net::SocketError(ECONNRESET, "read body: the client closed the connection mid-body");
                throw net::SocketError(-r, "read body");
            }
        }
        std::size_t feed = discard ? in_.len - pos_ : std::min(in_.len - pos_, dst.size());
        body_dst_ = dst.data();
        body_cap_ = discard ? feed : dst.size();
        body_got_ = 0;
        discarding_ = discard;
        int e = execute(feed);
        body_dst_ = nullptr;
        discarding_ = false;
        if (e != HPE_OK && e != HPE_PAUSED && e != HPE_PAUSED_UPGRADE) {
            broken_ = true;
            throw RequestError(reject_ != 0 ? reject_ : 400,
                               std::string("read body: ") + llhttp_get_error_reason(&parser_));
        }
        body_read_ += body_got_;
        if (body_read_ > st_.options.max_body_bytes) {
            broken_ = true;
            throw RequestError(413, "read body: over the server's limit of " +
                                        std::to_string(st_.options.max_body_bytes) + " bytes");
        }
        if (body_got_ > 0 || message_done_) return body_got_;
    }
}

// Reads away what the handler left of the body, so the next request is framed right;
// close instead when it is too much, malformed, or the client still awaits 100-continue.
Conn::Next Conn::drain_body() {
    if (message_done_) return Next::keep;
    if (broken_ || (expect_continue_ && !continue_sent_)) return Next::close;
    std::uint64_t drained = 0;
    if (const MaybeDuration& t = st_.options.header_timeout)
        body_deadline_ = gev::detail::Hub::require("gev::http").deadline_after(*t);
    try {
        while (std::size_t n = read_body({}, true))   // no scratch: a deep stack costs RSS per connection
            if ((drained += n) > st_.options.max_drain_bytes) return Next::close;
    } catch (const std::system_error&) {
        return Next::close;
    }
    return Next::keep;
}

}  // namespace gev::http::detail
