// tests/monkey/reuse_test.cpp — a managed fd's number closed behind the hooks' back
// (the C library's own close) and reused by a new file while a blocking call waits on
// it: whatever hook waits (sendfile, splice, sendmmsg, recvmmsg, connect, accept), the
// call ends with EBADF once it wakes (or with the count already moved), as read does
// (wait_test.cpp), rather than going on with the number's new file. The old file is
// kept alive by a dup so that its event is what wakes the waiter.
#include "monkey_support.hpp"
#include "plain_calls.hpp"

#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace gev::testing;
namespace orig = gev::monkey::original;

namespace {

// What a blocking call returned: its result and errno (0 on success).
struct Outcome {
    long result = 99;
    int err = 0;
};

Outcome outcome_of(long r) { return Outcome{r, r < 0 ? errno : 0}; }

// Closes `number` with the C library's close, which the hooks never see, after a dup
// of it that keeps its file alive (returned); then `make` (hooked calls) opens a new
// file, which must take the number.
template <class Make>
int reuse_behind_hooks(int number, Make make) {
    int keep = orig::dup(number);
    REQUIRE(keep >= 0);
    orig::close(number);
    REQUIRE(make() == number);
    return keep;
}

// A new Unix stream pair (hooked): its first end's number.
int new_pair(int (&fresh)[2]) {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fresh) == 0);
    return fresh[0];
}

// Makes fd managed (a hooked write on the fiber) and fills its send buffer with the C
// library's write: a blocking send on it now waits.
void fill(int fd) {
    REQUIRE(::write(fd, "x", 1) == 1);
    char chunk[4096] = {};
    ssize_t n = 0;
    for (int i = 0; i < 10'000 && (n = orig::write(fd, chunk, sizeof chunk)) > 0; ++i) {}
    REQUIRE((n < 0 && errno == EAGAIN));
}

// Reads whatever is queued on fd without blocking (the peer's send buffer empties):
// how many bytes that was.
std::size_t drain(int fd) {
    char chunk[65536];
    std::size_t got = 0;
    ssize_t n = 0;
    for (int i = 0; i < 10'000 && (n = orig::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT)) > 0; ++i)
        got += static_cast<std::size_t>(n);
    return got;
}

// Off the hub (a Watchdog's thread): reads fd until nothing came for 100 ms.
void drain_rest(int fd) {
    timeval wait{0, 100'000};
    orig::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    char chunk[65536];
    for (int i = 0; i < 100'000 && orig::recv(fd, chunk, sizeof chunk, 0) > 0; ++i) {}
}

// A temporary regular file holding n bytes; removed at once (the fd keeps it).
int temp_file(std::size_t n) {
    char path[] = "/tmp/gev_reuse_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::unlink(path);
    std::string data(n, 'f');
    REQUIRE(orig::write(fd, data.data(), n) == static_cast<ssize_t>(n));
    return fd;
}

// A Unix stream listener (a hooked socket) at an abstract address unique to this
// process and `tag`.
int unix_listener(const char* tag, int backlog, sockaddr_un* at) {
    *at = sockaddr_un{};
    at->sun_family = AF_UNIX;
    std::string name = "gev_reuse_" + std::to_string(::getpid()) + "_" + tag;
    std::memcpy(at->sun_path + 1, name.data(), name.size());
    int l = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(l >= 0);
    REQUIRE(::bind(l, reinterpret_cast<sockaddr*>(at), sizeof *at) == 0);
    REQUIRE(::listen(l, backlog) == 0);
    return l;
}

// Connects non-blocking clients (C library calls) until the listener's backlog is full.
std::vector<int> fill_backlog(const sockaddr_un& at) {
    std::vector<int> clients;
    for (int i = 0; i < 64; ++i) {
        int c = orig::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        REQUIRE(c >= 0);
        if (orig::connect(c, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
            REQUIRE(errno == EAGAIN);
            orig::close(c);
            return clients;
        }
        clients.push_back(c);
    }
    FAIL("the listener's backlog never filled");
    return clients;
}

void close_all(const std::vector<int>& fds) {
    for (int fd : fds) orig::close(fd);
}

// Connections in a TCP listener's accept queue (TCP_INFO's tcpi_unacked on a listener).
unsigned accept_queue(int l) {
    tcp_info info{};
    socklen_t len = sizeof info;
    REQUIRE(::getsockopt(l, IPPROTO_TCP, TCP_INFO, &info, &len) == 0);
    return info.tcpi_unacked;
}

}  // namespace

TEST_CASE("a blocking sendfile whose fd is closed behind the hooks' back and reused while it waits ends with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        constexpr std::size_t kSize = 16 * 1024;
        int file = temp_file(kSize);
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        fill(number);
        Outcome out;
        auto sender = gev::spawn([&] {
            off_t off = 0;
            out = outcome_of(plain_sendfile(number, file, &off, kSize));
        });
        gev::sleep(1ms);   // the sender parks on the old file, which is full
        int keep = reuse_behind_hooks(number, [&] { return new_pair(fresh); });
        drain(old_pair[1]);   // the old file has room: wakes the sender
        sender.get(2s);
        // Before the fix: the sendfile went on into the number's new file (16384 bytes).
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        ::close(old_pair[1]);
        ::close(file);
    });
}

TEST_CASE("a blocking sendfile whose fd is reused behind the hooks' back after some bytes moved returns their count",
          "[monkey][reuse]") {
    run_patched([] {
        constexpr std::size_t kSize = 4 << 20;   // more than the old file's buffer takes
        int file = temp_file(kSize);
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        Outcome out;
        auto sender = gev::spawn([&] {
            off_t off = 0;
            out = outcome_of(plain_sendfile(number, file, &off, kSize));
        });
        gev::sleep(1ms);   // the sender filled the old file's buffer and parks
        int keep = reuse_behind_hooks(number, [&] { return new_pair(fresh); });
        std::size_t moved = 0;
        {
            // Before the fix the sendfile went on into the new file, which gev does not
            // manage yet: it blocked the hub until this thread read the new file.
            Watchdog rescue([&] { drain_rest(fresh[1]); }, 1000ms);
            moved = drain(old_pair[1]);
            sender.get(2s);
        }
        CHECK(moved > 0);
        CHECK(out.result == static_cast<long>(moved));   // before the fix: 4194304
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        ::close(old_pair[1]);
        ::close(file);
    });
}

TEST_CASE("a blocking splice whose source fd is closed behind the hooks' back and reused while it waits ends "
          "with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        int old_pair[2], fresh[2], p[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        REQUIRE(::pipe(p) == 0);
        int number = old_pair[0];
        Outcome out;
        auto mover = gev::spawn([&] { out = outcome_of(plain_splice(number, nullptr, p[1], nullptr, 4096, 0)); });
        gev::sleep(1ms);   // the mover parks on the old file, which is empty
        int keep = reuse_behind_hooks(number, [&] { return new_pair(fresh); });
        REQUIRE(::write(fresh[1], "new", 3) == 3);
        REQUIRE(orig::write(old_pair[1], "old", 3) == 3);   // wakes the mover
        mover.get(2s);
        // Before the fix: the splice moved "new" from the number's new file (3).
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        for (int fd : {fresh[0], fresh[1], p[0], p[1], old_pair[1]}) ::close(fd);
        orig::close(keep);
    });
}

TEST_CASE("a blocking sendmmsg whose fd is closed behind the hooks' back and reused while it waits ends with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        fill(number);
        char a[] = "first", b[] = "second";
        iovec iov[2] = {{a, 5}, {b, 6}};
        mmsghdr msgs[2] = {};
        for (int i = 0; i < 2; ++i) {
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        Outcome out;
        auto sender = gev::spawn([&] { out = outcome_of(plain_sendmmsg(number, msgs, 2, 0)); });
        gev::sleep(1ms);
        int keep = reuse_behind_hooks(number, [&] { return new_pair(fresh); });
        drain(old_pair[1]);
        sender.get(2s);
        // Before the fix: both messages went into the number's new file (2).
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        ::close(old_pair[1]);
    });
}

TEST_CASE("a blocking recvmmsg whose fd is closed behind the hooks' back and reused while it waits ends with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        char buf[16] = {};
        iovec iov{buf, sizeof buf};
        mmsghdr msg{};
        msg.msg_hdr.msg_iov = &iov;
        msg.msg_hdr.msg_iovlen = 1;
        Outcome out;
        auto receiver = gev::spawn([&] { out = outcome_of(plain_recvmmsg(number, &msg, 1, 0, nullptr)); });
        gev::sleep(1ms);   // the receiver parks on the old file, which is empty
        int keep = reuse_behind_hooks(number, [&] { return new_pair(fresh); });
        REQUIRE(::write(fresh[1], "new", 3) == 3);
        REQUIRE(orig::write(old_pair[1], "old", 3) == 3);   // wakes the receiver
        receiver.get(2s);
        // Before the fix: the recvmmsg went on with the number's new file and got "new".
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        CHECK(std::string(buf).empty());
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        ::close(old_pair[1]);
    });
}

TEST_CASE("a blocking connect whose fd is closed behind the hooks' back and reused while it waits ends with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        // A loopback listener whose accept queue is full: the kernel drops the next SYN,
        // so a connect to it stays in progress.
        sockaddr_in at{};
        int l = c_listener(&at);
        REQUIRE(::listen(l, 0) == 0);
        int first = orig::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(orig::connect(first, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
        for (int i = 0; i < 200 && accept_queue(l) < 1; ++i) gev::sleep(1ms);
        REQUIRE(accept_queue(l) >= 1);
        int number = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        Outcome out;
        auto connector = gev::spawn([&] {
            out = outcome_of(::connect(number, reinterpret_cast<sockaddr*>(&at), sizeof at));
        });
        gev::sleep(1ms);   // the connector parks, its SYN unanswered
        int fresh[2];
        int keep = reuse_behind_hooks(number, [&] { return new_pair(fresh); });
        REQUIRE(::shutdown(keep, SHUT_RDWR) == 0);   // aborts the old connect: wakes the connector
        connector.get(2s);
        // Before the fix: the connect read the new file's SO_ERROR (none) and returned 0.
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        orig::close(first);
        ::close(l);
    });
}

TEST_CASE("a blocking Unix connect to a full backlog whose fd is closed behind the hooks' back and reused ends "
          "with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        sockaddr_un at{};
        int l = unix_listener("backlog", 0, &at);
        std::vector<int> clients = fill_backlog(at);
        int number = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        Outcome out;
        auto connector = gev::spawn([&] {
            out = outcome_of(::connect(number, reinterpret_cast<sockaddr*>(&at), sizeof at));
        });
        gev::sleep(1ms);   // the connector retries, the backlog still full
        int keep = reuse_behind_hooks(number, [&] { return ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); });
        int accepted = orig::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);   // room for one more
        REQUIRE(accepted >= 0);
        connector.get(2s);
        // Before the fix: the retry connected the number's new socket and returned 0.
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        ::close(number);
        orig::close(keep);
        orig::close(accepted);
        close_all(clients);
        ::close(l);
    });
}

TEST_CASE("a blocking accept whose fd is closed behind the hooks' back and reused while it waits ends with EBADF",
          "[monkey][reuse]") {
    run_patched([] {
        sockaddr_un old_at{}, new_at{};
        int number = unix_listener("old", 4, &old_at);
        Outcome out;
        auto acceptor = gev::spawn([&] { out = outcome_of(::accept(number, nullptr, nullptr)); });
        gev::sleep(1ms);   // the acceptor parks on the old listener
        int keep = reuse_behind_hooks(number, [&] { return unix_listener("new", 4, &new_at); });
        int to_new = orig::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(orig::connect(to_new, reinterpret_cast<sockaddr*>(&new_at), sizeof new_at) == 0);
        int to_old = orig::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(orig::connect(to_old, reinterpret_cast<sockaddr*>(&old_at), sizeof old_at) == 0);   // wakes it
        acceptor.get(2s);
        // Without the check, the accept would take the new listener's connection.
        CHECK(out.result == -1);
        CHECK(out.err == EBADF);
        if (out.result >= 0) ::close(static_cast<int>(out.result));
        orig::close(to_new);
        orig::close(to_old);
        orig::close(keep);
        ::close(number);
    });
}
