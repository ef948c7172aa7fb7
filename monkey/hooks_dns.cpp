// monkey/hooks_dns.cpp — getaddrinfo, getnameinfo, gethostbyname, gethostbyname_r. On
// a hub's fiber a lookup that may touch the network or the disk runs on the hub's
// thread pool (gevent's threadpool resolver) while only the fiber parks; numeric
// addresses are answered in place. errno and h_errno come back from the worker, so the
// caller sees what the C library set (EAI_SYSTEM's errno, HOST_NOT_FOUND, ...).
#include "monkey/context.hpp"
#include "monkey/original.hpp"
#include "monkey/probe.hpp"
#include "runtime/threadpool.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cctype>
#include <cerrno>
#include <memory>
#include <vector>

using gev::monkey::Patch;
namespace md = gev::monkey::detail;
namespace orig = gev::monkey::original;

namespace {

bool numeric_host(const char* node, int flags) noexcept {
    if (node == nullptr || (flags & AI_NUMERICHOST)) return true;
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, node, buf) == 1 || ::inet_pton(AF_INET6, node, buf) == 1;
}

bool numeric_service(const char* service, int flags) noexcept {
    if (service == nullptr || (flags & AI_NUMERICSERV)) return true;
    if (*service == '\0') return false;
    for (const char* c = service; *c != '\0'; ++c)
        if (!std::isdigit(static_cast<unsigned char>(*c))) return false;
    return true;
}

// Runs fn on the hub's pool with the caller's errno, and hands its errno back.
template <class F>
auto offload(F fn) {
    int err = errno;
    auto r = gev::run_in_thread([&] {
        errno = err;
        auto v = fn();
        err = errno;
        return v;
    });
    errno = err;
    return r;
}

// gethostbyname's answer on this thread: valid until this thread's next call, as the
// C library's static one is until the next call anywhere.
struct HostSlot {
    hostent host{};
    std::unique_ptr<std::vector<char>> buf;
};
thread_local HostSlot t_host;

}  // namespace

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
    if (node == md::kProbeHost) [[unlikely]] {
        md::probe_hit(8);
        return EAI_NONAME;
    }
    int flags = hints != nullptr ? hints->ai_flags : 0;
    if (md::cooperative(Patch::dns) == nullptr || (numeric_host(node, flags) && numeric_service(service, flags)))
        return orig::getaddrinfo(node, service, hints, res);
    return offload([&] { return orig::getaddrinfo(node, service, hints, res); });
}

int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen, char* serv, socklen_t servlen,
                int flags) {
    bool numeric = (host == nullptr || (flags & NI_NUMERICHOST)) && (serv == nullptr || (flags & NI_NUMERICSERV));
    if (numeric || md::cooperative(Patch::dns) == nullptr)
        return orig::getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    return offload([&] { return orig::getnameinfo(sa, salen, host, hostlen, serv, servlen, flags); });
}

int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen, hostent** result, int* h_errnop) {
    if (md::cooperative(Patch::dns) == nullptr) return orig::gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    return offload([&] { return orig::gethostbyname_r(name, ret, buf, buflen, result, h_errnop); });
}

hostent* gethostbyname(const char* name) {
    if (md::cooperative(Patch::dns) == nullptr) return orig::gethostbyname(name);
    // A fresh buffer per call, filled while this fiber is parked, then installed: a
    // fiber still reading the previous answer never sees a half-written one.
    auto buf = std::make_unique<std::vector<char>>(1024);
    hostent host{};
    hostent* result = nullptr;
    int herr = 0;
    for (;;) {
        int rc = offload([&] { return orig::gethostbyname_r(name, &host, buf->data(), buf->size(), &result, &herr); });
        if (rc != ERANGE) break;
        buf->resize(buf->size() * 2);
    }
    if (result == nullptr) {
        h_errno = herr;
        return nullptr;
    }
    t_host.host = host;
    t_host.buf = std::move(buf);
    return &t_host.host;
}

}  // extern "C"
