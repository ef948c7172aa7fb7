// tests/monkey/poison_test.cpp — a kill or Timeout that unwinds out of a hooked call
// poisons the connection it waited on (issue 11, section 3): a Unix stream is shut
// down and emptied, a TCP connection reset; pipes, listeners and calls that end by
// themselves (SO_RCVTIMEO) are left alone; the switch and GEV_MONKEY_POISON=0 turn it
// off. hiredis against a real server: redis_test.cpp.
#include "monkey_support.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <initializer_list>
#include <string>
#include <vector>

extern char** environ;

using namespace std::chrono_literals;
using namespace gev::testing;

namespace {

// Runs call() under a 20 ms gev::Timeout; true if that Timeout ended it.
template <class F>
bool interrupted_by_timeout(F call) {
    gev::Timeout limit{20ms};
    try {
        call();
    } catch (const gev::Timeout& t) {
        if (!t.is(limit)) throw;
        return true;
    }
    return false;
}

// After the interrupt: the checks below must fail, not hang, where nothing was poisoned.
void bound(std::initializer_list<int> fds) {
    timeval tv{0, 200'000};
    for (int fd : fds) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

void blocking_recv(int fd) {
    char c;
    ::recv(fd, &c, 1, 0);
}

// send and recv on fd both fail as on a dead connection; errno of each.
std::pair<int, int> send_recv_errors(int fd) {
    errno = 0;
    int send_err = ::send(fd, "x", 1, MSG_NOSIGNAL) < 0 ? errno : 0;
    char c;
    errno = 0;
    ssize_t n = ::recv(fd, &c, 1, 0);
    int recv_err = n < 0 ? errno : (n == 0 ? -1 : 0);   // -1: end of stream
    return {send_err, recv_err};
}

// Sets the poisoning switch for one scope.
struct PoisonSwitch {
    explicit PoisonSwitch(bool on) { gev::monkey::set_poison_on_interrupt(on); }
    ~PoisonSwitch() { gev::monkey::set_poison_on_interrupt(was); }
    bool was = gev::monkey::poison_on_interrupt();
};

// This binary again, running only the tests tagged `tag`, with `env` added; its exit
// status. Its output goes to /dev/null: one of its runs is meant to fail.
int run_self(const char* tag, const char* env) {
    std::vector<char*> envp;
    if (env != nullptr) envp.push_back(const_cast<char*>(env));
    for (char** e = environ; *e != nullptr; ++e)
        if (std::string(*e).rfind("GEV_MONKEY_POISON=", 0) != 0) envp.push_back(*e);
    envp.push_back(nullptr);
    char self[] = "/proc/self/exe";
    std::string t = tag;
    char* argv[] = {self, t.data(), nullptr};
    posix_spawn_file_actions_t io;
    posix_spawn_file_actions_init(&io);
    posix_spawn_file_actions_addopen(&io, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&io, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int r = ::posix_spawn(&pid, self, &io, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&io);
    if (r != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("a Timeout that interrupts a blocking recv shuts the Unix stream down both ways", "[monkey][poison]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        REQUIRE(interrupted_by_timeout([&] { blocking_recv(sv[0]); }));
        bound({sv[0], sv[1]});
        errno = 0;
        CHECK(::send(sv[1], "late", 4, MSG_NOSIGNAL) == -1);   // a late reply cannot arrive
        CHECK(errno == EPIPE);
        auto [send_err, recv_err] = send_recv_errors(sv[0]);
        CHECK(send_err == EPIPE);
        CHECK(recv_err == -1);   // end of stream, never a stale byte
        char c;
        CHECK(::recv(sv[1], &c, 1, 0) == 0);   // the peer sees the connection end
        ::close(sv[0]);
        ::close(sv[1]);
    });
}

TEST_CASE("a kill that interrupts a blocking send drops what the connection had received", "[monkey][poison]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        REQUIRE(::send(sv[1], "stale", 5, 0) == 5);   // a reply the library has not read yet
        bool started = false;
        auto writer = gev::spawn([&] {
            started = true;
            std::string big(4 << 20, 'x');   // more than the socket buffers hold: send parks
            ::send(sv[0], big.data(), big.size(), 0);
        });
        gev::sleep(20ms);
        REQUIRE(started);
        REQUIRE_FALSE(writer.ready());
        writer.kill();
        bound({sv[0]});
        char buf[8];
        CHECK(::recv(sv[0], buf, sizeof buf, 0) == 0);   // not "stale"
        ::close(sv[0]);
        ::close(sv[1]);
    });
}

TEST_CASE("a Timeout that interrupts a recv on a TCP connection resets it", "[monkey][poison][tcp]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        REQUIRE(interrupted_by_timeout([&] { blocking_recv(a); }));
        bound({a, b});
        auto [send_err, recv_err] = send_recv_errors(a);
        CHECK(send_err == ECONNRESET);   // the first call hears of the reset
        CHECK(recv_err == ENOTCONN);     // an error, never a late reply
        CHECK(send_recv_errors(a).first == EPIPE);
        char c;
        errno = 0;
        CHECK(::recv(b, &c, 1, 0) == -1);   // the peer is told at once
        CHECK(errno == ECONNRESET);
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("a Timeout that interrupts poll poisons its connections but not a pipe or a listener",
          "[monkey][poison][poll]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        int p[2];
        REQUIRE(::pipe(p) == 0);
        sockaddr_in at{};
        int l = c_listener(&at);
        pollfd fds[3] = {{a, POLLIN, 0}, {p[0], POLLIN, 0}, {l, POLLIN, 0}};
        REQUIRE(interrupted_by_timeout([&] { ::poll(fds, 3, -1); }));
        bound({a});
        CHECK(send_recv_errors(a) == std::pair{ECONNRESET, ENOTCONN});
        REQUIRE(::write(p[1], "p", 1) == 1);   // the pipe still carries data
        char c;
        CHECK(::read(p[0], &c, 1) == 1);
        int client = ::socket(AF_INET, SOCK_STREAM, 0);   // the listener still accepts
        REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
        int accepted = ::accept(l, nullptr, nullptr);
        CHECK(accepted >= 0);
        for (int fd : {a, b, p[0], p[1], l, client, accepted}) ::close(fd);
    });
}

TEST_CASE("a Timeout that interrupts accept leaves the listener listening", "[monkey][poison]") {
    run_patched([] {
        sockaddr_in at{};
        int l = c_listener(&at);
        REQUIRE(interrupted_by_timeout([&] { ::accept(l, nullptr, nullptr); }));
        int client = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
        int accepted = ::accept(l, nullptr, nullptr);
        CHECK(accepted >= 0);
        for (int fd : {l, client, accepted}) ::close(fd);
    });
}

TEST_CASE("SO_RCVTIMEO ending a recv is no interrupt: the connection stays usable", "[monkey][poison]") {
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        timeval tv{0, 1000};
        REQUIRE(::setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
        char c;
        errno = 0;
        CHECK(::recv(a, &c, 1, 0) == -1);
        CHECK(errno == EAGAIN);
        REQUIRE(::send(b, "y", 1, 0) == 1);
        CHECK(::recv(a, &c, 1, 0) == 1);
        CHECK(c == 'y');
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("with poisoning switched off an interrupted connection is left as it was", "[monkey][poison][opt-out]") {
    PoisonSwitch off(false);
    CHECK_FALSE(gev::monkey::poison_on_interrupt());
    run_patched([] {
        auto [a, b] = c_tcp_pair();
        REQUIRE(interrupted_by_timeout([&] { blocking_recv(a); }));
        REQUIRE(::send(b, "z", 1, 0) == 1);
        char c = 0;
        CHECK(::recv(a, &c, 1, 0) == 1);   // the late byte is read: the caller's own risk
        CHECK(c == 'z');
        CHECK(::send(a, "w", 1, 0) == 1);
        ::close(a);
        ::close(b);
    });
}

TEST_CASE("poisoning is on by default and GEV_MONKEY_POISON=0 turns it off at load", "[monkey][poison][opt-out]") {
    CHECK(gev::monkey::poison_on_interrupt());
    CHECK(run_self("[poison_env_child]", "GEV_MONKEY_POISON=0") == 0);
    CHECK(run_self("[poison_env_child]", nullptr) != 0);   // the child's check can fail
}

TEST_CASE("child: poisoning is off", "[.][poison_env_child]") {
    REQUIRE_FALSE(gev::monkey::poison_on_interrupt());
}
