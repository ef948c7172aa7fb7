// tests/monkey/fd_test.cpp — who gets the real call and who gets a fiber's wait:
// threads without a hub, unpatched hooks, accept and connect on blocking sockets,
// fds passed with sendmsg/recvmsg, the switches themselves, and no fd left behind.
#include "monkey_support.hpp"

#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

using namespace std::chrono_literals;
using namespace gev::testing;

TEST_CASE("a thread without a hub gets the real blocking call, even on a managed fd", "[monkey][thread]") {
    run_patched([] {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        auto w = gev::spawn([&] { REQUIRE(::write(p[1], "1", 1) == 1); });
        char c;
        REQUIRE(::read(p[0], &c, 1) == 1);   // a fiber waited: p[0] is managed now
        w.get();
        REQUIRE(kernel_nonblocking(p[0]));
        std::atomic<ssize_t> got{-2};
        std::atomic<int> err{0};
        std::thread t([&] {   // no hub: blocks the thread, and must not see EAGAIN
            char d;
            got = ::read(p[0], &d, 1);
            err = errno;
        });
        gev::sleep(5ms);
        CHECK(got == -2);   // still blocked in the thread
        REQUIRE(::write(p[1], "2", 1) == 1);
        t.join();
        CHECK(got == 1);
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("unpatched hooks make the real call and manage nothing", "[monkey][patch]") {
    gev::testing::run([] {
        REQUIRE_FALSE(gev::monkey::is_patched(gev::monkey::Patch::socket));
        int p[2];
        REQUIRE(::pipe(p) == 0);
        REQUIRE(::write(p[1], "x", 1) == 1);
        char c;
        CHECK(::read(p[0], &c, 1) == 1);
        CHECK_FALSE(kernel_nonblocking(p[0]));
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("patch switches are reported by is_patched, by part and by gevent's names", "[monkey][patch]") {
    gev::monkey::unpatch_all();
    CHECK_FALSE(gev::monkey::is_patched());
    gev::monkey::patch_time();
    CHECK(gev::monkey::is_patched(gev::monkey::Patch::time));
    CHECK(gev::monkey::is_patched("time"));
    CHECK_FALSE(gev::monkey::is_patched("socket"));
    CHECK_FALSE(gev::monkey::is_patched(gev::monkey::Patch::all));
    gev::monkey::patch_all();
    CHECK(gev::monkey::is_patched());
    CHECK(gev::monkey::is_patched("dns"));
    CHECK(gev::monkey::is_patched("subprocess"));
    CHECK(gev::monkey::is_patched("os"));   // gevent's patch_os is its waitpid
    CHECK(gev::monkey::is_patched("file"));
    CHECK_FALSE(gev::monkey::is_patched("thread"));
    gev::monkey::unpatch_all();
}

TEST_CASE("the hooks are the definitions this process calls", "[monkey][patch]") {
    CHECK(gev::monkey::hooks_active());
}

TEST_CASE("accept and connect on blocking sockets park only their fibers", "[monkey][socket]") {
    run_patched([] {
        sockaddr_in at{};
        int l = c_listener(&at);
        Trace trace;
        std::string greeting;
        auto server = gev::spawn([&] {
            trace.push_back("accept");
            sockaddr_in peer{};
            socklen_t len = sizeof peer;
            int c = ::accept(l, reinterpret_cast<sockaddr*>(&peer), &len);
            REQUIRE(c >= 0);
            CHECK(peer.sin_family == AF_INET);
            trace.push_back("accepted");
            CHECK(::send(c, "hello", 5, 0) == 5);
            ::close(c);
        });
        auto client = gev::spawn([&] {
            trace.push_back("connect");
            int s = ::socket(AF_INET, SOCK_STREAM, 0);
            REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
            char buf[16];
            ssize_t n = ::recv(s, buf, sizeof buf, 0);
            greeting.assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
            ::close(s);
        });
        gev::joinall({server, client});
        CHECK(trace.front() == "accept");
        CHECK(trace[1] == "connect");
        CHECK(greeting == "hello");
        ::close(l);
    });
}

TEST_CASE("accept4 and socket flags give the caller the mode it asked for", "[monkey][socket]") {
    run_patched([] {
        sockaddr_in at{};
        int l = c_listener(&at);
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK(caller_nonblocking(c));
        int r = ::connect(c, reinterpret_cast<sockaddr*>(&at), sizeof at);
        CHECK((r == 0 || errno == EINPROGRESS));   // non-blocking: no wait
        int s = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        REQUIRE(s >= 0);
        CHECK(caller_nonblocking(s));
        char x;
        CHECK(::recv(s, &x, 1, 0) == -1);
        CHECK(errno == EAGAIN);
        for (int fd : {l, c, s}) ::close(fd);
    });
}

TEST_CASE("sendmsg and recvmsg carry data and an fd over a blocking Unix socketpair", "[monkey][socket]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        int p[2];
        REQUIRE(::pipe(p) == 0);
        int passed = -1;
        std::string data;
        auto receiver = gev::spawn([&] {
            char buf[8];
            iovec v{buf, sizeof buf};
            alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
            msghdr m{};
            m.msg_iov = &v;
            m.msg_iovlen = 1;
            m.msg_control = ctl;
            m.msg_controllen = sizeof ctl;
            ssize_t n = ::recvmsg(sv[1], &m, 0);
            data.assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
            if (cmsghdr* h = CMSG_FIRSTHDR(&m); h != nullptr && h->cmsg_type == SCM_RIGHTS)
                std::memcpy(&passed, CMSG_DATA(h), sizeof passed);
        });
        gev::sleep(0ns);   // the receiver parks first
        char payload[] = "fd!";
        iovec v{payload, 3};
        alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
        msghdr m{};
        m.msg_iov = &v;
        m.msg_iovlen = 1;
        m.msg_control = ctl;
        m.msg_controllen = sizeof ctl;
        cmsghdr* h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(h), &p[1], sizeof(int));
        CHECK(::sendmsg(sv[0], &m, 0) == 3);
        receiver.get();
        CHECK(data == "fd!");
        REQUIRE(passed >= 0);
        CHECK(::write(passed, "z", 1) == 1);   // the passed write end works
        char c;
        CHECK(::read(p[0], &c, 1) == 1);
        for (int fd : {sv[0], sv[1], p[0], p[1], passed}) ::close(fd);
    });
}

TEST_CASE("waits, polls, timeouts and closes leave no fd behind", "[monkey][leak]") {
    run_patched([] {
        int before = count_fds();
        for (int i = 0; i < 20; ++i) {
            auto [a, b] = c_tcp_pair();
            auto w = gev::spawn([&, b = b] {
                gev::sleep(1ms);
                ::send(b, "x", 1, 0);
            });
            pollfd pf[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
            CHECK(::poll(pf, 2, 1000) == 1);   // two fds: a private epoll set, then closed
            char c;
            CHECK(::recv(a, &c, 1, 0) == 1);
            timeval tv{0, 1000};
            ::setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            CHECK(::recv(a, &c, 1, 0) == -1);   // timed out
            w.get();
            ::close(a);
            ::close(b);
        }
        CHECK(count_fds() == before);
    });
}

TEST_CASE("a Unix stream connect and accept work on a blocking socket", "[monkey][socket]") {
    run_patched([] {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/gev-monkey-%d.sock", static_cast<int>(::getpid()));
        ::unlink(addr.sun_path);
        int l = ::socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(l, 4) == 0);
        auto server = gev::spawn([&] {
            int c = ::accept(l, nullptr, nullptr);
            char buf[4];
            CHECK(::read(c, buf, 4) == 4);
            CHECK(::write(c, buf, 4) == 4);
            ::close(c);
        });
        int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        CHECK(::write(s, "ping", 4) == 4);
        char buf[4];
        CHECK(::read(s, buf, 4) == 4);
        CHECK(std::string(buf, 4) == "ping");
        server.get();
        ::close(s);
        ::close(l);
        ::unlink(addr.sun_path);
    });
}
