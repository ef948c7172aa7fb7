// tests/net/tls_server_test.cpp — StreamServer with options.tls: echo through
// tls_connect, session resumption on the second connection, and handshakes that fail
// (garbage, silence past the handshake timeout, a reset) while other clients are
// served; two hubs; the stack depth a TLS 1.3 handshake and echo reach.
#include "tls_support.hpp"

#include "runtime/fiber.hpp"

#include <array>
#include <cstdio>

using namespace std::chrono_literals;
using gev::net::Address;
using gev::net::ServerOptions;
using gev::net::Socket;
using gev::net::SocketError;
using gev::net::StreamServer;
using gev::net::TlsContext;
using gev::net::TlsRole;
using gev::net::TlsSocket;
using gev::net::tls_connect;
using namespace gev::testing;

namespace {

const Address kAnyPort("127.0.0.1", 0);

constexpr unsigned char kPaint = 0x5a;

// Paints the unused part of the current fiber's stack below this frame.
__attribute__((noinline, no_sanitize("address"))) void paint_stack() {
    const gev::detail::Stack& st = gev::detail::current_fiber()->stack;
    auto* low = reinterpret_cast<volatile unsigned char*>(st.base);
    auto* here = static_cast<unsigned char*>(__builtin_frame_address(0)) - 1024;
    for (volatile unsigned char* p = low; p < here; ++p) *p = kPaint;
}

// Bytes of the current fiber's stack ever used: from the top to the lowest unpainted byte.
__attribute__((noinline, no_sanitize("address"))) std::size_t stack_high_water() {
    const gev::detail::Stack& st = gev::detail::current_fiber()->stack;
    auto* p = reinterpret_cast<volatile unsigned char*>(st.base);
    while (p < reinterpret_cast<unsigned char*>(st.top()) && *p == kPaint) ++p;
    return static_cast<std::size_t>(reinterpret_cast<unsigned char*>(st.top()) - p);
}

// Uses about `bytes` of stack (the measurement's calibration).
__attribute__((noinline)) void touch_stack(std::size_t bytes) {
    auto* block = static_cast<volatile unsigned char*>(__builtin_alloca(bytes));
    for (std::size_t i = 0; i < bytes; i += 64) block[i] = 1;
}

std::string round_trip(TlsSocket& t, const std::string& msg) {
    t.sendall(msg);
    return t.recv_exactly(msg.size());
}

}  // namespace

TEST_CASE("a TLS StreamServer echoes to tls_connect clients", "[net][tls][server]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        ServerOptions o;
        o.tls = &sctx;
        StreamServer server(kAnyPort, tls_echo, o);
        server.start();
        std::vector<gev::Greenlet<std::string>> clients;
        for (int i = 0; i < 10; ++i)
            clients.push_back(gev::spawn([&, i] {
                TlsSocket t = tls_connect("localhost", server.address().port(), cctx, 5s);
                return round_trip(t, "client " + std::to_string(i));
            }));
        for (int i = 0; i < 10; ++i) REQUIRE(clients[i].get() == "client " + std::to_string(i));
        REQUIRE(sctx.handshake_failures() == 0);
        server.stop();
    });
}

TEST_CASE("create_connection with options.tls connects and shakes hands like tls_connect", "[net][tls][server]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        ServerOptions o;
        o.tls = &sctx;
        StreamServer server(kAnyPort, tls_echo, o);
        server.start();
        TlsSocket t = gev::net::create_connection("localhost", server.address().port(), {.tls = &cctx, .timeout = 5s});
        REQUIRE(round_trip(t, "options") == "options");
        REQUIRE_THROWS_WITH(gev::net::create_connection("localhost", server.address().port(), gev::net::TlsConnectOptions{}),
                            Catch::Contains("options.tls is null"));
        server.stop();
    });
}

TEST_CASE("a plain handler with options.tls is refused", "[net][tls][server]") {
    TlsContext sctx(TlsRole::server);
    ServerOptions o;
    o.tls = &sctx;
    REQUIRE_THROWS_WITH(StreamServer(kAnyPort, [](Socket, Address) {}, o), Catch::Contains("options.tls"));
    REQUIRE_THROWS_WITH(StreamServer(kAnyPort, tls_echo, ServerOptions{}), Catch::Contains("needs options.tls"));
}

TEST_CASE("the second connection resumes the first one's session", "[net][tls][server]") {
    TestPki::get();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client), fresh(TlsRole::client);
        server_ctx_for(sctx);
        client_ctx_trusting(cctx);
        client_ctx_trusting(fresh);
        fresh.set_session_reuse(false);
        ServerOptions o;
        o.tls = &sctx;
        StreamServer server(kAnyPort, tls_echo, o);
        server.start();
        std::uint16_t port = server.address().port();
        std::vector<bool> reused;
        for (TlsContext* ctx : {&cctx, &cctx, &fresh, &fresh}) {
            TlsSocket t = tls_connect("localhost", port, *ctx);
            REQUIRE(round_trip(t, "ticket") == "ticket");   // TLS 1.3 tickets come after the handshake
            reused.push_back(t.session_reused());
        }
        REQUIRE(reused == std::vector<bool>{false, true, false, false});
        server.stop();
    });
}

TEST_CASE("failed handshakes are counted and never disturb the other connections", "[net][tls][server]") {
    TestPki::get();
    int before = count_fds();
    run([] {
        TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
        server_ctx_for(sctx);
        sctx.set_handshake_timeout(50ms);
        client_ctx_trusting(cctx);
        ServerOptions o;
        o.tls = &sctx;
        StreamServer server(kAnyPort, tls_echo, o);
        server.start();
        Address at = server.address();
        Socket silent = gev::net::create_connection(at);   // sends nothing: its timeout fires
        Socket stalled = gev::net::create_connection(at);   // half a ClientHello, then nothing
        stalled.sendall(std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
        Socket garbage = gev::net::create_connection(at);
        garbage.sendall("GET / HTTP/1.0\r\n\r\n");
        {
            Socket reset = gev::net::create_connection(at);
            reset.sendall(std::string_view("\x16\x03\x01\x02\x00", 5));
            ::linger l{1, 0};
            reset.setsockopt(SOL_SOCKET, SO_LINGER, l);
        }
        TlsSocket good = tls_connect("localhost", at.port(), cctx);   // served meanwhile
        REQUIRE(round_trip(good, "served") == "served");
        std::array<char, 64> buf;
        try {
            while (garbage.recv(buf) > 0) {   // an alert, then the end, or a reset
            }
        } catch (const SocketError& e) {
            REQUIRE(e.code().value() == ECONNRESET);
        }
        REQUIRE(eventually([&] { return sctx.handshake_failures() == 4; }));
        REQUIRE(silent.recv(buf) == 0);   // closed by the server once its 50 ms passed
        REQUIRE(stalled.recv(buf) == 0);
        REQUIRE(round_trip(good, "still served") == "still served");
        TlsSocket after = tls_connect("localhost", at.port(), cctx);
        REQUIRE(round_trip(after, "after") == "after");
        good.close();
        after.close();
        server.stop();
    });
    REQUIRE(count_fds() == before);
}

TEST_CASE("a TLS server on two hubs serves clients from both", "[net][tls][server][threads]") {
    TestPki::get();
    gev::run(
        [] {
            TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
            server_ctx_for(sctx);
            client_ctx_trusting(cctx);
            ServerOptions o;
            o.tls = &sctx;
            o.threads = 2;
            o.handoff = true;
            StreamServer server(kAnyPort, tls_echo, o);
            server.start();
            std::uint16_t port = server.address().port();
            auto on = [&](unsigned hub) {
                return gev::spawn_on(hub, [&] {
                    std::string all;
                    for (int i = 0; i < 4; ++i) {
                        TlsSocket t = tls_connect("localhost", port, cctx);
                        all += round_trip(t, std::to_string(i));
                    }
                    return all;
                });
            };
            auto a = on(0), b = on(1);
            REQUIRE(a.get() == "0123");
            REQUIRE(b.get() == "0123");
            server.stop();
        },
        hubs(2));
}

TEST_CASE("a TLS 1.3 handshake and echo fit in half the default fiber stack", "[net][tls][stack]") {
    TestPki::get();
    run([] {
        auto calibration = gev::spawn([] {
            paint_stack();
            touch_stack(40000);
            return stack_high_water();
        });
        REQUIRE(calibration.get() >= 40000);
        for (const char* name : {"localhost", "rsa.test"}) {
            TlsContext sctx(TlsRole::server), cctx(TlsRole::client);
            server_ctx_for(sctx, name);
            client_ctx_trusting(cctx);
            auto [c, s] = tcp_pair();
            auto server = gev::spawn([&, s = std::move(s)]() mutable {
                paint_stack();
                TlsSocket t(std::move(s), sctx);
                t.handshake();
                t.sendall(t.recv_exactly(100000));
                t.shutdown();
                return stack_high_water();
            });
            auto client = gev::spawn([&, c = std::move(c)]() mutable {
                paint_stack();
                TlsSocket t(std::move(c), cctx, name);
                t.handshake();
                std::string data(100000, 'z');
                t.sendall(data);
                REQUIRE(t.recv_exactly(data.size()) == data);
                return stack_high_water();
            });
            std::size_t cs = client.get(), ss = server.get();
            std::printf("tls stack high-water (%s key): client %zu bytes, server %zu bytes (default stack %zu)\n",
                        std::string_view(name) == "rsa.test" ? "RSA 2048" : "P-256", cs, ss,
                        gev::default_stack_size());
            REQUIRE(cs < gev::default_stack_size() / 2);
            REQUIRE(ss < gev::default_stack_size() / 2);
        }
    });
}
