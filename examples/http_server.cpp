// examples/http_server.cpp — gev::http serving a small API: GET / says hello, POST or
// PUT /echo sends the request body back, GET /stream?n=K streams K lines (chunked),
// anything else is 404. One fiber per connection; keep-alive, pipelining and
// 100-continue come from the server. SIGINT/SIGTERM stop it gracefully (requests in
// flight finish); SIGQUIT prints every fiber and goes on. --debug also serves
// gev::http::debug_handler() under /debug/ (fibers, stats as JSON, monkey state).
// --tls-cert C --tls-key K serves the same over HTTPS (PEM files; ALPN http/1.1).
// Run: build/examples/http_server --port 8080 [--threads N] [--host 0.0.0.0] [--debug]
//      [--tls-cert C --tls-key K]
//      then curl -s http://127.0.0.1:8080/  and  curl -s -d hi http://127.0.0.1:8080/echo
#include "gev.hpp"
#include "http/http.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

void handle(gev::http::Request& req, gev::http::Response& res) {
    std::string_view path = req.path();
    if (path == "/" && (req.method() == "GET" || req.method() == "HEAD")) {
        res.add_header("Content-Type", "text/plain");
        res.send("Hello, world!");
    } else if (path == "/echo" && (req.method() == "POST" || req.method() == "PUT")) {
        std::string body = req.read_all();
        res.add_header("Content-Type", "application/octet-stream");
        res.send(body);
    } else if (path == "/stream" && req.method() == "GET") {
        long n = std::atol(gev::http::query_param(req.query(), "n").value_or("10").c_str());
        res.add_header("Content-Type", "text/plain");
        for (long i = 0; i < n; ++i) res.write("line " + std::to_string(i) + "\n");
    } else {
        res.set_status(404);
        res.add_header("Content-Type", "text/plain");
        res.send("Not Found\n");
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 8080;
    unsigned threads = 1;
    bool debug = false;
    std::string tls_cert, tls_key;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--port") && i + 1 < argc) port = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = static_cast<unsigned>(std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!std::strcmp(argv[i], "--debug")) debug = true;
        else if (!std::strcmp(argv[i], "--tls-cert") && i + 1 < argc) tls_cert = argv[++i];
        else if (!std::strcmp(argv[i], "--tls-key") && i + 1 < argc) tls_key = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s --port P [--threads N] [--host H] [--debug] [--tls-cert C --tls-key K]\n",
                         argv[0]);
            return 2;
        }
    }
    if (tls_cert.empty() != tls_key.empty()) {
        std::fprintf(stderr, "%s: --tls-cert and --tls-key go together\n", argv[0]);
        return 2;
    }
    std::unique_ptr<gev::net::TlsContext> tls;   // outlives the server
    if (!tls_cert.empty()) {
        try {
            tls = std::make_unique<gev::net::TlsContext>(gev::net::TlsRole::server);
            tls->load_cert_chain(tls_cert, tls_key);
            tls->set_alpn({"http/1.1"});
        } catch (const gev::net::TlsError& e) {
            std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
            return 1;
        }
    }
    return gev::run([&] {
        gev::http::Options opts;
        opts.net.threads = threads;   // a listener per hub (SO_REUSEPORT)
        opts.net.tls = tls.get();
        gev::http::Handler handler = handle;
        if (debug) {
            handler = [pages = gev::http::debug_handler("/debug/")](gev::http::Request& req, gev::http::Response& res) {
                if (gev::http::is_debug_path(req.path(), "/debug/")) pages(req, res);
                else handle(req, res);
            };
        }
        gev::http::Server server({host, static_cast<std::uint16_t>(port)}, handler, opts);
        server.start();
        auto stop = [&server] { server.stop(std::chrono::seconds(5)); };
        auto on_int = gev::signal_handler(SIGINT, stop);
        auto on_term = gev::signal_handler(SIGTERM, stop);
        auto on_quit = gev::enable_sigquit_dump();
        std::printf("serving %s://%s on %u hub(s)\n", tls ? "https" : "http", server.address().to_string().c_str(),
                    threads);
        std::fflush(stdout);
        server.serve_forever();
        std::puts("stopped");
        return 0;
    }, {.threads = threads});
}
