// tests/net/net_support.hpp — helpers shared by the gev::net tests: loopback
// listeners and connected pairs, fd counting through /proc/self/fd, a temporary
// directory for Unix socket paths, an RLIMIT_NOFILE guard, and the process's CPU time.
// Everything here touches only 127.0.0.1, ::1 and paths under the temp dir.
#pragma once

#include "support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

namespace gev::testing {

using net::Address;
using net::Socket;

// A TCP listener on 127.0.0.1 (or ::1) at a port the kernel picks.
inline Socket listener(const char* host = "127.0.0.1", int backlog = 128) {
    Socket l(std::string_view(host).find(':') != std::string_view::npos ? AF_INET6 : AF_INET, SOCK_STREAM);
    l.set_reuse_address();
    l.bind(Address(host, 0));
    l.listen(backlog);
    return l;
}

// A connected TCP pair over loopback: {client side, server side}.
inline std::pair<Socket, Socket> tcp_pair(const char* host = "127.0.0.1") {
    Socket l = listener(host);
    Socket c(l.local_address().family(), SOCK_STREAM);
    c.connect(l.local_address());
    auto [s, peer] = l.accept();
    return {std::move(c), std::move(s)};
}

// A port nothing listens on (bound once, then released).
inline std::uint16_t closed_port() {
    Socket s(AF_INET, SOCK_STREAM);
    s.bind(Address("127.0.0.1", 0));
    return s.local_address().port();
}

inline bool fd_is_closed(int fd) { return ::fcntl(fd, F_GETFD) < 0 && errno == EBADF; }

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "gev-net-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) FAIL("mkdtemp: " << std::strerror(errno));
        path_ = tmpl;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Sets RLIMIT_NOFILE's soft limit for the guard's lifetime, then restores it.
class FdLimit {
public:
    FdLimit() { ::getrlimit(RLIMIT_NOFILE, &saved_); }
    FdLimit(const FdLimit&) = delete;
    FdLimit& operator=(const FdLimit&) = delete;
    ~FdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    rlim_t soft() const { return saved_.rlim_cur; }
    rlim_t hard() const { return saved_.rlim_max; }
    bool set_soft(rlim_t n) {
        rlimit r = saved_;
        r.rlim_cur = n;
        return ::setrlimit(RLIMIT_NOFILE, &r) == 0;
    }

private:
    rlimit saved_{};
};

// Waits (bounded, 1 ms steps) until cond() holds; says whether it did.
template <class F>
bool eventually(F&& cond, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) return false;
        gev::sleep(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace gev::testing
