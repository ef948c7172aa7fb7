// tests/net/fd_exhaustion_test.cpp — out of fds (RLIMIT_NOFILE's soft limit lowered
// here and every free number below it taken, restored after): making a socket,
// accepting, Popen's pipes and a new hub's poller (its epoll set or ring and its wake-up
// eventfd) each fail with a std::system_error naming the operation, with EMFILE; a call
// that needs two fds and got one gives it back; and the program goes on: once fds are
// free the same calls work, and the listener serves the connection it refused.
#include "fd_exhaust.hpp"
#include "net_support.hpp"


#include <exception>
#include <thread>

using namespace std::chrono_literals;
using gev::net::Socket;
using gev::net::SocketError;
using namespace gev::testing;

namespace {

// Runs call, which must throw a std::system_error with EMFILE whose what() names `op`.
template <class F>
void require_emfile(F&& call, const std::string& op) {
    try {
        call();
        FAIL("no error while out of fds");
    } catch (const std::system_error& e) {
        INFO(e.what());
        CHECK(e.code().value() == EMFILE);
        CHECK(std::string(e.what()).find(op) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("out of fds, making a socket throws SocketError EMFILE, and works once an fd is free",
          "[net][fault][fds]") {
    run([] {
        Exhausted out(0);
        require_emfile([] { Socket s(AF_INET, SOCK_STREAM); }, "socket");
        out.release(1);
        Socket s(AF_INET, SOCK_STREAM);
        CHECK(s.fileno() >= 0);
    });
}

TEST_CASE("out of fds, accept throws SocketError EMFILE and the listener serves the connection once an fd is free",
          "[net][fault][fds]") {
    run([] {
        Socket l = listener();
        Socket c(AF_INET, SOCK_STREAM);   // made before the limit
        c.connect(l.local_address());
        c.sendall("ping");
        {
            Exhausted out(0);
            require_emfile([&l] { l.accept(); }, "accept");
            CHECK(free_fds() == 0);
            out.release(1);
            auto [s, peer] = l.accept();   // the refused connection waited in the backlog
            s.set_timeout(2s);
            CHECK(s.recv_exactly(4) == "ping");
            s.sendall("pong");
        }
        c.set_timeout(2s);
        CHECK(c.recv_exactly(4) == "pong");
    });
}

TEST_CASE("out of fds, Popen's pipes throw std::system_error EMFILE and leave no fd behind", "[net][fault][fds]") {
    run([] {
        gev::subprocess::PopenOptions opts;
        opts.stdin = gev::subprocess::PIPE;
        opts.stdout = gev::subprocess::PIPE;
        {
            Exhausted out(3);   // one pipe, and half of the next
            require_emfile([&] { gev::subprocess::Popen p({"true"}, opts); }, "pipe");
            CHECK(free_fds() == 3);   // the first pipe was closed again
        }
        gev::subprocess::Popen p({"true"}, opts);
        CHECK(p.wait() == 0);
    });
}

TEST_CASE("out of fds, a new hub's poller throws std::system_error EMFILE, leaves no fd behind, and starts once fds "
          "are free",
          "[net][fault][fds]") {
    auto start_hub = [] {
        std::exception_ptr failure;
        int result = -1;
        std::thread([&] {
            try {
                result = gev::run([] { return 7; });
            } catch (...) {
                failure = std::current_exception();
            }
        }).join();
        if (failure) std::rethrow_exception(failure);
        return result;
    };
    {
        Exhausted out(1);   // the first of the poller's two fds, not the second
        require_emfile(start_hub, "poller");
        CHECK(free_fds() == 1);
    }
    CHECK(start_hub() == 7);
}
