// examples/threads/semaphore.cpp — seed T7: BoundedSemaphore(5) lets at most five of
// the 20 fibers inside at once. They come out in four waves of five, 0..4, 5..9, ...,
// one second apart: a release hands its permit to the longest waiting fiber, and
// timers with equal deadlines fire in the order they were armed. The last line counts
// the most fibers ever inside together.
// Differs from the Python: main joins the fibers instead of busy-waiting on
// threading.active_count(), and prints the highest occupancy instead of the unused `num`.
// Run: build/examples/semaphore [--fast]   (--fast: 10 ms instead of 1 s)
#include "gev.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace std::chrono_literals;

static gev::Duration nap = 1s;
static gev::BoundedSemaphore semaphore(5);   // at most 5 fibers inside at once
static int inside = 0, most = 0;

void run(int n) {
    gev::Guard hold(semaphore);   // semaphore.acquire() ... semaphore.release()
    most = std::max(most, ++inside);
    gev::sleep(nap);
    std::printf("run the thread: %d\n\n", n);
    --inside;
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) nap = 10ms;
    return gev::run([] {
        std::vector<gev::Greenlet<>> threads;
        for (int i = 0; i < 20; ++i) threads.push_back(gev::spawn(run, i));
        gev::joinall(threads);
        std::printf("----all threads done---\n");
        std::printf("at most %d inside at once\n", most);
    });
}
