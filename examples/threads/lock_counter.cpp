// examples/threads/lock_counter.cpp — seed T5: a Lock around the shared counter.
// 100 fibers, half of them on a second hub (thread), print the counter, sleep 1 s,
// then decrement it under a gev::Lock: "final num: 0", after about one sleep, not 100.
// Differs from the Python: the fibers run on two hubs, so the Lock really stands
// between two threads; for that reason the print reads the counter under the Lock too
// (an unlocked read racing a locked write is undefined behaviour in C++). `with lock:`
// is std::scoped_lock (or gev::Guard).
// Run: build/examples/lock_counter [--fast]   (--fast: 10 ms instead of 1 s)
#include "gev.hpp"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

using namespace std::chrono_literals;

static gev::Duration nap = 1s;
static int num = 100;   // guarded by `lock`
static gev::Lock lock;

void add_num() {
    {
        std::scoped_lock hold(lock);
        std::printf("--get num: %d\n", num);
    }
    gev::sleep(nap);
    std::scoped_lock hold(lock);   // lock.acquire() ... lock.release()
    num -= 1;
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) nap = 10ms;
    gev::RunOptions two_hubs;
    two_hubs.threads = 2;
    return gev::run([] {
        std::vector<gev::Greenlet<>> threads;
        for (int i = 0; i < 100; ++i) threads.push_back(i % 2 ? gev::spawn_on(1, add_num) : gev::spawn(add_num));
        gev::joinall(threads);
        std::scoped_lock hold(lock);
        std::printf("final num: %d\n", num);
    }, two_hubs);
}
