// net/address.cpp — parsing, formatting and resolving addresses.
#include "net/address.hpp"

#include "net/errors.hpp"
#include "runtime/threadpool.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>

namespace gev::net {
namespace {

class GaiCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int code) const override { return ::gai_strerror(code); }
};

std::uint16_t parse_port(std::string_view s, std::string_view whole) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > 65535 || s.empty())
        throw SocketError(EINVAL, "bad port in address '" + std::string(whole) + "'");
    return static_cast<std::uint16_t>(v);
}

// Numeric IPv4/IPv6 without any lookup; false if `host` is a name.
bool numeric(std::string_view host, std::uint16_t port, Address& out) {
    std::string h(host);
    sockaddr_in v4{};
    if (::inet_pton(AF_INET, h.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        out = Address(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
        return true;
    }
    sockaddr_in6 v6{};
    if (::inet_pton(AF_INET6, h.c_str(), &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        out = Address(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
        return true;
    }
    return false;
}

}  // namespace

const std::error_category& gai_category() noexcept {
    static const GaiCategory c;
    return c;
}

ResolveError::ResolveError(int eai, const std::string& op) : SocketError(std::error_code(eai, gai_category()), op) {}

IncompleteRead::IncompleteRead(std::string partial, std::size_t wanted, const std::string& op)
    : SocketError(ECONNRESET, op + ": the peer closed after " + std::to_string(partial.size()) + " of " +
                                  std::to_string(wanted) + " bytes"),
      partial_(std::move(partial)) {}

Address::Address(const sockaddr* sa, socklen_t len) noexcept {
    if (len > sizeof storage_) len = sizeof storage_;
    std::memcpy(&storage_, sa, len);
    len_ = len;
}

Address Address::unix_path(std::string_view path) {
    sockaddr_un un{};
    if (path.size() >= sizeof un.sun_path) throw SocketError(ENAMETOOLONG, "unix address '" + std::string(path) + "'");
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    return Address(reinterpret_cast<sockaddr*>(&un),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
}

Address::Address(std::string_view hp) {
    if (hp.find('/') != std::string_view::npos) {
        *this = unix_path(hp);
        return;
    }
    std::string_view host, port;
    if (!hp.empty() && hp.front() == '[') {
        auto close = hp.find(']');
        if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':')
            throw SocketError(EINVAL, "bad address '" + std::string(hp) + "' (want [v6]:port)");
        host = hp.substr(1, close - 1);
        port = hp.substr(close + 2);
    } else {
        auto colon = hp.rfind(':');
        if (colon == std::string_view::npos)
            throw SocketError(EINVAL, "bad address '" + std::string(hp) + "' (want host:port)");
        host = hp.substr(0, colon);
        port = hp.substr(colon + 1);
    }
    *this = Address(host, parse_port(port, hp));
}

Address::Address(std::string_view host, std::uint16_t port) {
    if (host.empty()) host = "0.0.0.0";
    if (numeric(host, port, *this)) return;
    *this = resolve(host, port).front();
}

std::uint16_t Address::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

std::string Address::host() const {
    char buf[INET6_ADDRSTRLEN] = "";
    if (family() == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
    else if (family() == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
    else if (family() == AF_UNIX)
        return reinterpret_cast<const sockaddr_un*>(&storage_)->sun_path;
    return buf;
}

std::string Address::to_string() const {
    if (len_ == 0) return "(none)";
    if (family() == AF_INET6) {
        std::string s = "[";   // appended, not "[" + host(): g++ 12 warns falsely (-Wrestrict) on that
        s += host();
        s += "]:";
        s += std::to_string(port());
        return s;
    }
    if (family() == AF_UNIX) return host();
    return host() + ":" + std::to_string(port());
}

bool operator==(const Address& a, const Address& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

std::vector<Address> resolve(std::string_view host, std::uint16_t port, int family, int type) {
    Address numeric_address;
    if (numeric(host, port, numeric_address)) return {numeric_address};
    std::string h(host), p = std::to_string(port);
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    addrinfo* res = nullptr;
    // getaddrinfo blocks (files, DNS): it runs on the hub's thread pool.
    int rc = run_in_thread([&] { return ::getaddrinfo(h.c_str(), p.c_str(), &hints, &res); });
    if (rc != 0) throw ResolveError(rc, "getaddrinfo " + h);
    std::vector<Address> out;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) out.emplace_back(ai->ai_addr, ai->ai_addrlen);
    ::freeaddrinfo(res);
    if (out.empty()) throw ResolveError(EAI_NONAME, "getaddrinfo " + h);
    return out;
}

}  // namespace gev::net
