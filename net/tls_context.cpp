// net/tls_context.cpp — TlsContext: one SSL_CTX and the callbacks gev puts on it
// (ALPN selection, SNI, the client session cache), plus TlsError's text. Callbacks run
// inside OpenSSL, so nothing here may park or let an exception escape into it.
#include "net/tls.hpp"

#include "net/tls_internal.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace gev::net {
namespace {

class TlsCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "tls"; }
    std::string message(int ev) const override {
        const char* r = ERR_reason_error_string(static_cast<unsigned long>(ev));
        return r != nullptr ? r : "tls error " + std::to_string(ev);
    }
};

struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr mem_bio(std::string_view pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// The server's ALPN choice: its first protocol the client also offers.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void* arg) {
    auto* wire = static_cast<std::vector<unsigned char>*>(arg);
    unsigned char* chosen = nullptr;
    int r = SSL_select_next_proto(&chosen, outlen, wire->data(), static_cast<unsigned>(wire->size()), in, inlen);
    if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

int pick_by_name(SSL* ssl, int*, void* arg) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) return SSL_TLSEXT_ERR_OK;
    try {
        TlsContext* other = static_cast<TlsContext*>(arg)->pick_for(name);
        if (other != nullptr && SSL_set_SSL_CTX(ssl, other->native()) == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
        return SSL_TLSEXT_ERR_OK;
    } catch (...) {   // never into OpenSSL
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
}

int new_client_session(SSL* ssl, SSL_SESSION* s) {
    auto* conn = static_cast<TlsSocket::Conn*>(SSL_get_app_data(ssl));
    if (conn == nullptr || conn->ctx == nullptr || conn->session_key.empty()) return 0;
    try {
        conn->ctx->store_session(conn->session_key, s);
    } catch (...) {   // store_session released the session already
    }
    return 1;   // the reference OpenSSL handed us is ours
}

}  // namespace

const std::error_category& tls_category() noexcept {
    static const TlsCategory c;
    return c;
}

TlsError::TlsError(std::error_code ec, const std::string& what, long verify_result)
    : SocketError(ec, what), what_(what), verify_result_(verify_result) {}

namespace tls_detail {

TlsError tls_error(const std::string& op, long verify_result) {
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    std::string text = op + ": ";
    std::error_code ec;
    if (e != 0) {
        ec = std::error_code(static_cast<int>(e & 0x7fffffffUL), tls_category());
        const char* r = ERR_reason_error_string(e);
        text += r != nullptr ? r : "tls error " + std::to_string(e);
    } else {
        ec = std::make_error_code(std::errc::protocol_error);
        text += "protocol error";
    }
    if (verify_result != X509_V_OK) text += std::string(" (") + X509_verify_cert_error_string(verify_result) + ")";
    return TlsError(ec, text, verify_result);
}

}  // namespace tls_detail

using tls_detail::tls_error;

TlsContext::TlsContext(TlsRole role) : role_(role) {
    ctx_ = SSL_CTX_new(role == TlsRole::client ? TLS_client_method() : TLS_server_method());
    if (ctx_ == nullptr) throw tls_error("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    // Partial writes and a moving buffer: a send may return after one record, and a
    // retry after WANT_WRITE need not pass the same pointer.
    SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (role == TlsRole::client) {
        check_hostname_ = true;
        session_reuse_ = true;
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        if (SSL_CTX_set_default_verify_paths(ctx_) != 1) ERR_clear_error();
        SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx_, new_client_session);
    } else {
        static const unsigned char sid[] = "gev";
        SSL_CTX_set_session_id_context(ctx_, sid, sizeof sid - 1);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    }
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

void TlsContext::load_cert_chain(const std::string& cert_file, const std::string& key_file) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str()) != 1)
        throw tls_error("load_cert_chain " + cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        throw tls_error("load_cert_chain " + key_file);
    if (SSL_CTX_check_private_key(ctx_) != 1) throw tls_error("load_cert_chain " + key_file);
}

void TlsContext::load_cert_chain_pem(std::string_view cert_pem, std::string_view key_pem) {
    BioPtr certs = mem_bio(cert_pem);
    X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
    if (leaf == nullptr) throw tls_error("load_cert_chain_pem certificate");
    int ok = SSL_CTX_use_certificate(ctx_, leaf);
    X509_free(leaf);
    if (ok != 1) throw tls_error("load_cert_chain_pem certificate");
    SSL_CTX_clear_chain_certs(ctx_);
    while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr))
        if (SSL_CTX_add0_chain_cert(ctx_, extra) != 1) {
            X509_free(extra);
            throw tls_error("load_cert_chain_pem chain");
        }
    ERR_clear_error();   // the loop ends on "no start line"
    BioPtr key = mem_bio(key_pem);
    EVP_PKEY* pk = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
    if (pk == nullptr) throw tls_error("load_cert_chain_pem key");
    ok = SSL_CTX_use_PrivateKey(ctx_, pk);
    EVP_PKEY_free(pk);
    if (ok != 1 || SSL_CTX_check_private_key(ctx_) != 1) throw tls_error("load_cert_chain_pem key");
}

void TlsContext::load_verify_locations(const std::string& ca_file, const std::string& ca_dir) {
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.empty() ? nullptr : ca_file.c_str(),
                                      ca_dir.empty() ? nullptr : ca_dir.c_str()) != 1)
        throw tls_error("load_verify_locations " + ca_file + ca_dir);
}

void TlsContext::load_verify_pem(std::string_view ca_pem) {
    BioPtr in = mem_bio(ca_pem);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    int n = 0;
    while (X509* ca = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) {
        int ok = X509_STORE_add_cert(store, ca);
        X509_free(ca);
        if (ok != 1) throw tls_error("load_verify_pem");
        ++n;
    }
    if (n == 0) throw tls_error("load_verify_pem");
    ERR_clear_error();
}

void TlsContext::set_default_verify_paths() {
    if (SSL_CTX_set_default_verify_paths(ctx_) != 1) throw tls_error("set_default_verify_paths");
}

void TlsContext::set_verify(TlsVerify mode) {
    int m = mode == TlsVerify::none       ? SSL_VERIFY_NONE
            : mode == TlsVerify::peer     ? SSL_VERIFY_PEER
                                          : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx_, m, nullptr);
}

void TlsContext::set_min_version(TlsVersion v) {
    SSL_CTX_set_min_proto_version(ctx_, v == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
}

void TlsContext::set_alpn(const std::vector<std::string>& protocols) {
    alpn_wire_.clear();
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255) throw TlsError(std::make_error_code(std::errc::invalid_argument),
                                                        "set_alpn: protocol names are 1 to 255 bytes");
        alpn_wire_.push_back(static_cast<unsigned char>(p.size()));
        alpn_wire_.insert(alpn_wire_.end(), p.begin(), p.end());
    }
    if (role_ == TlsRole::client) {
        if (SSL_CTX_set_alpn_protos(ctx_, alpn_wire_.data(), static_cast<unsigned>(alpn_wire_.size())) != 0)
            throw tls_error("set_alpn");
    } else {
        SSL_CTX_set_alpn_select_cb(ctx_, alpn_wire_.empty() ? nullptr : select_alpn, &alpn_wire_);
    }
}

void TlsContext::set_sni_callback(std::function<TlsContext*(std::string_view)> pick) {
    sni_ = std::move(pick);
    SSL_CTX_set_tlsext_servername_callback(ctx_, (sni_ ? pick_by_name : nullptr));
    SSL_CTX_set_tlsext_servername_arg(ctx_, this);
}

TlsContext* TlsContext::pick_for(std::string_view name) const {
    TlsContext* c = sni_ ? sni_(name) : nullptr;
    return c == this ? nullptr : c;
}

std::shared_ptr<SSL_SESSION> TlsContext::cached_session(const std::string& key) {
    std::lock_guard lock(sessions_mu_);
    auto it = sessions_.find(key);
    return it == sessions_.end() ? nullptr : it->second;
}

void TlsContext::store_session(const std::string& key, SSL_SESSION* s) {
    std::shared_ptr<SSL_SESSION> p(s, SSL_SESSION_free);
    std::lock_guard lock(sessions_mu_);
    sessions_[key] = std::move(p);
}

}  // namespace gev::net
