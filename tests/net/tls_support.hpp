// tests/net/tls_support.hpp — a throwaway PKI for the TLS tests, made with the openssl
// CLI into a temp dir once per test binary: a test CA, leaves for "localhost" (with
// IP 127.0.0.1), "other.test" and "rsa.test" (RSA 2048) and an expired "localhost" signed by it, and a second, unrelated CA. No key is
// committed. Also contexts preloaded with them and a TLS echo handler.
#pragma once

#include "net_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace gev::testing {

using net::TlsContext;
using net::TlsSocket;

class TestPki {
public:
    static const TestPki& get() {
        static TestPki pki;
        return pki;
    }
    std::string ca() const { return dir_ / "ca.pem"; }
    std::string other_ca() const { return dir_ / "ca2.pem"; }
    std::string cert(const std::string& name) const { return dir_ / (name + ".pem"); }
    std::string key(const std::string& name) const { return dir_ / (name + ".key"); }
    static std::string read(const std::string& path) {
        std::ifstream f(path);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }

private:
    TestPki() {
        make_ca("ca", "gev test CA");
        make_ca("ca2", "unrelated CA");
        make_leaf("localhost", "DNS:localhost,IP:127.0.0.1");
        make_leaf("other.test", "DNS:other.test");
        make_leaf("rsa.test", "DNS:rsa.test", "-newkey rsa:2048");
        make_leaf("expired", "DNS:localhost", "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1", "-1");
    }
    void sh(const std::string& cmd) const {
        std::string full = "cd '" + dir_.path().string() + "' && (" + cmd + ") >/dev/null 2>&1";
        if (std::system(full.c_str()) != 0) FAIL("openssl failed: " << cmd);
    }
    void make_ca(const std::string& name, const std::string& cn) const {
        sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout " + name +
           ".key -out " + name + ".pem -subj '/CN=" + cn + "' -addext basicConstraints=critical,CA:TRUE");
    }
    void make_leaf(const std::string& name, const std::string& san,
                   const std::string& key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1",
                   const std::string& days = "2") const {
        sh("printf 'subjectAltName=" + san + "\\n' > " + name + ".ext && openssl req " + key +
           " -nodes -keyout " + name + ".key -out " + name + ".csr -subj '/CN=" + name +
           "' && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days " + days + " -out " +
           name + ".pem -extfile " + name + ".ext");
    }
    TempDir dir_;
};

inline void server_ctx_for(TlsContext& ctx, const std::string& name = "localhost") {
    const TestPki& pki = TestPki::get();
    ctx.load_cert_chain(pki.cert(name), pki.key(name));
}

inline void client_ctx_trusting(TlsContext& ctx, bool right_ca = true) {
    const TestPki& pki = TestPki::get();
    ctx.load_verify_locations(right_ca ? pki.ca() : pki.other_ca());
}

// Echoes over TLS until the peer ends the stream; errors end it quietly.
inline void tls_echo(TlsSocket conn, net::Address) {
    std::array<char, 16384> buf;
    try {
        while (std::size_t n = conn.recv(buf)) conn.sendall(std::string_view(buf.data(), n));
        conn.shutdown();
    } catch (const net::SocketError&) {
    }
}

}  // namespace gev::testing
