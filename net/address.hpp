// net/address.hpp — socket addresses: IPv4, IPv6 and Unix paths, written as
// "host:port", "[::1]:8001", ("host", port) or "/path/to.sock". A host name is
// resolved on the hub's thread pool, so it parks only the calling fiber.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gev::net {

class Address {
public:
    Address() noexcept = default;
    // "host:port", "[v6]:port" or a Unix socket path (anything containing '/').
    // Throws ResolveError for a bad or unknown host, std::invalid_argument-like
    // SocketError (EINVAL) for a malformed string.
    Address(std::string_view host_port);   // NOLINT: implicit, like Python's tuples
    Address(const char* host_port) : Address(std::string_view(host_port)) {}
    Address(std::string_view host, std::uint16_t port);
    Address(const sockaddr* sa, socklen_t len) noexcept;

    static Address unix_path(std::string_view path);

    int family() const noexcept { return storage_.ss_family; }
    std::uint16_t port() const noexcept;
    std::string host() const;
    // "127.0.0.1:8001", "[::1]:8001", "/tmp/x.sock".
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    socklen_t* size_ptr() noexcept { return &len_; }
    static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
    bool empty() const noexcept { return len_ == 0; }
    friend bool operator==(const Address& a, const Address& b) noexcept;

private:
    sockaddr_storage storage_{};
    socklen_t len_ = 0;
};

// Every address `host` resolves to for `port` (numeric hosts without a lookup).
// family: AF_UNSPEC, AF_INET or AF_INET6; type: SOCK_STREAM or SOCK_DGRAM.
std::vector<Address> resolve(std::string_view host, std::uint16_t port, int family = AF_UNSPEC,
                             int type = SOCK_STREAM);

}  // namespace gev::net
