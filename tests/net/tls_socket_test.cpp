// tests/net/tls_socket_test.cpp — TlsSocket over a loopback pair: handshake and echo,
// verification failures and their text, ALPN, SNI, close_notify, Reader over TLS,
// concurrent recv and send from two fibers, and kill/Timeout at the park points.
#include "tls_support.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>

using namespace std::chrono_literals;
using gev::net::Reader;
using gev::net::SocketError;
using gev::net::TlsContext;
using gev::net::TlsError;
using gev::net::TlsRole;
using gev::net::TlsSocket;
using namespace gev::testing;

namespace {

struct Pair {
    TlsSocket client;
    TlsSocket server;
};

// A connected pair, not yet shaken hands.
Pair tls_pair(TlsContext& cctx, TlsContext& sctx, const std::string& name = "localhost") {
    auto [c, s] = tcp_pair();
    return {TlsSocket(std::move(c), cctx, name), TlsSocket(std::move(s), sctx)};
}

// Both handshakes at once; the server's error (if any) comes back as text.
std::string shake(Pair& p) {
    std::string server_error;
    auto g = gev::spawn([&] {
        try {
            p.server.handshake();
        } catch (const SocketError& e) {
            server_error = e.what();
        }
    });
    try {
        p.client.handshake();
    } catch (...) {   // the client's alert ends the server's handshake too
        g.join();
        throw;
    }
    g.join();
    return server_error;
}

}  // namespace

TEST_CASE("a TLS 1.3 handshake verifies the server and echoes data both ways", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        REQUIRE(shake(p).empty());
        REQUIRE(p.client.version() == "TLSv1.3");
        REQUIRE(p.server.version() == "TLSv1.3");
        REQUIRE_FALSE(p.client.cipher().empty());
        REQUIRE(p.client.peer_subject() == "CN=localhost");
        REQUIRE(p.server.peer_subject().empty());
        p.client.sendall("hello over tls");
        REQUIRE(p.server.recv_exactly(14) == "hello over tls");
        p.server.sendall("and back");
        REQUIRE(p.client.recv_exactly(8) == "and back");
    });
}

TEST_CASE("an OpenSSL error another fiber left on the thread's queue fails no TLS call", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);   // stale, before the handshake
        REQUIRE(shake(p).empty());
        std::string got;
        ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);   // left by unrelated code on this thread
        auto reader = gev::spawn([&] { got = p.server.recv_exactly(5); });
        gev::sleep(0ms);                            // SSL_read finds nothing and parks
        REQUIRE_FALSE(reader.ready());
        ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
        p.client.sendall("fresh");
        reader.join();
        REQUIRE(got == "fresh");
        ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
        auto writer = gev::spawn([&] {
            gev::sleep(1ms);
            p.server.sendall("back");
        });
        REQUIRE(p.client.recv_exactly(4) == "back");   // SSL_read parked first here too
        writer.join();
    });
}

TEST_CASE("a client that trusts another CA fails the handshake with OpenSSL's reason", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx, false);
        Pair p = tls_pair(cctx, sctx);
        std::string port = std::to_string(p.client.socket().peer_address().port());
        try {
            shake(p);
            FAIL("the handshake succeeded");
        } catch (const TlsError& e) {
            REQUIRE(std::string(e.what()) ==
                    "tls handshake 127.0.0.1:" + port + ": certificate verify failed (unable to get local issuer certificate)");
            REQUIRE(e.verify_result() != 0);
        }
        REQUIRE(p.client.broken());
        REQUIRE_THROWS_WITH(p.client.recv(10), Catch::Contains("unusable after a failed tls handshake"));
    });
}

TEST_CASE("a certificate for another host name is rejected as a hostname mismatch", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx, "wrong.test");
        REQUIRE_THROWS_WITH(shake(p), Catch::Contains("certificate verify failed (hostname mismatch)"));
        Pair ip = tls_pair(cctx, sctx, "127.0.0.2");
        REQUIRE_THROWS_WITH(shake(ip), Catch::Contains("(IP address mismatch)"));
        Pair ok = tls_pair(cctx, sctx, "127.0.0.1");   // the certificate names the IP too
        REQUIRE(shake(ok).empty());
    });
}

TEST_CASE("an expired certificate is rejected by the client with a clear error", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx, "expired");
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        REQUIRE_THROWS_WITH(shake(p), Catch::EndsWith(": certificate verify failed (certificate has expired)"));
    });
}

TEST_CASE("a client without a server name to check is refused unless checking is off", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        REQUIRE_THROWS_WITH(tls_pair(cctx, sctx, ""), Catch::Contains("needs a server name"));
        TlsContext made = TlsContext::client();   // the factories: the same defaults
        REQUIRE((made.role() == TlsRole::client && made.check_hostname()));
        REQUIRE(TlsContext::server().role() == TlsRole::server);
        cctx.set_check_hostname(false);
        Pair p = tls_pair(cctx, sctx, "");
        REQUIRE(shake(p).empty());
    });
}

TEST_CASE("ALPN selects the server's first protocol the client offers, or none", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client), other(TlsRole::client);
        server_ctx_for(sctx);
        sctx.set_alpn({"h2", "http/1.1"});
        client_ctx_trusting(cctx);
        cctx.set_alpn({"http/1.1", "h2"});
        client_ctx_trusting(other);
        other.set_alpn({"smtp"});
        Pair p = tls_pair(cctx, sctx);
        shake(p);
        REQUIRE(p.client.alpn_selected() == "h2");
        REQUIRE(p.server.alpn_selected() == "h2");
        Pair q = tls_pair(other, sctx);
        REQUIRE(shake(q).empty());
        REQUIRE(q.client.alpn_selected().empty());
    });
}

TEST_CASE("the SNI callback picks the certificate for the name the client asked for", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), other(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        server_ctx_for(other, "other.test");
        std::vector<std::string> asked;
        sctx.set_sni_callback([&](std::string_view name) -> TlsContext* {
            asked.emplace_back(name);
            return name == "other.test" ? &other : nullptr;
        });
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx, "other.test");
        REQUIRE(shake(p).empty());
        REQUIRE(p.client.peer_subject() == "CN=other.test");
        Pair q = tls_pair(cctx, sctx, "localhost");
        REQUIRE(shake(q).empty());
        REQUIRE(q.client.peer_subject() == "CN=localhost");
        REQUIRE(asked == std::vector<std::string>{"other.test", "localhost"});
    });
}

TEST_CASE("shutdown sends close_notify: the peer reads the end and may still answer", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        shake(p);
        p.client.sendall("last words");
        p.client.shutdown();
        REQUIRE(p.server.recv_exactly(10) == "last words");
        REQUIRE(p.server.recv(100).empty());
        p.server.sendall("bye");
        p.server.shutdown();
        REQUIRE(p.client.recv_exactly(3) == "bye");
        REQUIRE(p.client.recv(100).empty());
    });
}

TEST_CASE("Reader reads lines over TLS", "[net][tls][reader]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        shake(p);
        p.client.sendall("first line\nsecond ");
        p.client.sendall("line\nno newline");
        p.client.shutdown();
        Reader r(p.server, 7);
        REQUIRE(r.readline() == "first line\n");
        REQUIRE(r.readline() == "second line\n");
        REQUIRE(r.readline() == "no newline");
        REQUIRE(r.readline().empty());
    });
}

TEST_CASE("one fiber receives while another sends 1 MiB on the same TlsSocket", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        shake(p);
        auto echo = gev::spawn([&] { tls_echo(std::move(p.server), {}); });
        std::string data(1 << 20, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i * 7 % 26);
        auto sender = gev::spawn([&] {
            for (std::size_t at = 0; at < data.size(); at += 10000)
                p.client.sendall(std::string_view(data).substr(at, 10000));
        });
        std::string got;
        std::array<char, 8192> buf;
        while (got.size() < data.size()) {
            std::size_t n = p.client.recv(buf);
            REQUIRE(n > 0);
            got.append(buf.data(), n);
        }
        sender.join();
        REQUIRE(got == data);
        p.client.shutdown();
        echo.join();
    });
}

TEST_CASE("1-byte writes arrive whole and in order", "[net][tls]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        Pair p = tls_pair(cctx, sctx);
        shake(p);
        auto echo = gev::spawn([&] { tls_echo(std::move(p.server), {}); });
        const std::size_t total = 64 * 1024;
        auto sender = gev::spawn([&] {
            for (std::size_t i = 0; i < total; ++i) p.client.send(std::string(1, static_cast<char>('0' + i % 10)));
        });
        std::string got;
        while (got.size() < total) got += p.client.recv(4096);
        sender.join();
        std::string want(total, '\0');
        for (std::size_t i = 0; i < total; ++i) want[i] = static_cast<char>('0' + i % 10);
        REQUIRE(got == want);
        p.client.shutdown();
        echo.join();
    });
}

TEST_CASE("certificates, keys and CAs load from PEM text too; bad PEM names what failed", "[net][tls]") {
    const TestPki& pki = TestPki::get();
    run([&] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        sctx.load_cert_chain_pem(TestPki::read(pki.cert("localhost")), TestPki::read(pki.key("localhost")));
        cctx.load_verify_pem(TestPki::read(pki.ca()));
        Pair p = tls_pair(cctx, sctx);
        REQUIRE(shake(p).empty());
        REQUIRE(p.client.peer_subject() == "CN=localhost");
        REQUIRE_THROWS_WITH(cctx.load_verify_pem("not a certificate"), Catch::StartsWith("load_verify_pem: "));
        REQUIRE_THROWS_AS(sctx.load_cert_chain_pem("junk", "junk"), TlsError);
        REQUIRE_THROWS_WITH(sctx.load_cert_chain(pki.cert("localhost"), pki.key("other.test")),
                            Catch::Contains("key values mismatch"));
    });
}

TEST_CASE("a server that requires a client certificate rejects a client without one", "[net][tls]") {
    const TestPki& pki = TestPki::get();
    run([&] {
        TlsContext sctx(TlsRole::server), anonymous(TlsRole::client), known(TlsRole::client);
        server_ctx_for(sctx);
        sctx.load_verify_locations(pki.ca());
        sctx.set_verify(gev::net::TlsVerify::required);
        client_ctx_trusting(anonymous);
        client_ctx_trusting(known);
        known.load_cert_chain(pki.cert("other.test"), pki.key("other.test"));
        Pair p = tls_pair(known, sctx);
        REQUIRE(shake(p).empty());
        p.client.sendall("x");   // TLS 1.3: the server checks the client's certificate after the client is done
        REQUIRE(p.server.recv_exactly(1) == "x");
        REQUIRE(p.server.peer_subject() == "CN=other.test");
        Pair q = tls_pair(anonymous, sctx);
        std::string server_error = shake(q);
        REQUIRE_THAT(server_error, Catch::Contains("peer did not return a certificate"));
        REQUIRE_THROWS_AS(q.client.recv(10), SocketError);   // the server's alert arrives at the client's first read
    });
}
