// http/conn_write.cpp — the writing half of a connection: the status line and headers
// with the framing the server chooses (Content-Length, chunked, or close-delimited),
// responses kept in one output buffer so a small answer is one send and pipelined
// answers go out together, the error answers, and the lingering close after them.
#include "http/conn.hpp"

#include "runtime/hub.hpp"
#include "runtime/io.hpp"

#include <sys/uio.h>

#include <charconv>
#include <cerrno>

namespace gev::http::detail {

namespace {

constexpr std::size_t inline_body = 16 * 1024;   // bodies up to this are copied into out_

bool bodyless_status(int s) noexcept { return (s >= 100 && s < 200) || s == 204 || s == 304; }

void append_number(Buf& b, std::uint64_t v, int base = 10) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v, base);
    b.append(std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

}  // namespace

void Conn::send_all(std::string_view a, std::string_view b) {
    if (tls_on_) return tls_send(a, b);
    iovec iov[2];
    int n = 0;
    for (std::string_view s : {a, b})
        if (!s.empty()) iov[n++] = {const_cast<char*>(s.data()), s.size()};
    iovec* v = iov;
    while (n > 0) {
        msghdr msg{};
        msg.msg_iov = v;
        msg.msg_iovlen = static_cast<std::size_t>(n);
        gev::detail::IoOp op;
        op.kind = gev::detail::IoKind::sendmsg;
        op.fd = sock_.fileno();
        op.msg = &msg;
        op.flags = MSG_NOSIGNAL;
        // A client that reads nothing for idle_timeout is dropped (nginx's send_timeout).
        gev::detail::Hub& hub = gev::detail::Hub::require("gev::http");
        const MaybeDuration& t = st_.options.idle_timeout;
        gev::detail::IoResult w = hub.poller().io(op, t ? hub.deadline_after(*t) : -1);
        int r = w.res;
        if (!w.ready() || r < 0) {
            broken_ = true;
            if (w.outcome == gev::detail::WaitOutcome::timed_out || r == -ETIMEDOUT)
                throw net::SocketTimeout("send: the client read nothing for idle_timeout");
            if (w.gone() || r == -ECANCELED) throw net::SocketError(EBADF, "send: the connection was closed");
            throw net::SocketError(-r, "send");
        }
        st_.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(r), std::memory_order_relaxed);
        auto sent = static_cast<std::size_t>(r);
        while (n > 0 && sent >= v->iov_len) {
            sent -= v->iov_len;
            ++v;
            --n;
        }
        if (n > 0) {
            v->iov_base = static_cast<char*>(v->iov_base) + sent;
            v->iov_len -= sent;
        }
    }
}

void Conn::flush() {
    if (out_.len == 0) return;
    std::size_t n = out_.len;
    out_.len = 0;   // a failed send leaves nothing to resend
    ++flushes_;
    send_all(std::string_view(out_.p, n));
}

void Conn::send_continue() {
    continue_sent_ = true;
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    flush();
}

void Conn::set_reason(Response& r, std::string_view reason) {
    reason_store_.assign(reason);
    r.reason_ = reason_store_;
}

void Conn::add_header(Response& r, std::string_view name, std::string_view value) {
    for (std::string_view s : {name, value})
        if (s.find_first_of("\r\n") != std::string_view::npos || s.find('\0') != std::string_view::npos)
            throw Error(EINVAL, "add_header: CR, LF or NUL in a header");
    if (name.empty() || name.find_first_of(" \t:") != std::string_view::npos)
        throw Error(EINVAL, "add_header: a malformed header name");
    if (iequals(name, "Content-Length")) {
        std::uint64_t v = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || end != value.data() + value.size())
            throw Error(EINVAL, "add_header: Content-Length is not a number");
        r.length_ = v;
        return;   // written with the framing
    }
    if (iequals(name, "Transfer-Encoding")) throw Error(EINVAL, "add_header: the server sets Transfer-Encoding");
    if (iequals(name, "Connection") && iequals(value, "close")) {
        r.close_ = true;
        return;
    }
    if (iequals(name, "Date")) r.has_date_ = true;
    res_headers_.append(name);
    res_headers_.append(": ");
    res_headers_.append(value);
    res_headers_.append("\r\n");
}

// The status line and headers, framing included; `length` is the body's size when the
// whole body is known now.
void Conn::write_head(Response& r, std::optional<std::uint64_t> length) {
    bool head = parser_.method == HTTP_HEAD;
    out_.ensure(out_.len + 160 + res_headers_.len);
    out_.append(req_.minor_ == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out_, static_cast<std::uint64_t>(r.status_));
    out_.append(" ");
    out_.append(r.reason_.empty() ? reason_phrase(r.status_) : r.reason_);
    out_.append("\r\n");
    if (!r.has_date_) {
        out_.append("Date: ");
        out_.append(http_date());
        out_.append("\r\n");
    }
    out_.append(res_headers_.view());
    if (length && !r.length_) r.length_ = length;
    if (bodyless_status(r.status_)) {
        r.length_.reset();
    } else if (r.length_) {
        out_.append("Content-Length: ");
        append_number(out_, *r.length_);
        out_.append("\r\n");
    } else if (req_.minor_ == 1) {
        out_.append("Transfer-Encoding: chunked\r\n");
        r.chunked_ = !head;
    } else {
        keep_alive_ = false;   // HTTP/1.0 without a length: the close ends the body
    }
    if (r.close_ || st_.stopping.load(std::memory_order_relaxed)) keep_alive_ = false;
    if (!keep_alive_) out_.append("Connection: close\r\n");
    else if (req_.minor_ == 0) out_.append("Connection: keep-alive\r\n");
    out_.append("\r\n");
    r.headers_sent_ = true;
}

void Conn::send_body(Response& r, std::string_view data, bool whole) {
    bool head = parser_.method == HTTP_HEAD;
    if (whole) {
        if (r.length_ && *r.length_ != data.size())
            throw Error(EINVAL, "send: the body's size differs from the Content-Length set");
        write_head(r, data.size());
    } else if (!r.headers_sent_) {
        write_head(r, std::nullopt);
    }
    if (bodyless_status(r.status_)) {
        if (!data.empty()) throw Error(EINVAL, "write: status " + std::to_string(r.status_) + " allows no body");
        if (whole) return;
        return flush();
    }
    if (r.length_ && r.body_bytes_ + data.size() > *r.length_)
        throw Error(EMSGSIZE, "write: more bytes than the Content-Length set");
    r.body_bytes_ += data.size();
    if (head) return whole ? void() : flush();
    if (r.chunked_) {
        if (data.empty()) return flush();
        append_number(out_, data.size(), 16);
        out_.append("\r\n");
    }
    if (data.size() <= inline_body) {
        out_.append(data);
    } else {
        std::size_t n = out_.len;
        out_.len = 0;
        ++flushes_;
        send_all(std::string_view(out_.p, n), data);
    }
    if (r.chunked_) out_.append("\r\n");
    if (!whole) flush();   // a stream's pieces go out as they are written
}

// After the handler returned: the end of a chunked body, or an empty 200.
Conn::Next Conn::finish_response(Response& r) {
    if (!r.headers_sent_) send_body(r, {}, true);
    else if (r.chunked_) out_.append("0\r\n\r\n");
    else if (r.length_ && r.body_bytes_ != *r.length_ && parser_.method != HTTP_HEAD) broken_ = true;
    r.finished_ = true;
    return broken_ || !keep_alive_ ? Next::close : Next::keep;
}

void Conn::send_error(int status) {
    std::string_view reason = reason_phrase(status);
    out_.append(req_.minor_ == 0 && head_done_ ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out_, static_cast<std::uint64_t>(status));
    out_.append(" ");
    out_.append(reason);
    out_.append("\r\nDate: ");
    out_.append(http_date());
    out_.append("\r\nContent-Type: text/plain\r\nContent-Length: ");
    append_number(out_, reason.size() + 1);
    out_.append("\r\nConnection: close\r\n\r\n");
    out_.append(reason);
    out_.append("\n");
    keep_alive_ = false;
    try {
        flush();
    } catch (const net::SocketError&) {   // the client is gone: nothing to tell
    }
}

void Conn::reject(int status) {
    auto& c = st_.counters;
    (status == 413 || status == 414 || status == 431 ? c.too_large : status == 408 ? c.timeouts : c.bad_requests)
        .fetch_add(1, std::memory_order_relaxed);
    send_error(status);
}

// Closing with unread input makes the kernel send a reset, which can destroy the
// answer before the client reads it: end our side, then read away what still comes
// (bounded in bytes and time) before the socket closes.
void Conn::linger_close() {
    if (peer_closed_ || (tls_on_ ? !tls_ : !sock_)) return;
    if (tls_on_ && !tls_close_notify()) return;
    if (::shutdown(fd(), SHUT_WR) != 0) return;
    gev::detail::Hub* hub = gev::detail::Hub::current();
    if (hub == nullptr) return;
    std::int64_t deadline = hub->deadline_after(std::chrono::milliseconds(500));
    char scratch[4096];
    for (std::size_t total = 0; total < (256u << 10);) {
        int r = recv_raw(scratch, sizeof scratch, deadline);   // TLS: records are dropped unread
        if (r <= 0) return;
        total += static_cast<std::size_t>(r);
    }
}

}  // namespace gev::http::detail
