// tests/http/curl_test.cpp — interop with libcurl: 100 GETs on one easy handle reuse
// one connection (keep-alive visible on both sides), a chunked upload comes back whole,
// and an HTTP/1.0 client is answered in kind. libcurl blocks, so it runs on the hub's
// thread pool (gev::run_in_thread) while the server's fibers serve.
#include "http_support.hpp"

#include <curl/curl.h>

using namespace gev::testing;
namespace http = gev::http;

namespace {

std::size_t collect(char* p, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}

struct Easy {
    CURL* h = curl_easy_init();
    std::string body;
    ~Easy() { curl_easy_cleanup(h); }
    long get(const std::string& url) {
        body.clear();
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
        if (curl_easy_perform(h) != CURLE_OK) return -1;
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        return code;
    }
};

std::string base(const TestServer& srv) { return "http://" + srv->address().to_string(); }

}  // namespace

TEST_CASE("libcurl reuses one connection for 100 requests", "[http][interop][curl]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) { res.send("path " + std::string(req.path())); });
        std::string url = base(srv);
        auto [ok, connects] = gev::run_in_thread([&] {
            Easy e;
            int good = 0;
            long total_connects = 0;
            for (int i = 0; i < 100; ++i) {
                good += e.get(url + "/" + std::to_string(i)) == 200 && e.body == "path /" + std::to_string(i);
                long n = 0;
                curl_easy_getinfo(e.h, CURLINFO_NUM_CONNECTS, &n);
                total_connects += n;
            }
            return std::pair{good, total_connects};
        });
        CHECK(ok == 100);
        CHECK(connects == 1);
        CHECK(srv->stats().connections == 1);
        CHECK(srv->stats().requests == 100);
    });
}

TEST_CASE("libcurl's chunked upload and HTTP/1.0 request are answered right", "[http][interop][curl]") {
    run([] {
        TestServer srv([](http::Request& req, http::Response& res) {
            res.add_header("X-Chunked", req.chunked() ? "yes" : "no");
            res.send(req.read_all());
        });
        std::string url = base(srv) + "/echo";
        auto [code, body] = gev::run_in_thread([&] {
            Easy e;
            curl_slist* hdrs = curl_slist_append(nullptr, "Transfer-Encoding: chunked");
            std::string payload(10000, 'q');
            curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, hdrs);
            curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, payload.c_str());
            long c = e.get(url);
            curl_slist_free_all(hdrs);
            return std::pair{c, e.body};
        });
        CHECK(code == 200);
        CHECK(body == std::string(10000, 'q'));
        auto [code10, body10] = gev::run_in_thread([&] {
            Easy e;
            curl_easy_setopt(e.h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_0);
            long c = e.get(base(srv) + "/");
            return std::pair{c, e.body};
        });
        CHECK(code10 == 200);
        CHECK(body10.empty());
    });
}
