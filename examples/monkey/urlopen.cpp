// examples/monkey/urlopen.cpp — the seed's monkey-patched urlopen (S1-5, G3, G6): three
// "sites" fetched with plain blocking C socket code that knows nothing about gev. Once
// gev::monkey::patch_all() has run, each fetch in its own fiber parks only that fiber
// in connect/send/recv, so the three overlap: all GET lines come first, and the whole
// run takes about one server delay instead of three. The sites are served from
// 127.0.0.1 by a thread of this program that answers each request after --delay ms.
//
//   build-dir/examples/monkey/urlopen            # concurrent: ~0.3 s
//   build-dir/examples/monkey/urlopen --serial   # one after another: ~0.9 s
#include "gev.hpp"
#include "monkey/monkey.hpp"
#include "slow_http_server.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

// --- ordinary blocking code, as any C library would have it -----------------------

// GETs an http://host:port/path URL over HTTP/1.0 and returns the body ("" on error).
std::string urlopen(const std::string& url) {
    std::string rest = url.substr(std::strlen("http://"));
    std::string hostport = rest.substr(0, rest.find('/'));
    std::string path = rest.substr(hostport.size());
    std::string host = hostport.substr(0, hostport.find(':'));
    std::string port = hostport.substr(host.size() + 1);
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return "";
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        freeaddrinfo(res);
        if (fd >= 0) close(fd);
        return "";
    }
    freeaddrinfo(res);
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + hostport + "\r\n\r\n";
    send(fd, req.data(), req.size(), 0);
    std::string resp;
    char buf[16384];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<std::size_t>(n));
    close(fd);
    std::size_t body = resp.find("\r\n\r\n");
    return body == std::string::npos ? "" : resp.substr(body + 4);
}

// --- the seed's program -------------------------------------------------------------

void f(const std::string& url) {
    std::printf("GET: %s\n", url.c_str());
    std::string data = urlopen(url);
    std::printf("%zu bytes received from %s.\n", data.size(), url.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    bool serial = false;
    int delay_ms = 300;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--serial") == 0) serial = true;
        else if (std::strcmp(argv[i], "--delay") == 0 && i + 1 < argc) delay_ms = std::atoi(argv[++i]);
    }
    gev::monkey::patch_all();   // monkey.patch_all()
    if (!gev::monkey::hooks_active()) std::fprintf(stderr, "urlopen: the hooks are not active here\n");
    SlowHttpServer server{std::chrono::milliseconds(delay_ms)};
    std::vector<std::string> urls = {server.url("/www.python.org/"), server.url("/www.yahoo.com/"),
                                     server.url("/github.com/")};
    auto t0 = std::chrono::steady_clock::now();
    gev::run([&] {
        if (serial) {
            for (const std::string& url : urls) f(url);
            return;
        }
        std::vector<gev::Greenlet<>> jobs;
        for (const std::string& url : urls) jobs.push_back(gev::spawn(f, url));
        gev::joinall(jobs);
    });
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    std::printf("%s time: %.2f s\n", serial ? "serial" : "concurrent", took.count());
    server.stop();
    return 0;
}
