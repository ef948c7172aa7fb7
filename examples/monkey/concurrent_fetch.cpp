// examples/monkey/concurrent_fetch.cpp — the seed's crawler (G3) with a real blocking
// client library: each fiber fetches its URL with libcurl's easy API
// (curl_easy_perform, which blocks until the transfer is done). libcurl was not
// written for gev; with gev::monkey::patch_all() its socket, connect and poll calls
// park only the calling fiber, so N fetches take about one server delay, not N.
// The sites are served from 127.0.0.1 by a thread of this program (--delay ms each).
//
//   build-dir/examples/monkey/concurrent_fetch              # 3 sites at once: ~0.3 s
//   build-dir/examples/monkey/concurrent_fetch --serial     # one after another: ~0.9 s
//   build-dir/examples/monkey/concurrent_fetch --count 20   # 20 fetches, still ~0.3 s
#include "gev.hpp"
#include "monkey/monkey.hpp"
#include "slow_http_server.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::size_t count_bytes(char*, std::size_t size, std::size_t n, void* total) {
    *static_cast<std::size_t*>(total) += size * n;
    return size * n;
}

void fetch(const std::string& url) {
    std::printf("GET: %s\n", url.c_str());
    std::size_t bytes = 0;
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &bytes);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);   // blocks — only this fiber
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) std::printf("%s: %s\n", url.c_str(), curl_easy_strerror(rc));
    else std::printf("%zu bytes received from %s.\n", bytes, url.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    bool serial = false;
    int delay_ms = 300, count = 3;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--serial") == 0) serial = true;
        else if (std::strcmp(argv[i], "--delay") == 0 && i + 1 < argc) delay_ms = std::atoi(argv[++i]);
        else if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = std::atoi(argv[++i]);
    }
    gev::monkey::patch_all();
    if (!gev::monkey::hooks_active()) std::fprintf(stderr, "concurrent_fetch: the hooks are not active here\n");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SlowHttpServer server{std::chrono::milliseconds(delay_ms)};
    const char* sites[] = {"/www.python.org/", "/www.yahoo.com/", "/github.com/"};
    std::vector<std::string> urls;
    for (int i = 0; i < count; ++i)
        urls.push_back(server.url(sites[i % 3] + (i < 3 ? std::string() : "?" + std::to_string(i))));
    auto t0 = std::chrono::steady_clock::now();
    gev::run([&] {
        if (serial) {
            for (const std::string& url : urls) fetch(url);
            return;
        }
        std::vector<gev::Greenlet<>> jobs;
        for (const std::string& url : urls) jobs.push_back(gev::spawn(fetch, url));
        gev::joinall(jobs);
    });
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    std::printf("%s time: %.2f s\n", serial ? "serial" : "concurrent", took.count());
    server.stop();
    curl_global_cleanup();
    return 0;
}
