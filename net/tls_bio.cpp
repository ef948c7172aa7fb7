// net/tls_bio.cpp — the BIO under every TlsSocket: OpenSSL's socket BIO writes with
// write(2), which raises SIGPIPE on a connection the peer has gone from; gev's sockets
// never do (MSG_NOSIGNAL), so this one sends with MSG_NOSIGNAL and receives with
// recv(2), both non-blocking, reporting EAGAIN as "retry" for WANT_READ/WANT_WRITE.
#include "net/tls_internal.hpp"

#include <openssl/bio.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace gev::net::tls_detail {
namespace {

int fd_of(BIO* b) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b))); }

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int bio_write(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    ssize_t n = ::send(fd_of(b), data, static_cast<std::size_t>(len), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && would_block(errno)) BIO_set_retry_write(b);
    return static_cast<int>(n);
}

int bio_read(BIO* b, char* out, int len) {
    BIO_clear_retry_flags(b);
    ssize_t n = ::recv(fd_of(b), out, static_cast<std::size_t>(len), MSG_DONTWAIT);
    if (n < 0 && would_block(errno)) BIO_set_retry_read(b);
    return static_cast<int>(n);
}

long bio_ctrl(BIO* b, int cmd, long, void* ptr) {
    switch (cmd) {
        case BIO_CTRL_FLUSH: return 1;   // nothing is buffered here
        case BIO_C_GET_FD:
            if (ptr != nullptr) *static_cast<int*>(ptr) = fd_of(b);
            return fd_of(b);
        default: return 0;
    }
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
        BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "gev socket");
        if (bm == nullptr) return bm;
        BIO_meth_set_write(bm, bio_write);
        BIO_meth_set_read(bm, bio_read);
        BIO_meth_set_ctrl(bm, bio_ctrl);
        BIO_meth_set_create(bm, bio_create);
        return bm;
    }();
    return m;
}

}  // namespace

bio_st* socket_bio(int fd) {
    BIO_METHOD* m = method();
    BIO* b = m != nullptr ? BIO_new(m) : nullptr;
    if (b != nullptr) BIO_set_data(b, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    return b;
}

}  // namespace gev::net::tls_detail
