// fuzz/fuzz_support.hpp — what the libFuzzer targets share: a quiet, hermetic runtime
// (epoll, no watchdog, no DNS) and a socketpair whose far end a writer fiber feeds in
// pieces cut where the input says, so readers meet every split of a message.
#pragma once

#include "gev.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

// No name lookups while fuzzing: a host name fails as an unknown one would, at once.
extern "C" int getaddrinfo(const char*, const char*, const struct addrinfo*, struct addrinfo** res) {
    *res = nullptr;
    return EAI_NONAME;
}

namespace gev::fuzz {

inline void quiet_runtime() {
    ::setenv("GEV_POLLER", "epoll", 1);   // a hub per input: epoll starts fastest
    ::setenv("GEV_MONITOR", "0", 1);
}

// The bytes of a fuzz input, consumed from the front.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
    std::uint8_t byte() { return n_ > 0 ? (--n_, *p_++) : 0; }
    std::string_view rest() { return {reinterpret_cast<const char*>(std::exchange(p_, p_ + n_)), std::exchange(n_, 0)}; }

private:
    const std::uint8_t* p_;
    std::size_t n_;
};

// A connected pair: `near` for the code under test, `far` fed by a writer fiber that
// sends `data` in pieces of 1..`max_piece` bytes (sizes drawn from `seed`), then shuts
// down its write side. The writer is joined before the pair goes.
struct FedSocket {
    gev::net::Socket near, far;
    gev::Greenlet<> writer;

    FedSocket(std::string data, std::uint8_t seed, std::size_t max_piece) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
        near = gev::net::Socket::adopt(sv[0]);
        far = gev::net::Socket::adopt(sv[1]);
        writer = gev::spawn([this, data = std::move(data), seed, max_piece]() mutable {
            std::uint32_t x = seed * 2654435761u + 1;
            try {
                for (std::size_t at = 0; at < data.size();) {
                    x = x * 1103515245u + 12345u;
                    std::size_t n = 1 + (x >> 8) % max_piece;
                    if (n > data.size() - at) n = data.size() - at;
                    far.sendall(std::string_view(data).substr(at, n));
                    at += n;
                    gev::sleep(std::chrono::nanoseconds(0));   // let the reader see this piece alone
                }
                far.shutdown(SHUT_WR);
            } catch (const gev::net::SocketError&) {   // the reader closed early
            }
        });
    }
    ~FedSocket() {
        near.close();
        writer.join();
    }
};

}  // namespace gev::fuzz
