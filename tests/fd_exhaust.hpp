// tests/fd_exhaust.hpp — running out of fds on purpose, for the fd-exhaustion tests of
// net/ and monkey/: RLIMIT_NOFILE's soft limit lowered a few above the fds open now and
// every free number below it taken, both given back at the end of the scope.
#pragma once

#include "support.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace gev::testing {

// How many fds can be opened now, below the limit (none is kept).
inline int free_fds() {
    std::vector<int> got;
    for (int fd; got.size() < 256 && (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) got.push_back(fd);
    for (int fd : got) ::close(fd);
    return static_cast<int>(got.size());
}

// Takes every free fd below the lowered limit but `spare`; release(n) frees n more.
class Exhausted {
public:
    explicit Exhausted(int spare = 0) {
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        rlimit low = saved_;
        low.rlim_cur = static_cast<rlim_t>(count_fds()) + 16;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
        for (int fd; fds_.size() < 256 && (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fds_.push_back(fd);
        REQUIRE(errno == EMFILE);
        release(spare);
        REQUIRE(free_fds() == spare);
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

}  // namespace gev::testing
