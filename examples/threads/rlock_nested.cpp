// examples/threads/rlock_nested.cpp — seed T6: a re-entrant lock. run3 holds the RLock
// and calls run1 and run2, which take it again; with a plain Lock the second acquire
// would wait forever (gev reports that as LoopExit). Each of the 10 fibers prints one
// clean block with res == res2, its turn on the lock: 1 1, 2 2, ... 10 10.
// Differs from the Python: main joins the fibers instead of busy-waiting on
// threading.active_count() (a busy loop would never let a fiber run); and run3 yields
// between run1 and run2 while holding the lock, so the others really queue on it — they
// get it in FIFO order.
// Run: build/examples/rlock_nested
#include "gev.hpp"

#include <cstdio>
#include <mutex>
#include <vector>

using namespace std::chrono_literals;

static gev::RLock lock;
static int num = 0, num2 = 0;

int run1() {
    std::printf("grab the first part data\n");
    std::scoped_lock hold(lock);
    return ++num;
}

int run2() {
    std::printf("grab the second part data\n");
    std::scoped_lock hold(lock);
    return ++num2;
}

void run3() {
    std::scoped_lock hold(lock);
    int res = run1();
    std::printf("--------between run1 and run2-----\n");
    gev::sleep(0ns);   // the others run now, and wait for the lock
    int res2 = run2();
    std::printf("%d %d\n", res, res2);
}

int main() {
    return gev::run([] {
        std::vector<gev::Greenlet<>> threads;
        for (int i = 0; i < 10; ++i) threads.push_back(gev::spawn(run3));
        gev::joinall(threads);
        std::printf("----all threads done---\n");
        std::printf("%d %d\n", num, num2);
    });
}
