// tests/monkey/redis_server.hpp — a real redis-server for the monkey tests: started on
// a free loopback port (another port if that one is taken meanwhile), ready once it
// answers a connect, stopped (SIGTERM, then SIGKILL) when the object goes. A missing
// redis-server makes the binary exit 77, meson's "skipped". Plain C calls, outside
// gev::run: the hooks pass them through.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern char** environ;

namespace gev::testing {

class RedisServer {
public:
    RedisServer() {
        std::string path = find_program("redis-server");
        if (path.empty()) {
            std::fprintf(stderr, "skipped: redis-server is not installed (Debian package redis-server)\n");
            std::exit(77);
        }
        for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) start(path);
        if (pid_ <= 0) {
            std::fprintf(stderr, "redis-server did not start\n");
            std::exit(1);
        }
    }
    ~RedisServer() {
        ::kill(pid_, SIGTERM);
        if (!reaped(200)) {   // 2 s
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    int port() const { return port_; }

private:
    static std::string find_program(std::string_view name) {
        const char* env = std::getenv("PATH");
        std::string_view paths = env != nullptr ? env : "/usr/bin:/bin";
        while (!paths.empty()) {
            std::size_t colon = paths.find(':');
            std::string candidate = std::string(paths.substr(0, colon)) + "/" + std::string(name);
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
            paths = colon == std::string_view::npos ? std::string_view() : paths.substr(colon + 1);
        }
        return {};
    }

    static int free_port() {
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int port = -1;
        if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port = ntohs(a.sin_port);
        ::close(s);
        return port;
    }

    static bool answers(int port) {
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(s);
        return ok;
    }

    // Whether the server exited within `ticks` x 10 ms (then it is reaped).
    bool reaped(int ticks) {
        for (int i = 0; i < ticks; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return true;
            ::usleep(10'000);
        }
        return false;
    }

    void start(const std::string& path) {
        port_ = free_port();
        if (port_ <= 0) return;
        std::string port = std::to_string(port_);
        const char* argv[] = {path.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", nullptr};
        posix_spawn_file_actions_t io;
        posix_spawn_file_actions_init(&io);
        posix_spawn_file_actions_addopen(&io, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&io, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        int r = ::posix_spawn(&pid, path.c_str(), &io, nullptr, const_cast<char**>(argv), environ);
        posix_spawn_file_actions_destroy(&io);
        if (r != 0) return;
        for (int i = 0; i < 500; ++i) {   // up to 5 s
            if (answers(port_)) {
                pid_ = pid;
                return;
            }
            if (::waitpid(pid, nullptr, WNOHANG) == pid) return;   // it exited: the port was taken
            ::usleep(10'000);
        }
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }

    pid_t pid_ = -1;
    int port_ = -1;
};

}  // namespace gev::testing
