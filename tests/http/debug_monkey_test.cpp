// tests/http/debug_monkey_test.cpp — the debug page's monkey state in a program that
// links libgev_monkey: loaded, hooks reached, and every part patched (all six groups) as
// they change.
#include "http_support.hpp"
#include "monkey/monkey.hpp"

#include <string>

using namespace gev;
using namespace gev::testing;

TEST_CASE("the monkey page reports libgev_monkey loaded and what is patched", "[http][debug][monkey]") {
    monkey::unpatch_all();
    std::string before = http::monkey_state();
    CHECK(before.rfind("monkey: loaded\n", 0) == 0);
    CHECK(before.find("patched: none\n") != std::string::npos);
    monkey::patch_time();
    monkey::patch_dns();
    std::string after = http::monkey_state();
    CHECK(after.find("patched: time dns\n") != std::string::npos);
    CHECK(after.find(std::string("hooks active: ") + (monkey::hooks_active() ? "yes" : "no")) != std::string::npos);
    monkey::unpatch_all();
    gev::testing::run([] {
        TestServer srv(http::debug_handler());
        Reply r = round_trip(srv, "GET /debug/monkey HTTP/1.1\r\nHost: t\r\n\r\n");
        CHECK(r.status == 200);
        CHECK(r.body.rfind("monkey: loaded\n", 0) == 0);
    });
}

TEST_CASE("the monkey page lists every patched group, subprocess and file included", "[http][debug][monkey]") {
    monkey::unpatch_all();
    monkey::patch_all();
    std::string all = http::monkey_state();
    // Before: only socket, time, select and dns were ever listed.
    CHECK(all.find("patched: socket time select dns subprocess file\n") != std::string::npos);
    monkey::unpatch_all();
    monkey::patch_subprocess();
    monkey::patch_file();
    CHECK(http::monkey_state().find("patched: subprocess file\n") != std::string::npos);
    monkey::unpatch_all();
}
