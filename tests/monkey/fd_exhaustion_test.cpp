// tests/monkey/fd_exhaustion_test.cpp — out of fds under the hooks (RLIMIT_NOFILE's soft
// limit lowered here and every free number below it taken, restored after): the hooked
// socket, pipe, eventfd and a blocking accept on a fiber fail at once with -1 and EMFILE,
// as the C library's do, parking no one and leaving no fd-table description behind; once
// an fd is free the listener's pending connection is accepted and served.
#include "fd_exhaust.hpp"
#include "monkey_support.hpp"
#include "monkey/fd_table.hpp"

#include <sys/eventfd.h>

#include <cerrno>
#include <vector>

using namespace std::chrono_literals;
using namespace gev::testing;
namespace md = gev::monkey::detail;

TEST_CASE("out of fds, the hooked socket, pipe, eventfd and a blocking accept fail with EMFILE and park no one",
          "[monkey][fault][fds]") {
    run_patched([] {
        sockaddr_in at{};
        int l = c_listener(&at);
        int c = ::socket(AF_INET, SOCK_STREAM, 0);   // made before the limit
        REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
        REQUIRE(::write(c, "ping", 4) == 4);
        std::size_t descs = md::fd_descs_in_use();
        {
            Exhausted out;
            int p[2] = {-1, -1};
            errno = 0;
            CHECK(::socket(AF_INET, SOCK_STREAM, 0) == -1);
            CHECK(errno == EMFILE);
            errno = 0;
            CHECK(::pipe(p) == -1);
            CHECK(errno == EMFILE);
            errno = 0;
            CHECK(::eventfd(0, EFD_CLOEXEC) == -1);
            CHECK(errno == EMFILE);
            errno = 0;
            CHECK(::accept(l, nullptr, nullptr) == -1);   // the connection is pending: no wait
            CHECK(errno == EMFILE);
            CHECK(md::fd_descs_in_use() == descs);
            CHECK(free_fds() == 0);
            out.release(1);
            int s = ::accept(l, nullptr, nullptr);
            REQUIRE(s >= 0);
            char buf[4];
            CHECK(::read(s, buf, 4) == 4);
            CHECK(::write(s, "pong", 4) == 4);
            ::close(s);
        }
        char buf[4];
        CHECK(::read(c, buf, 4) == 4);
        CHECK(std::string(buf, 4) == "pong");
        ::close(c);
        ::close(l);
    });
}
