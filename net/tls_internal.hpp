// net/tls_internal.hpp — what tls_context.cpp, tls_socket.cpp and tls_server.cpp share
// (not installed): a connection's state, and TlsError built from OpenSSL's error queue.
#pragma once

#include "net/tls.hpp"
#include "sync/semaphore.hpp"

#include <string>

struct bio_st;

namespace gev::net {

// One connection's state, at a fixed address (OpenSSL's app data points here).
// read_lock orders receivers, write_lock senders; the handshake and a receiver that
// must flush a write take read_lock, then write_lock; a sender never waits for read_lock.
struct TlsSocket::Conn {
    Conn() = default;
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    ~Conn();   // frees ssl if close() did not

    Socket sock;
    ssl_st* ssl = nullptr;
    TlsContext* ctx = nullptr;
    std::string peer;          // "127.0.0.1:8443" for messages
    std::string session_key;   // clients reusing sessions: "name:port"
    Lock read_lock;
    Lock write_lock;
    bool handshaken = false;
    std::string broken;        // why the connection is unusable ("" while usable)
};

namespace tls_detail {
// TlsError for `op` from the thread's OpenSSL error queue (emptied), with the
// certificate verification result appended when it is not X509_V_OK.
TlsError tls_error(const std::string& op, long verify_result = 0);
// A BIO over fd that never raises SIGPIPE (tls_bio.cpp); nullptr when out of memory.
bio_st* socket_bio(int fd);
}  // namespace tls_detail

}  // namespace gev::net
