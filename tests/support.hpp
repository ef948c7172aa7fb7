// tests/support.hpp — running a test body inside the runtime.
// gev::testing::run runs `body` as the main fiber and rethrows what it threw, so
// REQUIRE works there; a failure in any other fiber fails the test too, unless the
// test takes over error reports with `failures`.
#pragma once

#include "gev.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace gev::testing {

// Reports of fibers that failed while a test ran.
struct Failures {
    std::vector<std::string> messages;
};

template <class F>
void run(F&& body, Failures* failures = nullptr) {
    std::vector<std::string> seen;
    RunOptions opts;
    opts.on_error = [&seen](const FailureReport& r) { seen.push_back(r.message); };
    gev::run(std::forward<F>(body), opts);
    if (failures != nullptr) {
        failures->messages = std::move(seen);
        return;
    }
    for (const std::string& m : seen) FAIL_CHECK("unexpected fiber failure: " << m);
}

// CPU time (user + system) this process has used, in seconds.
inline double cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// What a stress test divides its counts by: `divisor` under ThreadSanitizer, which
// slows every cross-thread step about 100x, else 1.
constexpr int tsan_scale([[maybe_unused]] int divisor) {
#if defined(__SANITIZE_THREAD__)
    return divisor;
#else
    return 1;
#endif
}

// gev::run's options for `n` hubs (threads).
inline RunOptions hubs(unsigned n) {
    RunOptions o;
    o.threads = n;
    return o;
}

// Sets an environment variable for one scope (no hub threads run while it changes).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old, had_ = true;
        ::setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (had_) ::setenv(name_, old_.c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

// Open fds of this process (the directory's own fd is counted every time, so
// counts compare).
inline int count_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n;
}

}  // namespace gev::testing
