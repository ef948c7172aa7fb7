// fuzz/http_request_fuzz.cpp — gev::http's request path (llhttp with the server's
// strict settings, the header checks, body streams, keep-alive and pipelining) on a
// connection fed the input in arbitrary pieces, with small limits so they are reached.
// Checks: serving returns (no exception escapes, no hang), and every answer on the wire
// starts with a status line, each answer ending where the next begins.
#include "http/http.hpp"

#include "fuzz/fuzz_support.hpp"

#include <cstdio>

namespace {

// The handler exercises both ways of reading a body and both ways of answering.
void handle(gev::http::Request& req, gev::http::Response& res) {
    if (req.path() == "/stream") {
        char piece[7];
        while (std::size_t n = req.read(piece)) res.write(std::to_string(n));   // never raw bytes: see well_formed
        return;
    }
    std::string body = req.read_all();
    res.add_header("X-Target", std::string(req.target().substr(0, 64)));
    res.send(std::to_string(body.size()));
}

// Each answer starts "HTTP/1.x NNN "; the bytes before the next status line belong to it.
bool well_formed(std::string_view wire) {
    while (!wire.empty()) {
        if (!(wire.starts_with("HTTP/1.1 ") || wire.starts_with("HTTP/1.0 ")) || wire.size() < 13) return false;
        std::size_t next = wire.find("\r\nHTTP/1.", 1);
        if (next == std::string_view::npos) break;
        wire.remove_prefix(next + 2);
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gev::fuzz::quiet_runtime();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gev::fuzz::Input in(data, size);
    std::uint8_t seed = in.byte();
    std::size_t piece = 1 + in.byte() % 200;
    std::string request(in.rest());
    gev::run([&] {
        gev::fuzz::FedSocket client(request, seed, piece);
        gev::http::Options opts;
        opts.max_header_bytes = 512;
        opts.max_headers = 8;
        opts.max_body_bytes = 4096;
        opts.max_drain_bytes = 256;
        auto server = gev::spawn([&] {
            gev::http::serve_connection(std::move(client.near), gev::net::Address(), handle, opts);
        });
        std::string answer;
        for (std::string got; !(got = client.far.recv(4096)).empty();) answer += got;
        server.get();
        if (!well_formed(answer)) std::abort();
    });
    return 0;
}
