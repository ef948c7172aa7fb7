// examples/monkey/slow_http_server.hpp — the "internet" for the monkey-patching
// examples: an HTTP/1.0 server on 127.0.0.1 (a port the kernel picks) that answers
// every GET after a fixed delay, from plain threads (one per connection) outside any
// hub, so nothing about it is cooperative. The body size depends on the path, so
// the output of the examples is the same on every run. stop() ends it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

class SlowHttpServer {
public:
    explicit SlowHttpServer(std::chrono::milliseconds delay) : delay_(delay) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 128) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            std::perror("slow_http_server");
            std::exit(1);
        }
        port_ = ntohs(a.sin_port);
        acceptor_ = std::thread([this] { serve(); });
    }
    SlowHttpServer(const SlowHttpServer&) = delete;
    SlowHttpServer& operator=(const SlowHttpServer&) = delete;
    ~SlowHttpServer() { stop(); }

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    // Stops accepting (shutdown wakes the blocked accept) and waits for every answer.
    void stop() {
        if (!acceptor_.joinable()) return;
        ::shutdown(fd_, SHUT_RDWR);
        acceptor_.join();
        for (std::thread& t : workers_) t.join();
        ::close(fd_);
    }

    // The seed's page sizes (002 L197–210), by site; 1000 bytes for anything else.
    static std::size_t body_size(const std::string& path) {
        if (path.find("python") != std::string::npos) return 48725;
        if (path.find("yahoo") != std::string::npos) return 480761;
        if (path.find("github") != std::string::npos) return 55394;
        return 1000;
    }

private:
    void serve() {
        for (;;) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;   // stop() shut the socket down
            workers_.emplace_back([this, c] { answer(c); });
        }
    }

    void answer(int c) {
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            req.append(buf, static_cast<std::size_t>(n));
        }
        std::string path = "/";
        if (std::size_t sp = req.find(' '); sp != std::string::npos)
            path = req.substr(sp + 1, req.find(' ', sp + 1) - sp - 1);
        std::this_thread::sleep_for(delay_);   // a slow site
        std::string body(body_size(path), 'x');
        std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
        for (std::size_t off = 0; off < resp.size();) {
            ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::close(c);
    }

    std::chrono::milliseconds delay_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread acceptor_;
    std::vector<std::thread> workers_;   // touched only by the acceptor until stop() joins it
};
