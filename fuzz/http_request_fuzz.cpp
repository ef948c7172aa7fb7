// fuzz/http_request_fuzz.cpp — the HTTP example's request reading: its own handler,
// compiled in from examples/http_hello.cpp (its main renamed), on a connection fed the
// input in arbitrary pieces. Checks: the handler returns (no exception escapes, no
// hang), and it answers either nothing or the whole 114-byte response.
#define main http_hello_main
#include "examples/http_hello.cpp"
#undef main

#include "fuzz/fuzz_support.hpp"

#include <cstdio>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gev::fuzz::quiet_runtime();
    if (std::freopen("/dev/null", "w", stdout) == nullptr) std::abort();   // the handler prints each request
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gev::fuzz::Input in(data, size);
    std::uint8_t seed = in.byte();
    std::size_t piece = 1 + in.byte() % 200;
    std::string request(in.rest());
    gev::run([&] {
        gev::fuzz::FedSocket client(request, seed, piece);
        // The fed pair's near end plays the server's side of the connection.
        auto handler = gev::spawn([&] { handle(std::move(client.near), gev::net::Address()); });
        std::string answer;
        for (std::string got; !(got = client.far.recv(4096)).empty();) answer += got;
        handler.get();
        if (!answer.empty() && answer != std::string_view(response, sizeof response - 1)) std::abort();
    });
    return 0;
}
