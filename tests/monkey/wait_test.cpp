// tests/monkey/wait_test.cpp — where a patched fd's waits live in the hub's poller: on
// epoll a managed fd stays registered between blocking waits (one EPOLL_CTL_ADD, not
// ADD/DEL around each wait), held by no hub; a close the hooks never see, or one made
// on another hub's thread, is noticed at the next wait, which registers the new file,
// and the old file's events wake no one waiting on the new one. A poll on a managed fd
// and epoll_wait's epoll fd keep their registration too; several fibers may poll one fd.
#include "monkey_support.hpp"

#include <dirent.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using namespace gev::testing;
namespace orig = gev::monkey::original;

namespace {

// Whether an epoll set of this process (the hub's) watches fd, from /proc's fdinfo.
bool epoll_watches(int fd) {
    DIR* d = ::opendir("/proc/self/fd");
    REQUIRE(d != nullptr);
    bool found = false;
    while (dirent* e = ::readdir(d)) {
        char link[64] = {};
        std::string path = std::string("/proc/self/fd/") + e->d_name;
        if (::readlink(path.c_str(), link, sizeof link - 1) <= 0 || std::strcmp(link, "anon_inode:[eventpoll]") != 0)
            continue;
        std::ifstream info(std::string("/proc/self/fdinfo/") + e->d_name);
        for (std::string line; std::getline(info, line);) {
            int tfd = -1;
            if (std::sscanf(line.c_str(), "tfd: %d", &tfd) == 1 && tfd == fd) found = true;
        }
    }
    ::closedir(d);
    return found;
}

bool on_epoll() { return std::strcmp(gev::poller_name(), "epoll") == 0; }

// A blocking read of `fd` that parks until a second fiber writes `what` to `peer`.
std::string read_after_park(int fd, int peer, const std::string& what) {
    auto writer = gev::spawn([peer, what] {
        gev::sleep(1ms);
        REQUIRE(::write(peer, what.data(), what.size()) == static_cast<ssize_t>(what.size()));
    });
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    writer.join();
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "error " + std::to_string(errno);
}

void set_rcvtimeo(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
}

}  // namespace

TEST_CASE("a patched fd waited on twice on epoll is registered once", "[monkey][wait]") {
    run_patched([] {
        int p[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
        REQUIRE(read_after_park(p[0], p[1], "one") == "one");
        // Still registered once the wait ended (before: EPOLL_CTL_DEL after each wait).
        if (on_epoll()) CHECK(epoll_watches(p[0]));
        REQUIRE(read_after_park(p[0], p[1], "two") == "two");
        if (on_epoll()) CHECK(epoll_watches(p[0]));
        ::close(p[0]);   // the hooks' close forgets it: nothing stays registered
        CHECK_FALSE(epoll_watches(p[0]));
        ::close(p[1]);
    });
}

TEST_CASE("a raw wait on a patched hub leaves nothing registered", "[monkey][wait]") {
    run_patched([] {
        int p[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
        auto writer = gev::spawn([&] {
            gev::sleep(1ms);
            REQUIRE(::write(p[1], "x", 1) == 1);
        });
        pollfd f{p[0], POLLIN, 0};
        REQUIRE(::poll(&f, 1, 2000) == 1);
        writer.join();
        CHECK_FALSE(epoll_watches(p[0]));
        ::close(p[0]);
        ::close(p[1]);
    });
}

// Closes `number` behind the hooks' back (as fclose does) and makes a new patched
// socketpair, which takes the lowest free numbers; returns its end that is not `number`.
int reuse_behind_hooks(int number, int (&fresh)[2]) {
    orig::close(number);
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fresh) == 0);
    REQUIRE((fresh[0] == number || fresh[1] == number));
    set_rcvtimeo(number, 2000);
    return fresh[0] == number ? fresh[1] : fresh[0];
}

TEST_CASE("a patched fd closed behind the hooks' back and reused is registered again", "[monkey][wait]") {
    run_patched([] {
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        REQUIRE(read_after_park(number, old_pair[1], "old") == "old");
        int peer = reuse_behind_hooks(number, fresh);
        // Before the tag: the number counted as registered, the new file was never
        // added, and the read ended with EAGAIN after SO_RCVTIMEO.
        REQUIRE(read_after_park(number, peer, "fresh") == "fresh");
        ::close(fresh[0]);
        ::close(fresh[1]);
        ::close(old_pair[1]);
    });
}

TEST_CASE("a patched fd closed behind the hooks' back and reused wakes no stale waiter", "[monkey][wait]") {
    run_patched([] {
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        REQUIRE(read_after_park(number, old_pair[1], "old") == "old");
        int keep = orig::dup(number);   // keeps the old file, and its epoll entry, alive
        REQUIRE(keep >= 0);
        int peer = reuse_behind_hooks(number, fresh);
        Trace trace;
        auto reader = gev::spawn([&] {
            char buf[16];
            ssize_t n = ::read(number, buf, sizeof buf);
            trace.push_back("read " + std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
        });
        gev::sleep(1ms);   // the reader parks on the new file
        REQUIRE(orig::write(old_pair[1], "stale", 5) == 5);   // an event of the old file
        gev::sleep(2ms);
        trace.push_back("stale written");
        REQUIRE(::write(peer, "fresh", 5) == 5);
        reader.get(2s);
        CHECK(trace == Trace{"stale written", "read fresh"});
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        ::close(old_pair[1]);
    });
}

TEST_CASE("a patched fd closed and reused on another thread is registered again here", "[monkey][wait]") {
    run_patched([] {
        int p[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
        int number = p[0];
        REQUIRE(read_after_park(number, p[1], "one") == "one");
        int fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fresh) == 0);
        // dup2 on a plain thread: the hooks close the number there, and the next wait
        // here sees a new file in the hooks' table (and a newer generation, where a
        // hub ever held a number near it).
        std::thread([&] { REQUIRE(::dup2(fresh[0], number) == number); }).join();
        ::close(fresh[0]);
        set_rcvtimeo(number, 2000);
        REQUIRE(read_after_park(number, fresh[1], "two") == "two");
        ::close(number);
        ::close(fresh[1]);
        ::close(p[1]);
    });
}

TEST_CASE("a poll on a managed fd keeps its registration, and sees a number reused behind the hooks' back",
          "[monkey][wait]") {
    run_patched([] {
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        REQUIRE(read_after_park(number, old_pair[1], "m") == "m");   // managed from here on
        auto poll_after_write = [](int fd, int peer) {
            auto writer = gev::spawn([peer] {
                gev::sleep(1ms);
                REQUIRE(::write(peer, "p", 1) == 1);
            });
            pollfd f{fd, POLLIN, 0};
            int n = ::poll(&f, 1, 2000);
            writer.join();
            return n;
        };
        REQUIRE(poll_after_write(number, old_pair[1]) == 1);
        if (on_epoll()) CHECK(epoll_watches(number));
        char c;
        REQUIRE(::read(number, &c, 1) == 1);
        int peer = reuse_behind_hooks(number, fresh);
        REQUIRE(poll_after_write(number, peer) == 1);   // the new file is watched, not the old one's entry
        ::close(fresh[0]);
        ::close(fresh[1]);
        ::close(old_pair[1]);
    });
}

TEST_CASE("two fibers polling one managed fd both wake, beside a blocking read on it", "[monkey][wait]") {
    run_patched([] {
        int p[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
        Trace trace;
        auto reader = gev::spawn([&] {
            char buf[8];
            ssize_t n = ::read(p[0], buf, 1);
            trace.push_back("read " + std::to_string(n));
        });
        auto poller = [&] {
            pollfd f{p[0], POLLIN, 0};
            int n = ::poll(&f, 1, 2000);
            trace.push_back("poll " + std::to_string(n));
        };
        auto a = gev::spawn(poller);
        auto b = gev::spawn(poller);
        gev::sleep(2ms);
        REQUIRE(::write(p[1], "xy", 2) == 2);
        reader.get(2s);
        a.get(2s);
        b.get(2s);
        std::sort(trace.begin(), trace.end());
        CHECK(trace == Trace{"poll 1", "poll 1", "read 1"});
        ::close(p[0]);
        ::close(p[1]);
    });
}

TEST_CASE("epoll_wait on a patched hub keeps its epoll fd registered between calls", "[monkey][wait][epoll]") {
    run_patched([] {
        int ep = ::epoll_create1(EPOLL_CLOEXEC);
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        epoll_event ev{};
        ev.events = EPOLLIN;
        REQUIRE(::epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
        for (int round = 0; round < 2; ++round) {
            auto writer = gev::spawn([&] {
                gev::sleep(1ms);
                REQUIRE(::write(p[1], "e", 1) == 1);
            });
            epoll_event got{};
            REQUIRE(::epoll_wait(ep, &got, 1, 2000) == 1);
            writer.join();
            char c;
            REQUIRE(::read(p[0], &c, 1) == 1);
            if (on_epoll()) CHECK(epoll_watches(ep));   // before: EPOLL_CTL_DEL after each call
        }
        ::close(p[0]);
        ::close(p[1]);
        ::close(ep);
    });
}

TEST_CASE("a blocking read whose fd is closed behind the hooks' back and reused while it waits ends with EBADF",
          "[monkey][wait]") {
    run_patched([] {
        int old_pair[2], fresh[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, old_pair) == 0);
        int number = old_pair[0];
        REQUIRE(read_after_park(number, old_pair[1], "m") == "m");   // managed, registered
        std::string got;
        int err = 0;
        auto reader = gev::spawn([&] {
            char buf[16];
            ssize_t n = ::read(number, buf, sizeof buf);
            err = n < 0 ? errno : 0;
            got = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
        });
        gev::sleep(1ms);                 // the reader parks on the old file
        int keep = orig::dup(number);    // the old file stays alive, and its epoll entry
        REQUIRE(keep >= 0);
        int peer = reuse_behind_hooks(number, fresh);
        REQUIRE(::write(peer, "new", 3) == 3);
        REQUIRE(orig::write(old_pair[1], "old", 3) == 3);   // wakes the reader, on the old entry
        reader.get(2s);
        // Before the fix: the read went on with the number's new file and returned "new".
        CHECK(got.empty());
        CHECK(err == EBADF);
        ::close(fresh[0]);
        ::close(fresh[1]);
        orig::close(keep);
        ::close(old_pair[1]);
    });
}
