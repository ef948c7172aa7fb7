// tests/monkey/fd_exhaustion_test.cpp — out of fds under the hooks (RLIMIT_NOFILE's soft
// limit lowered here and every free number below it taken, restored after): the hooked
// socket, pipe, eventfd and a blocking accept on a fiber fail at once with -1 and EMFILE,
// as the C library's do, parking no one and leaving no fd-table description behind; once
// an fd is free the listener's pending connection is accepted and served.
#include "monkey_support.hpp"
#include "monkey/fd_table.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>

#include <cerrno>
#include <vector>

using namespace std::chrono_literals;
using namespace gev::testing;
namespace md = gev::monkey::detail;

namespace {

int free_fds() {
    std::vector<int> got;
    for (int fd; got.size() < 256 && (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) got.push_back(fd);
    for (int fd : got) ::close(fd);
    return static_cast<int>(got.size());
}

// Takes every free fd below a soft limit a few above those open now; gives them back,
// then the limit, at the end of its scope.
class Exhausted {
public:
    Exhausted() {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit low = saved_;
        low.rlim_cur = static_cast<rlim_t>(count_fds()) + 16;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
        for (int fd; fds_.size() < 256 && (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fds_.push_back(fd);
        REQUIRE(errno == EMFILE);
    }
    Exhausted(const Exhausted&) = delete;
    Exhausted& operator=(const Exhausted&) = delete;
    ~Exhausted() {
        release(static_cast<int>(fds_.size()));
        ::setrlimit(RLIMIT_NOFILE, &saved_);
    }
    void release(int n) {
        for (; n > 0 && !fds_.empty(); --n) {
            ::close(fds_.back());
            fds_.pop_back();
        }
    }

private:
    rlimit saved_{};
    std::vector<int> fds_;
};

}  // namespace

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
