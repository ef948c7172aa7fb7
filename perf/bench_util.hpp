// perf/bench_util.hpp — what perf/micro and perf/micro_sync share: the command line
// (--scale F, --rounds R, --only NAME, --warmup W), the clock, and bench(), which runs
// one benchmark W times untimed (memory the process has touched once stays mapped:
// later runs measure the runtime, not the kernel's page faults), then R times, and
// prints `name n=N ns_per_op=MEDIAN min=MIN rounds=R [extra()]`.
// Header-only, single-threaded use from main().
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace perf {

inline double g_scale = 1.0;
inline int g_rounds = 5;
inline int g_warmup = 0;
inline const char* g_only = nullptr;

inline void parse_args(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--scale")) g_scale = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--rounds")) g_rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--only")) g_only = argv[i + 1];
        else if (!std::strcmp(argv[i], "--warmup")) g_warmup = std::max(0, std::atoi(argv[i + 1]));
    }
}

inline bool want(const char* name) { return g_only == nullptr || std::strcmp(g_only, name) == 0; }

inline std::size_t scaled(std::size_t n) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(n) * g_scale));
}

inline double now_ns() {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs `once` (which returns ns per op) for every round and prints median and min;
// `extra` (asked after the rounds) adds key=value pairs, each with a leading space.
inline void bench(const char* name, std::size_t n, const std::function<double()>& once,
                  const std::function<std::string()>& extra = {}) {
    if (!want(name)) return;
    for (int w = 0; w < g_warmup; ++w) once();
    std::vector<double> v;
    for (int r = 0; r < g_rounds; ++r) v.push_back(once());
    std::sort(v.begin(), v.end());
    std::printf("%s n=%zu ns_per_op=%.2f min=%.2f rounds=%d%s\n", name, n, v[v.size() / 2], v.front(), g_rounds,
                extra ? extra().c_str() : "");
    std::fflush(stdout);
}

}  // namespace perf
