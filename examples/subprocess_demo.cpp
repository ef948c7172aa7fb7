// examples/subprocess_demo.cpp — gevent.subprocess in gev: ten `sleep 1` children
// waited for by ten fibers take about 1 s, not 10; and 10 MiB piped through `cat`
// (written and read back at once, by communicate) comes back byte for byte.
// Prints each check as `ok ...` or `FAILED ...` and exits 1 if any failed.
// Run: build/examples/subprocess_demo
#include "gev.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace sp = gev::subprocess;
using Clock = std::chrono::steady_clock;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok" : "FAILED", what.c_str());
    failures += !ok;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void ten_sleepers() {
    auto t0 = Clock::now();
    std::vector<gev::Greenlet<int>> waits;
    for (int i = 0; i < 10; ++i) waits.push_back(gev::spawn([] { return sp::Popen({"sleep", "1"}).wait(); }));
    gev::joinall(waits);
    double took = seconds_since(t0);
    int zero = 0;
    for (auto& w : waits) zero += w.get() == 0;
    check(zero == 10, "10 sleep 1 children exited 0 (" + std::to_string(zero) + "/10)");
    char line[96];
    std::snprintf(line, sizeof line, "10 sleep 1 children in %.2f s (concurrent: under 3 s)", took);
    check(took < 3.0, line);
}

void through_cat() {
    std::string data(10 << 20, '\0');
    std::uint32_t x = 2463534242u;   // xorshift: bytes cat cannot get right by accident
    for (char& c : data) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        c = static_cast<char>(x);
    }
    auto t0 = Clock::now();
    sp::Popen cat({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    auto [out, err] = cat.communicate(data);
    double took = seconds_since(t0);
    check(cat.returncode() == 0, "cat exited " + std::to_string(cat.returncode().value_or(-999)));
    char line[96];
    std::snprintf(line, sizeof line, "10 MiB through cat: %zu bytes back, identical: %s (%.3f s)", out.size(),
                  out == data ? "yes" : "no", took);
    check(out == data, line);
}

}  // namespace

int main() {
    return gev::run([] {
        auto t0 = Clock::now();
        ten_sleepers();
        through_cat();
        std::printf("total %.2f s\n", seconds_since(t0));
        return failures == 0 ? 0 : 1;
    });
}
