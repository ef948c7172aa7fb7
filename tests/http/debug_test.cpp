// tests/http/debug_test.cpp — gev::http::debug_handler: the index, the fiber dump,
// gev::stats() as JSON and the monkey state under its prefix; 404 outside its routes,
// 405 for methods other than GET and HEAD. Without libgev_monkey in the process the
// monkey page says so (http_debug_monkey_test checks the loaded case).
#include "http_support.hpp"

#include <string>

using namespace gev;
using namespace gev::testing;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

Reply get(const TestServer& srv, const std::string& path, const std::string& method = "GET") {
    return round_trip(srv, method + " " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
}

}  // namespace

TEST_CASE("debug_handler serves gev::stats as JSON with one object per hub", "[http][debug]") {
    gev::testing::run([] {
        TestServer srv(http::debug_handler("/debug/"));
        auto sleeper = spawn([] { sleep(10s); });
        Reply r = get(srv, "/debug/stats");
        CHECK(r.status == 200);
        CHECK(r.header("content-type") == std::optional<std::string>("application/json"));
        CHECK(r.body.rfind("{\"hubs\":[{\"hub\":0,", 0) == 0);
        CHECK(r.body.substr(r.body.size() - 3) == "]}\n");
        CHECK(count(r.body, "\"hub\":") == 1);
        CHECK(has(r.body, "\"parked_sleep\":1,"));
        sleeper.kill();
    });
}

TEST_CASE("debug_handler serves the fiber dump, an index and the monkey state", "[http][debug]") {
    gev::testing::run([] {
        TestServer srv(http::debug_handler("/debug"));
        auto sleeper = spawn(SpawnOptions{.name = "napper"}, [] { sleep(10s); });
        sleep(0s);
        Reply fibers = get(srv, "/debug/fibers");
        CHECK(fibers.status == 200);
        CHECK(fibers.body.rfind("gev: fibers of 1 hub, asked from hub 0\n", 0) == 0);
        CHECK(has(fibers.body, "<napper id="));
        Reply index = get(srv, "/debug/");
        CHECK(index.status == 200);
        CHECK(has(index.body, "href=\"/debug/fibers\""));
        CHECK(has(index.body, "href=\"/debug/stats\""));
        CHECK(has(index.body, "href=\"/debug/monkey\""));
        CHECK(get(srv, "/debug").status == 200);
        Reply monkey = get(srv, "/debug/monkey");
        CHECK(monkey.status == 200);
        CHECK(monkey.body.rfind("monkey: not loaded", 0) == 0);
        net::Socket c = srv.connect();
        c.sendall("HEAD /debug/stats HTTP/1.1\r\nHost: t\r\n\r\n");
        ReplyReader rd(c);
        std::optional<Reply> head = rd.next(true);
        REQUIRE(head);
        CHECK(head->status == 200);
        CHECK(head->body.empty());
        sleeper.kill();
    });
}

TEST_CASE("debug_handler answers 404 outside its routes and 405 to other methods", "[http][debug]") {
    gev::testing::run([] {
        TestServer srv(http::debug_handler("/debug"));
        CHECK(get(srv, "/").status == 404);
        CHECK(get(srv, "/debugger").status == 404);
        CHECK(get(srv, "/debug/nothing").status == 404);
        CHECK(get(srv, "/debug/stats/more").status == 404);
        CHECK(get(srv, "/stats").status == 404);
        Reply post = round_trip(srv, "POST /debug/stats HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        CHECK(post.status == 405);
        CHECK(post.header("allow") == std::optional<std::string>("GET, HEAD"));
    });
}

TEST_CASE("is_debug_path matches the prefix and what lies under it only", "[http][debug]") {
    CHECK(http::is_debug_path("/debug", "/debug/"));
    CHECK(http::is_debug_path("/debug/", "/debug"));
    CHECK(http::is_debug_path("/debug/stats", "/debug"));
    CHECK_FALSE(http::is_debug_path("/debugger", "/debug"));
    CHECK_FALSE(http::is_debug_path("/", "/debug"));
    CHECK(http::is_debug_path("/x/debug/fibers", "/x/debug"));
}
