// tests/monkey/fd_table_test.cpp — the fd table's bookkeeping (issue 11, item 7): every
// call on an fd is O(1) however many are open, so tens of thousands of patched
// connections can set timeouts; closing erases an fd's entry, and a description lives
// exactly as long as its last dup. Times are measured by perf/monkey_bench --fds, not here.
#include "monkey_support.hpp"

#include "monkey/fd_table.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace gev::testing;
namespace md = gev::monkey::detail;

namespace {

// Raises the soft fd limit towards `want` more fds (never past the hard limit) and
// puts it back at the end; room() is how many more fds may be opened.
class FdLimit {
public:
    explicit FdLimit(std::size_t want) {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit rl = saved_;
        rlim_t need = static_cast<rlim_t>(want + static_cast<std::size_t>(count_fds()) + 64);
        if (rl.rlim_cur < need) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
        ::getrlimit(RLIMIT_NOFILE, &rl);
        std::size_t used = static_cast<std::size_t>(count_fds()) + 64;
        room_ = rl.rlim_cur > used ? std::min<std::size_t>(want, static_cast<std::size_t>(rl.rlim_cur) - used) : 0;
    }
    ~FdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    std::size_t room() const { return room_; }

private:
    rlimit saved_{};
    std::size_t room_ = 0;
};

bool erased(int fd) {
    md::FdEntry* e = md::fd_find(fd);
    return e == nullptr || e->desc.load() == 0;
}

// How many fd numbers share fd's description (0: nothing known about fd). The checks
// look at the test's own fds only: the runtime's own (its eventfd, stderr written to
// by a report) come and go in the table meanwhile.
std::uint32_t sharers(md::FdDesc* d) { return d == nullptr ? 0 : d->refs.load(); }

// A recv on fd that SO_RCVTIMEO ends: -1 with EAGAIN, after the fiber waited.
void expect_recv_times_out(int fd) {
    char c;
    errno = 0;
    CHECK(::recv(fd, &c, 1, 0) == -1);
    CHECK(errno == EAGAIN);
}

}  // namespace

TEST_CASE("50000 patched connections set timeouts and closing them erases every entry", "[monkey][fd_table]") {
    FdLimit limit(50'000);
    std::size_t pairs = limit.room() / 2;
    if (pairs < 25'000) WARN("RLIMIT_NOFILE's hard limit allows " << 2 * pairs << " fds here, not 50,000");
    REQUIRE(pairs >= 1'000);
    run_patched([pairs] {
        std::vector<int> fds(2 * pairs, -1);
        for (std::size_t i = 0; i < pairs; ++i) REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, &fds[2 * i]) == 0);
        timeval tv{0, 1000};
        std::size_t set = 0, mirrored = 0;
        std::vector<md::FdDesc*> descs;
        for (int fd : fds) {
            set += ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
            md::FdDesc* d = md::fd_desc(fd);
            mirrored += d != nullptr && sharers(d) == 1 && md::fd_timeout(*d, false) == 1'000'000;
            descs.push_back(d);
        }
        CHECK(set == fds.size());
        CHECK(mirrored == fds.size());
        expect_recv_times_out(fds.front());   // the mirrored timeout ends the fiber's wait
        expect_recv_times_out(fds.back());
        CHECK(kernel_nonblocking(fds.back()));
        CHECK_FALSE(caller_nonblocking(fds.back()));
        for (int fd : fds) ::close(fd);
        CHECK(std::all_of(fds.begin(), fds.end(), erased));
        CHECK(std::all_of(descs.begin(), descs.end(), [](md::FdDesc* d) { return sharers(d) == 0; }));
    });
}

TEST_CASE("closing one dup erases only its entry: the other keeps the timeout and the blocking mode",
          "[monkey][fd_table][dup]") {
    run_patched([] {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        int d = ::dup(sv[0]);
        REQUIRE(d >= 0);
        md::FdDesc* shared = md::fd_desc(d);
        CHECK(shared == md::fd_desc(sv[0]));   // a dup shares its description
        CHECK(sharers(shared) == 2);
        timeval tv{0, 1000};
        REQUIRE(::setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
        expect_recv_times_out(sv[0]);   // set through the dup, honoured on the original
        ::close(sv[0]);
        CHECK(erased(sv[0]));
        CHECK(md::fd_desc(d) == shared);
        CHECK(sharers(shared) == 1);
        expect_recv_times_out(d);
        CHECK(kernel_nonblocking(d));
        CHECK_FALSE(caller_nonblocking(d));
        REQUIRE(::write(sv[1], "x", 1) == 1);
        char c;
        CHECK(::read(d, &c, 1) == 1);
        md::FdDesc* other = md::fd_desc(sv[1]);
        ::close(d);
        CHECK(erased(d));
        CHECK(sharers(shared) == 0);
        CHECK(sharers(other) == 1);
        ::close(sv[1]);
        CHECK(sharers(other) == 0);
    });
}

TEST_CASE("dup2 over a managed fd erases what the table knew about the old file", "[monkey][fd_table][dup]") {
    run_patched([] {
        int a[2], b[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
        REQUIRE(::pipe2(b, O_NONBLOCK) == 0);
        timeval tv{0, 1000};
        REQUIRE(::setsockopt(a[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
        expect_recv_times_out(a[0]);   // managed now
        md::FdDesc* socket_end = md::fd_desc(a[0]);
        REQUIRE(::dup2(b[0], a[0]) == a[0]);   // a[0] now names the non-blocking pipe
        CHECK(sharers(socket_end) == 0);
        CHECK(md::fd_desc(a[0]) == md::fd_desc(b[0]));
        CHECK(sharers(md::fd_desc(b[0])) == 2);
        char c;
        errno = 0;
        CHECK(::read(a[0], &c, 1) == -1);   // the pipe's own mode: EAGAIN at once
        CHECK(errno == EAGAIN);
        CHECK(caller_nonblocking(a[0]));
        for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
        CHECK(std::all_of(std::begin(a), std::end(a), erased));
        CHECK(std::all_of(std::begin(b), std::end(b), erased));
    });
}

TEST_CASE("threads making, sharing and closing fds at once leave no description behind",
          "[monkey][fd_table][thread]") {
    std::size_t before = md::fd_descs_in_use();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([] {
            for (int i = 0; i < 2'000; ++i) {
                int sv[2];
                if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) continue;
                int d = ::dup(sv[i % 2]);
                timeval tv{1, 0};
                ::setsockopt(d, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                ::fcntl(sv[0], F_SETFL, O_NONBLOCK);
                ::close(sv[0]);
                ::close(d);
                ::close(sv[1]);
            }
        });
    for (std::thread& t : threads) t.join();
    // Fewer is possible (a number closed behind the hooks' back, now reused), more a leak.
    CHECK(md::fd_descs_in_use() <= before);
}
