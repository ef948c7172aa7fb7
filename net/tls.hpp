// net/tls.hpp — TLS over gev sockets with OpenSSL 3: TlsContext (certificates, trust,
// verification, ALPN, SNI, sessions) and TlsSocket (a Socket speaking TLS). OpenSSL is
// driven non-blocking: a call that would block returns WANT_READ/WANT_WRITE and the
// fiber parks on the fd outside OpenSSL, so a kill or Timeout never unwinds through it.
// Errors are TlsError (a SocketError) with OpenSSL's reason text.
#pragma once

#include "net/errors.hpp"
#include "net/socket.hpp"
#include "runtime/clock.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;
struct ssl_session_st;

namespace gev::net {

// A TLS failure: what() is "<operation> <peer>: <OpenSSL's reason>[ (<verify detail>)]",
// e.g. "tls handshake 127.0.0.1:8443: certificate verify failed (hostname mismatch)".
// code() is OpenSSL's packed error in tls_category(), or a generic errno.
class TlsError : public SocketError {
public:
    TlsError(std::error_code ec, const std::string& what, long verify_result = 0);
    const char* what() const noexcept override { return what_.c_str(); }
    // X509_V_* of a failed certificate verification (0: none).
    long verify_result() const noexcept { return verify_result_; }

private:
    std::string what_;
    long verify_result_;
};

// OpenSSL's packed error codes (ERR_get_error); message() is the reason string.
const std::error_category& tls_category() noexcept;

enum class TlsRole { client, server };
enum class TlsVersion { tls1_2, tls1_3 };
// none: no certificate checked. peer: the peer's certificate must verify when it sends
// one (a client always gets one). required: a server also demands a client certificate.
enum class TlsVerify { none, peer, required };

// Settings shared by many connections. Not copyable or movable: connections and
// callbacks refer to it, so it must outlive them. Configure it before use; afterwards
// it may be shared by the connections of every hub.
class TlsContext {
public:
    // Client default: verify the peer against the system store and check its host
    // name; server default: no client certificate. Minimum version TLS 1.2. Throws TlsError.
    explicit TlsContext(TlsRole role);
    static TlsContext client() { return TlsContext(TlsRole::client); }
    static TlsContext server() { return TlsContext(TlsRole::server); }
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    ~TlsContext();

    // Certificate chain (leaf first) and private key from PEM files or PEM text.
    void load_cert_chain(const std::string& cert_file, const std::string& key_file);
    void load_cert_chain_pem(std::string_view cert_pem, std::string_view key_pem);
    // Trusted CAs: a PEM file and/or a hashed directory, PEM text, or the system store.
    void load_verify_locations(const std::string& ca_file, const std::string& ca_dir = {});
    void load_verify_pem(std::string_view ca_pem);
    void set_default_verify_paths();

    void set_verify(TlsVerify mode);
    // Clients: check the certificate names the server name given to the socket.
    void set_check_hostname(bool on) noexcept { check_hostname_ = on; }
    bool check_hostname() const noexcept { return check_hostname_; }
    void set_min_version(TlsVersion v);
    // ALPN protocols in preference order ("h2", "http/1.1"); a server picks the first of
    // its own that the client offers, and proceeds without ALPN when none matches.
    void set_alpn(const std::vector<std::string>& protocols);
    // Servers: picks the context (certificate) for the name a client asked for; nullptr
    // or this context keeps this one. Runs inside OpenSSL: it must not park or throw
    // (an exception ends that handshake).
    void set_sni_callback(std::function<TlsContext*(std::string_view server_name)> pick);
    // Clients: remember the last session per server (name and port) and offer it on
    // the next connection (on by default). Servers always issue session tickets.
    void set_session_reuse(bool on) noexcept { session_reuse_ = on; }
    // StreamServer's bound on each connection's handshake (default 10 s).
    void set_handshake_timeout(Duration d) noexcept { handshake_timeout_ = d; }
    Duration handshake_timeout() const noexcept { return handshake_timeout_; }
    // Handshakes StreamServer gave up on (failed, timed out, peer gone).
    std::uint64_t handshake_failures() const noexcept { return handshake_failures_.load(); }

    TlsRole role() const noexcept { return role_; }
    ssl_ctx_st* native() const noexcept { return ctx_; }

    // For TlsSocket and StreamServer.
    void count_handshake_failure() noexcept { handshake_failures_.fetch_add(1); }
    std::shared_ptr<ssl_session_st> cached_session(const std::string& key);
    void store_session(const std::string& key, ssl_session_st* s);
    bool session_reuse() const noexcept { return session_reuse_; }
    TlsContext* pick_for(std::string_view name) const;

private:
    ssl_ctx_st* ctx_ = nullptr;
    TlsRole role_;
    bool check_hostname_ = false;
    bool session_reuse_ = false;
    Duration handshake_timeout_ = std::chrono::seconds(10);
    std::atomic<std::uint64_t> handshake_failures_{0};
    std::vector<unsigned char> alpn_wire_;
    std::function<TlsContext*(std::string_view)> sni_;
    std::mutex sessions_mu_;   // connections of several hubs share a client context
    std::unordered_map<std::string, std::shared_ptr<ssl_session_st>> sessions_;
};

// A TLS connection over a Socket. Move-only. One fiber may receive while another
// sends (a read lock and a write lock, as Go's crypto/tls); the handshake takes both.
// A kill, gev::Timeout or socket timeout lands only where a call parks on the fd:
// one that interrupts a handshake, or a send (or a recv that was flushing a write)
// with a record half written, leaves the connection unusable: later calls throw
// SocketError (ENOTCONN) saying so. An interrupted recv that was only waiting for
// bytes leaves it usable. A socket belongs to the hub of the thread that uses it.
class TlsSocket {
public:
    TlsSocket() noexcept;
    // Takes the connected socket. Clients: server_name is sent as SNI (unless it is an
    // IP address) and checked against the certificate when the context says so.
    TlsSocket(Socket sock, TlsContext& ctx, std::string server_name = {});
    TlsSocket(TlsSocket&&) noexcept;
    TlsSocket& operator=(TlsSocket&&) noexcept;
    ~TlsSocket();

    explicit operator bool() const noexcept;
    int fileno() const noexcept;
    // The TCP socket underneath (for options; reading or writing it breaks TLS).
    Socket& socket() noexcept;

    // Parks until the handshake is done; recv and send run it first if needed.
    // Throws TlsError ("tls handshake 127.0.0.1:8443: certificate verify failed ..."),
    // SocketError, SocketTimeout.
    void handshake();
    // Parks until some plaintext arrives; 0 at end of stream (close_notify, or the TCP
    // stream ending between records, as Python's suppress_ragged_eofs and Go do).
    std::size_t recv(std::span<std::byte> buf);
    std::size_t recv(std::span<char> buf) { return recv(std::as_writable_bytes(buf)); }
    std::size_t recv_into(std::span<std::byte> buf) { return recv(buf); }
    std::string recv(std::size_t max);
    // Exactly n bytes; IncompleteRead if the stream ends first.
    std::string recv_exactly(std::size_t n);
    // Encrypts and sends some of buf (at most a record); returns how many bytes.
    std::size_t send(std::span<const std::byte> buf);
    std::size_t send(std::string_view s) { return send(std::as_bytes(std::span(s))); }
    // All of buf, parking as often as needed (other senders wait for it to finish).
    void sendall(std::span<const std::byte> buf);
    void sendall(std::string_view s) { sendall(std::as_bytes(std::span(s))); }
    // Sends close_notify (parks until it is written); recv still works until the peer's.
    void shutdown();
    // Tries to send close_notify without waiting, then closes the socket. Idempotent.
    void close() noexcept;

    void set_timeout(MaybeDuration t) noexcept;
    MaybeDuration timeout() const noexcept;

    // After the handshake: the ALPN protocol ("" if none), "TLSv1.3", the cipher suite,
    // the peer certificate's subject ("" without one), whether a session was resumed.
    std::string alpn_selected() const;
    std::string version() const;
    std::string cipher() const;
    std::string peer_subject() const;
    bool session_reused() const;
    // Whether an interruption left the connection unusable.
    bool broken() const noexcept;

    struct Conn;

private:
    std::unique_ptr<Conn> c_;
};

// Connects to host:port (create_connection), then shakes hands with host as the server
// name. `timeout` bounds the connect and the handshake and stays the socket's timeout.
TlsSocket tls_connect(std::string_view host, std::uint16_t port, TlsContext& ctx,
                      MaybeDuration timeout = forever);

// The same, spelled as create_connection with options:
// `create_connection("example.org", 443, {.tls = &ctx, .timeout = 5s})`.
struct TlsConnectOptions {
    TlsContext* tls = nullptr;        // required: a client context
    MaybeDuration timeout = forever;  // as tls_connect's
};
// Throws std::system_error (EINVAL) when options.tls is null, else as tls_connect.
TlsSocket create_connection(std::string_view host, std::uint16_t port, const TlsConnectOptions& options);

}  // namespace gev::net
