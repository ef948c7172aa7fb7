// examples/sync_vs_async.cpp — the seed's "synchronous vs asynchronous" demo (S1-4):
// nine 0.5 s tasks one after another (about 4.5 s), then ten spawned at once and
// joined (about 0.5 s). Equal deadlines fire in arming order, so the asynchronous
// lines come out 0..9.
// Run: build/examples/sync_vs_async [--delay MS]
#include "gev.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static std::chrono::milliseconds delay{500};

void task(int pid) {
    gev::sleep(delay);   // "some non-deterministic task"
    std::printf("Task %d done\n", pid);
}

void synchronous() {
    for (int i = 1; i < 10; ++i) task(i);
}

void asynchronous() {
    std::vector<gev::Greenlet<>> threads;
    for (int i = 0; i < 10; ++i) threads.push_back(gev::spawn(task, i));
    gev::joinall(threads);
}

static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--delay") == 0) delay = std::chrono::milliseconds(std::atoi(argv[i + 1]));
    return gev::run([] {
        auto t = std::chrono::steady_clock::now();
        std::puts("Synchronous:");
        synchronous();
        std::printf("Synchronous: %.2f s\n", seconds_since(t));
        t = std::chrono::steady_clock::now();
        std::puts("Asynchronous:");
        asynchronous();
        std::printf("Asynchronous: %.2f s\n", seconds_since(t));
    });
}
