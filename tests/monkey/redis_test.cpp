// tests/monkey/redis_test.cpp — hiredis's blocking API against a real redis-server when
// a gev::Timeout or a kill interrupts a command (issue 11, section 3): the interrupted
// connection is poisoned, so the next command on the same redisContext reports an
// error instead of returning the abandoned command's reply. The server's BLPOP timeout
// (0.3 s) would deliver that stale nil; the fibers' own limit is 50 ms.
#include "monkey_support.hpp"
#include "redis_server.hpp"

#include <hiredis/hiredis.h>

#include <memory>

using namespace std::chrono_literals;
using namespace gev::testing;

namespace {

struct FreeContext {
    void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, FreeContext>;

struct FreeReply {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, FreeReply>;

Context connect(int port) {
    Context c(redisConnect("127.0.0.1", port));
    REQUIRE(c != nullptr);
    REQUIRE(c->err == 0);
    return c;
}

Reply command(redisContext* c, const char* text) { return Reply(static_cast<redisReply*>(redisCommand(c, text))); }

// BLPOP on a list nobody pushes to: the server answers nil after 0.3 s.
Reply blpop(redisContext* c) { return command(c, "BLPOP gev:monkey:never 0.3"); }

// The next command on a poisoned context fails: no reply, an I/O or EOF error.
void expect_failure(redisContext* c) {
    Reply r = command(c, "PING");
    int type = r == nullptr ? -1 : r->type;
    INFO("reply type " << type << (type == REDIS_REPLY_NIL ? " (the stale BLPOP nil)" : ""));
    CHECK(r == nullptr);
    CHECK((c->err == REDIS_ERR_IO || c->err == REDIS_ERR_EOF));
}

void expect_pong(int port) {
    Context fresh = connect(port);
    Reply r = command(fresh.get(), "PING");
    REQUIRE(r != nullptr);
    CHECK(std::string(r->str, r->len) == "PONG");
}

struct IgnoreSigpipe {   // hiredis writes with send(..., 0): a poisoned socket says EPIPE
    IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }
};

}  // namespace

TEST_CASE("a Timeout that interrupts BLPOP makes the next PING on that connection fail, not return BLPOP's nil",
          "[monkey][poison][redis]") {
    IgnoreSigpipe ignore;
    RedisServer server;
    run_patched([&] {
        Context c = connect(server.port());
        bool timed_out = false;
        {
            gev::Timeout limit{50ms};
            try {
                Reply r = blpop(c.get());
                FAIL("BLPOP returned before the Timeout: " << (r ? r->type : -1));
            } catch (const gev::Timeout& t) {
                if (!t.is(limit)) throw;
                timed_out = true;
            }
        }
        REQUIRE(timed_out);
        expect_failure(c.get());
        expect_pong(server.port());   // the server itself is fine
    });
}

TEST_CASE("a kill that interrupts BLPOP makes the next PING on that connection fail", "[monkey][poison][redis]") {
    IgnoreSigpipe ignore;
    RedisServer server;
    run_patched([&] {
        Context c = connect(server.port());
        bool started = false;
        auto waiter = gev::spawn([&] {
            started = true;
            blpop(c.get());
        });
        gev::sleep(50ms);
        REQUIRE(started);
        REQUIRE_FALSE(waiter.ready());
        waiter.kill();
        CHECK(waiter.dead());
        expect_failure(c.get());
        expect_pong(server.port());
    });
}

TEST_CASE("several hiredis connections: only the interrupted one is poisoned", "[monkey][poison][redis]") {
    IgnoreSigpipe ignore;
    RedisServer server;
    run_patched([&] {
        Context hit = connect(server.port());
        Context spared = connect(server.port());
        auto interrupted = gev::spawn([&] {
            gev::Timeout limit{50ms};
            try {
                blpop(hit.get());
            } catch (const gev::Timeout& t) {
                if (!t.is(limit)) throw;
            }
        });
        Reply nil;
        auto completed = gev::spawn([&] { nil = blpop(spared.get()); });
        interrupted.get();
        completed.get();   // the untouched connection answers its own command
        REQUIRE(nil != nullptr);
        CHECK(nil->type == REDIS_REPLY_NIL);
        Reply pong = command(spared.get(), "PING");
        REQUIRE(pong != nullptr);
        CHECK(std::string(pong->str, pong->len) == "PONG");
        expect_failure(hit.get());
    });
}
