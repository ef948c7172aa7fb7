// tests/http/http_support.hpp — what the gev::http tests share: a server on 127.0.0.1
// at a free port inside the test's runtime, a raw client socket that writes requests
// whole or a byte at a time, and a small reader of responses (status, headers,
// Content-Length / chunked / close-delimited body) so tests check bytes on the wire.
#pragma once

#include "../net/net_support.hpp"
#include "http/http.hpp"

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gev::testing {

using namespace std::chrono_literals;

// Options with small limits and timeouts, so tests of them are quick.
inline http::Options small_options() {
    http::Options o;
    o.max_header_bytes = 1024;
    o.max_headers = 16;
    o.max_body_bytes = 64 * 1024;
    o.max_drain_bytes = 8 * 1024;
    o.header_timeout = 200ms;
    o.idle_timeout = 2s;
    return o;
}

// A started server at 127.0.0.1:<free port>; stopped (0 grace) when it goes.
struct TestServer {
    std::unique_ptr<http::Server> server;
    explicit TestServer(http::Handler h, http::Options o = small_options())
        : server(std::make_unique<http::Server>(net::Address("127.0.0.1", 0), std::move(h), std::move(o))) {
        server->start();
    }
    ~TestServer() { server->stop(Duration{0}); }
    http::Server* operator->() const { return server.get(); }
    net::Socket connect() const {
        net::Socket s = net::create_connection(server->address(), 5s);
        return s;
    }
};

struct Reply {
    int status = 0;
    std::string version;
    std::multimap<std::string, std::string> headers;   // names lower-cased
    std::string body;
    std::string trailers;
    bool chunked = false;
    std::optional<std::string> header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        if (it == headers.end()) return std::nullopt;
        return it->second;
    }
};

// Reads responses from a socket, keeping what arrives past each one.
class ReplyReader {
public:
    explicit ReplyReader(net::Socket& s) : s_(s) {}

    // The next response; nullopt if the stream ended before its status line.
    // `head_request`: a response to HEAD (no body whatever the headers say).
    std::optional<Reply> next(bool head_request = false) {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!more()) return std::nullopt;
        Reply r;
        std::string_view head(buf_.data(), end);
        std::size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        r.version = std::string(line.substr(0, 8));
        std::from_chars(line.data() + 9, line.data() + 12, r.status);
        while (eol != std::string_view::npos) {
            head.remove_prefix(eol + 2);
            eol = head.find("\r\n");
            std::string_view h = head.substr(0, eol);
            std::size_t colon = h.find(':');
            std::string name(h.substr(0, colon));
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string_view v = h.substr(colon + 1);
            while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
            r.headers.emplace(name, std::string(v));
        }
        buf_.erase(0, end + 4);
        bool bodyless = head_request || r.status == 204 || r.status == 304 || r.status / 100 == 1;
        if (bodyless) return r;
        if (auto cl = r.header("content-length")) {
            std::size_t n = std::stoul(*cl);
            while (buf_.size() < n)
                if (!more()) FAIL("the stream ended inside a body");
            r.body = buf_.substr(0, n);
            buf_.erase(0, n);
        } else if (r.header("transfer-encoding") == std::optional<std::string>("chunked")) {
            r.chunked = true;
            for (;;) {
                std::size_t le;
                while ((le = buf_.find("\r\n")) == std::string::npos)
                    if (!more()) FAIL("the stream ended inside a chunk size");
                std::size_t n = std::stoul(buf_.substr(0, le), nullptr, 16);
                buf_.erase(0, le + 2);
                if (n == 0) {
                    while ((le = buf_.find("\r\n\r\n")) == std::string::npos && buf_.rfind("\r\n", 0) != 0)
                        if (!more()) FAIL("the stream ended inside the trailers");
                    if (buf_.rfind("\r\n", 0) == 0) buf_.erase(0, 2);
                    else buf_.erase(0, le + 4);
                    break;
                }
                while (buf_.size() < n + 2)
                    if (!more()) FAIL("the stream ended inside a chunk");
                r.body += buf_.substr(0, n);
                buf_.erase(0, n + 2);
            }
        } else {
            while (more()) {
            }
            r.body = std::move(buf_);
            buf_.clear();
        }
        return r;
    }

    // Whether the server closes the stream (after whatever else it sends) within the
    // socket's timeout; what came first is kept in rest().
    bool closed() {
        try {
            while (more()) {
            }
            return true;
        } catch (const net::SocketError& e) {
            return e.code().value() == ECONNRESET;
        }
    }
    const std::string& rest() const { return buf_; }

private:
    bool more() {
        char tmp[4096];
        std::size_t n = s_.recv(std::span<char>(tmp));
        buf_.append(tmp, n);
        return n > 0;
    }
    net::Socket& s_;
    std::string buf_;
};

// Sends s one byte at a time, yielding between bytes so the server sees each alone.
inline void send_bytewise(net::Socket& c, std::string_view s) {
    for (char ch : s) {
        c.sendall(std::string_view(&ch, 1));
        gev::sleep(Duration{0});
    }
}

// Sends `request` on a fresh connection and returns the one reply; checks that the
// server then closes the connection when `expect_close`.
inline Reply round_trip(const TestServer& srv, std::string_view request, bool expect_close = false) {
    net::Socket c = srv.connect();
    c.sendall(request);
    ReplyReader rd(c);
    std::optional<Reply> r = rd.next();
    REQUIRE(r.has_value());
    if (expect_close) CHECK(rd.closed());
    return *r;
}

// A handler answering "method target body" as text, for echo-style checks.
inline void echo_handler(http::Request& req, http::Response& res) {
    std::string body = req.read_all();
    res.send(std::string(req.method()) + " " + std::string(req.target()) + " " + body);
}

}  // namespace gev::testing
