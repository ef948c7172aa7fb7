// examples/threads/threads_basic.cpp — seed T1/T2: two ways to give a fiber its work.
// T1 hands a function and its argument to the constructor (gev::spawn(sayhi, 1));
// T2 subclasses Thread and overrides run() (here: an object whose run() is spawned).
// All four sleep 3 s at once, so the program takes about 3 s, not 12.
// Differs from the Python: spawn never switches, so the names print before any
// "running" line, and the fibers run in spawn order; the names are gev's
// ("Greenlet-<id>", not "Thread-1"); main joins the fibers instead of the interpreter
// waiting for non-daemon threads.
// Run: build/examples/threads_basic [--fast]   (--fast: 30 ms instead of 3 s)
#include "gev.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

using namespace std::chrono_literals;

static gev::Duration nap = 3s;

void sayhi(int num) {   // T1: the function each fiber runs
    std::printf("running on number:%d\n", num);
    gev::sleep(nap);
}

struct MyThread {   // T2: the work as an object with run()
    int num;
    void run() const {
        std::printf("running on number:%d\n", num);
        gev::sleep(nap);
    }
};

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--fast") == 0) nap = 30ms;
    return gev::run([] {
        auto start = std::chrono::steady_clock::now();
        auto t1 = gev::spawn(sayhi, 1);
        auto t2 = gev::spawn(sayhi, 2);
        std::printf("%s\n", t1.name().c_str());
        std::printf("%s\n", t2.name().c_str());
        auto t3 = gev::spawn(&MyThread::run, MyThread{3});
        auto t4 = gev::spawn(&MyThread::run, MyThread{4});
        gev::joinall({t1, t2, t3, t4});
        double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double slept = std::chrono::duration<double>(nap).count();
        std::printf("four sleeps of %g s took %.2f s in all\n", slept, took);
    });
}
