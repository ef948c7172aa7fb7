// examples/threads/counter_race.cpp — seed T4: where a race comes from when nothing
// preempts. 100 fibers each read the shared counter, sleep, and write back one less:
// every fiber reads 100 before any writes, so 99 updates are lost: "final num: 99".
// Differs from the Python: the seed's `num -= 1` reads and writes with no switch in
// between, so on one hub it could never lose an update (and with threads it is a data
// race, undefined in C++); this port moves the sleep between the read and the write,
// which is exactly the shape a Lock must cover (see lock_counter).
// Run: build/examples/counter_race [--fast]   (--fast: 10 ms instead of 1 s)
#include "gev.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

using namespace std::chrono_literals;

static gev::Duration nap = 1s;
static int num = 100;

void add_num() {
    int seen = num;
    std::printf("--get num: %d\n", seen);
    gev::sleep(nap);   // a switch point between the read and the write
    num = seen - 1;
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) nap = 10ms;
    return gev::run([] {
        std::vector<gev::Greenlet<>> threads;
        for (int i = 0; i < 100; ++i) threads.push_back(gev::spawn(add_num));
        gev::joinall(threads);
        std::printf("final num: %d\n", num);
    });
}
