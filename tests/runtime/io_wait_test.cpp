// tests/runtime/io_wait_test.cpp — the poller seam's common layer (runtime/io_wait.cpp)
// through Poller::io directly: each way a wait ends is a typed outcome (ready with the
// call's result or the kernel's -errno, timed out, closed), a kill leaves the fd's side
// free for the next fiber, and only one fiber at a time may wait on a side.
#include "support.hpp"

#include "runtime/hub.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

using namespace std::chrono_literals;
using gev::detail::Hub;
using gev::detail::IoKind;
using gev::detail::IoOp;
using gev::detail::IoResult;
using gev::detail::WaitOutcome;

namespace {

struct Pair {
    int fd[2];
    Pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) == 0); }
    ~Pair() {
        for (int f : fd)
            if (f >= 0) {
                forget(f);
                ::close(f);
            }
    }
    static void forget(int f) { Hub::current()->poller().forget(f); }
};

IoResult recv_op(int fd, char* buf, std::size_t len, std::int64_t deadline) {
    IoOp op;
    op.kind = IoKind::recv;
    op.fd = fd;
    op.buf = buf;
    op.len = len;
    return Hub::current()->poller().io(op, deadline);
}

}  // namespace

TEST_CASE("a wait's outcome says timed out, not -ETIMEDOUT", "[runtime][io_wait]") {
    gev::testing::run([] {
        Pair p;
        char buf[8];
        IoResult r = recv_op(p.fd[0], buf, sizeof buf, Hub::current()->deadline_after(5ms));
        CHECK(r.outcome == WaitOutcome::timed_out);
        CHECK_FALSE(r.ready());
    });
}

TEST_CASE("a wait whose call ran is ready with the call's result", "[runtime][io_wait]") {
    gev::testing::run([] {
        Pair p;
        auto writer = gev::spawn([&p] {
            gev::sleep(1ms);
            REQUIRE(::write(p.fd[1], "abc", 3) == 3);
        });
        char buf[8];
        IoResult r = recv_op(p.fd[0], buf, sizeof buf, Hub::current()->deadline_after(2s));
        CHECK(r.outcome == WaitOutcome::ready);
        CHECK(r.res == 3);
        writer.join();
    });
}

TEST_CASE("a kernel error is a ready outcome with -errno, not a wait outcome", "[runtime][io_wait]") {
    gev::testing::run([] {
        Pair p;
        Pair::forget(p.fd[1]);
        ::close(p.fd[1]);
        p.fd[1] = -1;
        IoOp op;
        op.kind = IoKind::send;
        op.fd = p.fd[0];
        op.buf = const_cast<char*>("x");
        op.len = 1;
        IoResult r = Hub::current()->poller().io(op, -1);
        CHECK(r.outcome == WaitOutcome::ready);
        CHECK(r.res == -EPIPE);
    });
}

TEST_CASE("a wait ends closed when another fiber forgets its fd", "[runtime][io_wait]") {
    gev::testing::run([] {
        Pair p;
        IoResult r{WaitOutcome::ready, 99};
        auto reader = gev::spawn([&] {
            char buf[8];
            r = recv_op(p.fd[0], buf, sizeof buf, -1);
        });
        gev::sleep(1ms);   // the reader parks
        Pair::forget(p.fd[0]);
        reader.join();
        CHECK(r.outcome == WaitOutcome::closed);
        CHECK(r.gone());
    });
}

TEST_CASE("a second fiber waiting on the same side is refused, and a killed waiter frees it",
          "[runtime][io_wait]") {
    gev::testing::run([] {
        Pair p;
        auto first = gev::spawn([&] {
            char buf[8];
            recv_op(p.fd[0], buf, sizeof buf, -1);
        });
        gev::sleep(1ms);   // first parks on the read side
        char buf[8];
        CHECK_THROWS_AS(recv_op(p.fd[0], buf, sizeof buf, -1), gev::ConcurrentObjectUseError);
        first.kill();
        CHECK(first.dead());
        IoResult r = recv_op(p.fd[0], buf, sizeof buf, Hub::current()->deadline_after(2ms));
        CHECK(r.outcome == WaitOutcome::timed_out);
    });
}

TEST_CASE("the hub counts a parked wait as outstanding until it ends", "[runtime][io_wait]") {
    gev::testing::run([] {
        Pair p;
        auto& poller = Hub::current()->poller();
        std::size_t before = poller.outstanding();
        auto reader = gev::spawn([&] {
            char buf[8];
            recv_op(p.fd[0], buf, sizeof buf, Hub::current()->deadline_after(2s));
        });
        gev::sleep(1ms);
        CHECK(poller.outstanding() == before + 1);
        REQUIRE(::write(p.fd[1], "a", 1) == 1);
        reader.join();
        CHECK(poller.outstanding() == before);
    });
}
