// http/conn_tls.cpp — a connection's byte stream over TLS (HTTPS): the same reads and
// writes as plain HTTP with their deadlines, through the TlsSocket that StreamServer's
// handshake produced. Errors become the -errno results and exceptions the plain path
// gives, so the serve loop does not know which stream it reads.
#include "http/conn.hpp"

#include "runtime/hub.hpp"
#include "runtime/timeout.hpp"

#include <cerrno>
#include <optional>

namespace gev::http::detail {

namespace {

// A TlsError's code is OpenSSL's, not an errno: report it as a protocol error.
int minus_errno(const net::SocketError& e) noexcept {
    const std::error_category& cat = e.code().category();
    if (cat == std::generic_category() || cat == std::system_category()) return -e.code().value();
    return -EPROTO;
}

}  // namespace

// The socket's timeout bounds one wait; a deadline (the slowloris bound) covers the
// whole call, so a record dribbled in byte by byte cannot stretch it.
int Conn::tls_recv(char* p, std::size_t n, std::int64_t deadline) {
    std::optional<Timeout> limit;
    if (deadline >= 0) {
        std::int64_t left = deadline - gev::detail::Hub::require("gev::http").deadline_after(Duration(0));
        if (left <= 0) return -ETIMEDOUT;
        limit.emplace(Duration(left));
    }
    try {
        std::size_t r = tls_.recv(std::span<char>(p, n));
        st_.counters.bytes_in.fetch_add(r, std::memory_order_relaxed);
        return static_cast<int>(r);
    } catch (const Timeout& t) {
        if (!limit || !t.is(*limit)) throw;
        return -ETIMEDOUT;
    } catch (const net::SocketError& e) {   // SocketTimeout included
        return minus_errno(e);
    }
}

void Conn::tls_send(std::string_view a, std::string_view b) {
    try {
        for (std::string_view s : {a, b}) {
            if (s.empty()) continue;
            tls_.sendall(s);
            st_.counters.bytes_out.fetch_add(s.size(), std::memory_order_relaxed);
        }
    } catch (const net::SocketTimeout&) {
        broken_ = true;
        throw net::SocketTimeout("send: the client read nothing for idle_timeout");
    } catch (...) {   // a reset, a kill, a Timeout: a record may be half written
        broken_ = true;
        throw;
    }
}

// close_notify before the TCP half-close, so the client sees a clean end of the
// answer; false when it cannot be sent (the linger is then pointless).
bool Conn::tls_close_notify() {
    if (tls_.broken()) return false;
    tls_.set_timeout(std::chrono::milliseconds(500));
    try {
        tls_.shutdown();
        return true;
    } catch (const net::SocketError&) {
        return false;
    }
}

}  // namespace gev::http::detail
