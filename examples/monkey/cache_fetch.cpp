// examples/monkey/cache_fetch.cpp — a second real blocking client library made
// cooperative: hiredis (Debian's libhiredis-dev), used through its plain blocking API
// (redisConnect, redisCommand), unmodified. Each client fiber connects, SETs its key and
// GETs it back; hiredis's connect, poll, write and read park only that fiber once
// gev::monkey::patch_all() has run, so N clients take about two server delays (one per
// command), not 2N. The cache is a small RESP server of this program
// (slow_resp_server.hpp) on a second hub, answering each command after --delay ms.
//
//   build-dir/examples/monkey/cache_fetch              # 5 clients at once: ~0.4 s
//   build-dir/examples/monkey/cache_fetch --serial     # one after another: ~2 s
//   build-dir/examples/monkey/cache_fetch --count 20 --delay 100
#include "gev.hpp"
#include "monkey/monkey.hpp"
#include "slow_resp_server.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

// --- ordinary blocking hiredis code, as any program would have it -------------------

struct FreeReply {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, FreeReply>;

struct FreeContext {
    void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, FreeContext>;

// The reply's text ("OK", the value, "(nil)"), or the error that ended the command.
std::string text(redisContext* c, const Reply& r) {
    if (!r) return std::string("error: ") + c->errstr;
    switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING: return std::string(r->str, r->len);
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    case REDIS_REPLY_ERROR: return std::string("error: ") + r->str;
    default: return "error: unexpected reply type " + std::to_string(r->type);
    }
}

Reply command(redisContext* c, const char* format, const char* a, const char* b = nullptr) {
    return Reply(static_cast<redisReply*>(redisCommand(c, format, a, b)));   // blocks — only this fiber
}

// One client: SET key:<i> value-<i>, then GET it back on the same connection.
void client(int port, int i) {
    std::string key = "key:" + std::to_string(i), value = "value-" + std::to_string(i);
    std::printf("SET %s %s\n", key.c_str(), value.c_str());
    Context c(redisConnect("127.0.0.1", port));
    if (!c || c->err) {
        std::printf("%s: connect: %s\n", key.c_str(), c ? c->errstr : "out of memory");
        return;
    }
    std::string set = text(c.get(), command(c.get(), "SET %s %s", key.c_str(), value.c_str()));
    if (set != "OK") {
        std::printf("%s: SET: %s\n", key.c_str(), set.c_str());
        return;
    }
    std::string got = text(c.get(), command(c.get(), "GET %s", key.c_str()));
    std::printf("GET %s -> %s\n", key.c_str(), got.c_str());
}

}  // namespace

// --- gev: the same code, one fiber per client ----------------------------------------

int main(int argc, char** argv) {
    bool serial = false;
    int delay_ms = 200, count = 5;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--serial") == 0) serial = true;
        else if (std::strcmp(argv[i], "--delay") == 0 && i + 1 < argc) delay_ms = std::atoi(argv[++i]);
        else if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = std::atoi(argv[++i]);
    }
    gev::monkey::patch_all();
    if (!gev::monkey::hooks_active()) std::fprintf(stderr, "cache_fetch: the hooks are not active here\n");
    gev::RunOptions two_hubs;
    two_hubs.threads = 2;   // hub 0: the clients; hub 1: the cache server
    return gev::run([&] {
        SlowRespServer server(1, std::chrono::milliseconds(delay_ms));
        {   // is the cache up? (one delay, before the clock starts)
            Context c(redisConnect("127.0.0.1", server.port()));
            Reply pong = c && !c->err ? command(c.get(), "PING", nullptr) : nullptr;
            std::printf("PING -> %s\n", c && !c->err ? text(c.get(), pong).c_str() : "no connection");
        }
        auto t0 = std::chrono::steady_clock::now();
        if (serial) {
            for (int i = 0; i < count; ++i) client(server.port(), i);
        } else {
            std::vector<gev::Greenlet<>> clients;
            for (int i = 0; i < count; ++i) clients.push_back(gev::spawn(client, int{server.port()}, i));
            gev::joinall(clients);
        }
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
        std::printf("%s time: %.2f s\n", serial ? "serial" : "concurrent", took.count());
        server.stop();
    }, two_hubs);
}
